"""Model providers, registered by name; importing this package registers the built-in ones."""

from evals.providers import offline, openai_compatible  # noqa: F401  (registration)
from evals.providers.base import (
    ChatRequest,
    Completion,
    Provider,
    ProviderError,
    ProviderSetupError,
    ProviderUnreachable,
    create_provider,
    parse_provider_spec,
    provider,
    provider_names,
)
from evals.providers.config import DEFAULT_PRICES, ModelPrice, ProviderConfig

__all__ = [
    "DEFAULT_PRICES",
    "ChatRequest",
    "Completion",
    "ModelPrice",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "ProviderSetupError",
    "ProviderUnreachable",
    "create_provider",
    "parse_provider_spec",
    "provider",
    "provider_names",
]
