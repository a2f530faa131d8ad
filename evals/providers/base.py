"""What a model provider is: a registered factory that turns chat messages into a completion."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from evals.messages import Message
from evals.providers.config import ProviderConfig


@dataclass(slots=True)
class ChatRequest:
    """One chat completion to make.

    Attributes:
        messages: Rendered chat messages (``role``, ``content``).
        temperature: Sampling temperature, or None for the provider's default.
        max_tokens: Answer length limit, or None.
        seed: Sampling seed, or None.
        case_id: The case asking, so scripted providers can answer per case; None for judge calls.
    """

    messages: list[Message]
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    case_id: str | None = None


@dataclass(slots=True)
class Completion:
    """A provider's answer.

    Attributes:
        text: The answer's text.
        prompt_tokens: Tokens in the request, as the provider counted them (or estimated offline).
        completion_tokens: Tokens in the answer.
        cost_usd: What the call cost from the price table; None when the model has no price.
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None


class ProviderError(Exception):
    """A call failed; ``retryable`` says whether trying again may help (429, 5xx, timeouts).

    ``unreachable`` says no connection was made at all (refused, unknown host, TLS handshake): the request
    never reached a model. A timeout is not: it may have reached one.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        self.unreachable = unreachable


class ProviderSetupError(Exception):
    """The provider cannot work at all (SDK missing, no API key, no model): the run stops with an error."""


class ProviderUnreachable(ProviderSetupError):
    """No call to the provider has got through in this run, and one has now failed to connect on every attempt.

    A wrong base URL or a server that is down would otherwise cost every case its full round of retries
    (300 cases took three minutes to report the same refused connection 300 times): the run stops instead.
    ``provider`` names it (``openai:gpt-4o-mini``): the cases' model, or a judge's.
    """

    def __init__(self, message: str, *, provider: str) -> None:
        super().__init__(message)
        self.provider = provider


class Provider(Protocol):
    """A model endpoint.

    Attributes:
        name: Registered provider name, e.g. ``openai``.
        model: The model it calls.
        offline: True for providers that answer without any model (labelled as offline in reports).
        cacheable: Whether answers should go through the response cache.
    """

    name: str
    model: str
    offline: bool
    cacheable: bool

    async def complete(self, request: ChatRequest) -> Completion:
        """Answer one chat request; raise ProviderError on failure."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def spec_name(provider: Provider) -> str:
    """How reports name ``provider``: ``openai:gpt-4o-mini``; ``offline``, not ``offline:offline``, when the model
    is named after its provider."""
    return provider.name if provider.model in ("", provider.name) else f"{provider.name}:{provider.model}"


class ProviderFactory(Protocol):
    """Builds a provider: ``model`` may be None, ``scripted`` maps case ids to scripted outputs."""

    def __call__(self, model: str | None, config: ProviderConfig, *, scripted: Mapping[str, str]) -> Provider: ...


_F = TypeVar("_F", bound=ProviderFactory)
_REGISTRY: dict[str, ProviderFactory] = {}


def provider(name: str) -> Callable[[_F], _F]:
    """Register a provider factory under ``name``.

    The factory is called as ``factory(model, config, scripted=...)`` where ``model`` may be None,
    ``config`` is the caller's :class:`ProviderConfig` and ``scripted`` maps case ids to scripted outputs.
    """

    def register(factory: _F) -> _F:
        if name in _REGISTRY:
            raise ValueError(f"provider {name!r} is registered twice")
        _REGISTRY[name] = factory
        return factory

    return register


def provider_names() -> list[str]:
    """Every registered provider name, sorted."""
    return sorted(_REGISTRY)


def parse_provider_spec(spec: str) -> tuple[str, str | None]:
    """Split ``openai:gpt-4o-mini`` into ``("openai", "gpt-4o-mini")``; ``offline`` into ``("offline", None)``.

    Raises:
        ValueError: The spec is empty or has an empty part.
    """
    name, sep, model = spec.strip().partition(":")
    if not name or (sep and not model):
        raise ValueError(f"invalid provider {spec!r}; expected NAME or NAME:MODEL, e.g. openai:gpt-4o-mini")
    return name, (model or None)


def create_provider(
    spec: str,
    config: ProviderConfig,
    *,
    default_model: str | None = None,
    scripted: Mapping[str, str] | None = None,
) -> Provider:
    """Build the provider a spec names.

    Args:
        spec: ``NAME`` or ``NAME:MODEL``.
        config: Connection settings, limits and prices from the caller.
        default_model: Model to use when the spec names none (the suite's ``model.name``).
        scripted: Scripted outputs by case id (the offline provider answers these).

    Raises:
        ProviderSetupError: Unknown provider, or one that cannot be set up.
    """
    try:
        name, model = parse_provider_spec(spec)
    except ValueError as exc:
        raise ProviderSetupError(str(exc)) from None
    factory = _REGISTRY.get(name)
    if factory is None:
        raise ProviderSetupError(f"unknown provider {name!r}; known: {', '.join(provider_names())}")
    return factory(model or default_model, config, scripted=dict(scripted or {}))
