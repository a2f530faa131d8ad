"""Embeddings for ``similar`` by embeddings: every method behind one call, and the OpenAI-compatible server's.

:class:`RunEmbeddings` is what a run hands its assertions (and its fairness analysis) as ``embed``: it sends
``openai:embedding:<model>`` to :class:`OpenAIEmbeddings` and ``local:<model>`` to
:class:`~evals.providers.local_embeddings.LocalEmbeddings`.

``openai:embedding:<model>`` goes through any OpenAI-compatible server. One client per run, created on first
use with the run's OpenAI endpoint and key (the same as the chat calls'), so a suite without embedding
assertions never imports the SDK. Each distinct text is embedded once per run: a reference shared by a
thousand cases costs one call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from evals.embedding_methods import EmbeddingMethod, EmbeddingsUnavailable
from evals.providers.base import ProviderSetupError
from evals.providers.config import ProviderConfig
from evals.providers.local_embeddings import LocalEmbeddings

if TYPE_CHECKING:
    import openai


class OpenAIEmbeddings:
    """``POST /v1/embeddings`` through ``openai.AsyncOpenAI``; results cached by (model, text) for the run."""

    def __init__(self, config: ProviderConfig) -> None:
        self._config = config
        self._client: openai.AsyncOpenAI | None = None
        self._cache: dict[tuple[str, str], asyncio.Future[list[float]]] = {}

    def _connect(self) -> openai.AsyncOpenAI:
        if self._client is not None:
            return self._client
        try:
            import openai
        except ImportError:
            raise ProviderSetupError("embeddings need the openai package: pip install 'openai[aiohttp]'") from None
        key = self._config.openai_api_key
        try:
            self._client = openai.AsyncOpenAI(
                api_key=key.get_secret_value() if key is not None else None,
                base_url=self._config.openai_base_url,
                timeout=self._config.timeout_s,
                max_retries=self._config.max_retries,
            )
        except openai.OpenAIError as exc:
            raise ProviderSetupError(f"embeddings cannot start: {exc}") from None
        return self._client

    async def __call__(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """The embedding of each text, in order."""
        loop = asyncio.get_running_loop()
        missing = [t for t in dict.fromkeys(texts) if (model, t) not in self._cache]
        if missing:
            futures = {t: loop.create_future() for t in missing}
            self._cache.update({(model, t): f for t, f in futures.items()})
            try:
                response = await self._connect().embeddings.create(model=model, input=missing)
                vectors = [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
                if len(vectors) != len(missing):
                    raise ValueError(
                        f"the embeddings endpoint returned {len(vectors)} vectors for {len(missing)} texts"
                    )
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
        """Close the client and its connection pool."""
        if self._client is not None:
            await self._client.close()
            self._client = None


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
