"""Embeddings for ``similar`` by embeddings: every method behind one call, and the OpenAI-compatible server's.

:class:`RunEmbeddings` is what a run hands its assertions (and its fairness analysis) as ``embed``: it sends
``openai:embedding:<model>`` to :class:`OpenAIEmbeddings` and ``local:<model>`` to
:class:`~evals.providers.local_embeddings.LocalEmbeddings`.

``openai:embedding:<model>`` goes through any OpenAI-compatible server: ``POST {base}/embeddings`` over aiohttp
(:mod:`evals.providers.openai_http`), with the run's OpenAI endpoint and key (the same as the chat calls'); the
session opens on first use, so a suite without embedding assertions opens none. Vectors are asked for as base64
(little-endian float32), as the ``openai`` SDK asks for them: a quarter of the bytes of JSON numbers. Each distinct
text is embedded once per run: a reference shared by a thousand cases costs one call. Failures are retried like the
SDK retried them, up to ``max_retries`` with the run's backoff, then raised as :class:`ProviderError`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from array import array
from collections.abc import Sequence

from evals.embedding_methods import EmbeddingMethod, EmbeddingsUnavailable
from evals.providers.base import ProviderError
from evals.providers.config import ProviderConfig
from evals.providers.local_embeddings import LocalEmbeddings
from evals.providers.openai_http import OpenAIEndpoint


class OpenAIEmbeddings:
    """``POST /v1/embeddings``; results cached by (model, text) for the run."""

    def __init__(self, config: ProviderConfig) -> None:
        self._config = config
        self._endpoint = OpenAIEndpoint(config, user="embeddings")
        self._cache: dict[tuple[str, str], asyncio.Future[list[float]]] = {}

    async def _embed(self, model: str, texts: list[str]) -> list[list[float]]:
        from evals.retry import RetryPolicy

        policy = RetryPolicy(
            max_retries=self._config.max_retries,
            initial_s=self._config.backoff_initial_s,
            max_s=self._config.backoff_max_s,
        )
        body = {"model": model, "input": texts, "encoding_format": "base64"}
        retry_number = 0
        while True:
            try:
                content = await self._endpoint.post("/embeddings", body)
                break
            except ProviderError as exc:
                if not policy.should_retry(retry_number, exc):
                    raise
                await asyncio.sleep(policy.delay(retry_number, exc))
                retry_number += 1
        return _vectors(content, len(texts))

    async def __call__(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """The embedding of each text, in order."""
        loop = asyncio.get_running_loop()
        missing = [t for t in dict.fromkeys(texts) if (model, t) not in self._cache]
        if missing:
            futures = {t: loop.create_future() for t in missing}
            self._cache.update({(model, t): f for t, f in futures.items()})
            try:
                vectors = await self._embed(model, missing)
            except BaseException as exc:
                for text, future in futures.items():
                    del self._cache[(model, text)]
                    future.set_exception(exc)
                    future.exception()  # retrieved here, so an unawaited one is not logged
                raise
            for text, vector in zip(missing, vectors, strict=True):
                futures[text].set_result(vector)
        return [await self._cache[(model, t)] for t in texts]

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._endpoint.aclose()


class RunEmbeddings:
    """The embeddings of one run, by method: the run's OpenAI-compatible server (online runs only) or a local model."""

    def __init__(self, openai: OpenAIEmbeddings | None, local: LocalEmbeddings | None = None) -> None:
        """``openai``: the server's embeddings, or None when the run makes no network calls."""
        self._openai = openai
        self._local = local if local is not None else LocalEmbeddings()
        self._offline: RunEmbeddings | None = None if openai is not None else self

    def without_network(self) -> RunEmbeddings:
        """The same embeddings for answers of an offline provider: local models only, sharing this run's cache."""
        if self._offline is None:
            self._offline = RunEmbeddings(None, self._local)
        return self._offline

    async def __call__(self, method: EmbeddingMethod, texts: Sequence[str]) -> list[list[float]]:
        """The embedding of each text by ``method``, in order.

        Raises:
            EmbeddingsUnavailable: The method cannot run here: a server's in a run without network, or a
                local one without the extra installed.
        """
        if method.kind == "local":
            return await self._local(method.model, texts)
        if self._openai is None:
            raise EmbeddingsUnavailable(
                f"no embeddings endpoint is configured for {method.spec} (an offline run makes no network calls)"
            )
        return await self._openai(method.model, texts)

    async def aclose(self) -> None:
        """Close the server's client and stop local encoding for this run."""
        if self._openai is not None:
            await self._openai.aclose()
        await self._local.aclose()


def _vectors(content: bytes, expected: int) -> list[list[float]]:
    """The vectors of an embeddings response in input order (by ``index``), base64 float32 or JSON numbers."""
    try:
        data = json.loads(content)["data"]
        items = sorted(data, key=lambda item: int(item["index"]))
        vectors = [_vector(item["embedding"]) for item in items]
    except (ValueError, KeyError, TypeError) as exc:
        snippet = content[:120].decode("utf-8", "replace")
        raise ProviderError(f"malformed embeddings response ({exc}): {snippet!r}", retryable=False) from None
    if len(vectors) != expected:
        raise ProviderError(
            f"the embeddings endpoint returned {len(vectors)} vectors for {expected} texts", retryable=False
        )
    return vectors


def _vector(embedding: object) -> list[float]:
    if isinstance(embedding, str):
        packed = array("f", base64.b64decode(embedding, validate=True))
        if sys.byteorder == "big":
            packed.byteswap()  # the wire format is little-endian
        return packed.tolist()
    if isinstance(embedding, list) and all(isinstance(x, int | float) for x in embedding):
        return [float(x) for x in embedding]
    raise TypeError(f"an embedding is {type(embedding).__name__}, not a list of numbers or base64 text")
