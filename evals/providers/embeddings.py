"""Embeddings for ``similar`` with ``method: openai:embedding:<model>``, through any OpenAI-compatible server.

One client per run, created on first use with the run's OpenAI endpoint and key (the same as the
chat calls'), so a suite without embedding assertions never imports the SDK. Each distinct text is
embedded once per run: a reference shared by a thousand cases costs one call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from evals.providers.base import ProviderSetupError
from evals.providers.config import ProviderConfig

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
