"""The assertion registry: each assertion is a small function registered by name.

An assertion takes the model output, its prepared arguments and a context (latency, cost, a judge)
and returns a :class:`Verdict` that says why it passed or failed. Arguments are checked and prepared
once when a suite is parsed (a bad regex is a suite error, not a failure at run time), so the hot
path only calls the function.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeAlias, TypeVar, overload

from evals.embedding_methods import EmbeddingMethod
from evals.suite import AssertSpec

_A = TypeVar("_A")
"""An assertion's prepared arguments: what its ``prepare`` returns and its ``check`` takes."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an assertion concluded.

    Attributes:
        passed: Whether the output met the assertion.
        score: 0..1; 1 or 0 for yes/no assertions, the measured value for scored ones.
        reason: Why, in words a reviewer can act on.
    """

    passed: bool
    score: float
    reason: str


class ArgError(ValueError):
    """An assertion's arguments are unusable; ``field`` names the offending key (e.g. ``value``)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class JudgeOptions(Protocol):
    """What a judge reads of the assertion asking it (``llm-rubric``'s prepared arguments)."""

    @property
    def provider(self) -> str | None:
        """The judge provider this assertion asks for, e.g. ``openai:gpt-4o``; None for the run's judge."""
        ...


class Judge(Protocol):
    """Grades an output against a rubric with a model; used by ``llm-rubric``."""

    async def __call__(self, *, rubric: str, output: str, vars: Mapping[str, object], spec: JudgeOptions) -> Verdict:
        """Grade ``output`` against ``rubric`` (a template rendered with ``vars``)."""
        ...


class Embed(Protocol):
    """Embeds texts by an embedding method (a server's model or a local one); used by ``similar`` with one."""

    async def __call__(self, method: EmbeddingMethod, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order; raises ``EmbeddingsUnavailable`` if the method cannot run here."""
        ...


@dataclass(slots=True)
class AssertionContext:
    """What an assertion may look at besides the output.

    Attributes:
        latency_ms: How long the model call took (the original call's, for a cached answer).
        cost_usd: What the model call cost, or None when the price is unknown.
        vars: The case's template variables.
        judge: The judge for model-graded assertions, or None when none is configured.
        embed: The run's embeddings for ``similar`` by embeddings, or None when none are configured.
    """

    latency_ms: float | None = None
    cost_usd: float | None = None
    vars: Mapping[str, object] = field(default_factory=dict)
    judge: Judge | None = None
    embed: Embed | None = None


CheckFn: TypeAlias = Callable[[str, _A, AssertionContext], "Verdict | Awaitable[Verdict]"]
"""Grades an output given the prepared arguments; ``async`` for model-graded assertions."""
PrepareFn: TypeAlias = Callable[[AssertSpec], _A]
"""Checks an assertion's arguments once, at parse time, and prepares them; raises ArgError."""
ThresholdKind = Literal["none", "unit", "positive"]
"""What an assertion's ``threshold`` means: not allowed, a 0..1 score, or a limit >= 0."""


@dataclass(frozen=True, slots=True)
class AssertionDef(Generic[_A]):
    """A registered assertion.

    Attributes:
        name: The ``type`` suites use.
        check: The function that grades an output.
        prepare: Checks and pre-compiles the assertion's arguments from its spec; raises ArgError.
        is_async: Whether ``check`` must be awaited (model-graded assertions).
        threshold: What ``threshold`` means for it: ``none`` (not allowed), ``unit`` (a score
            between 0 and 1) or ``positive`` (a limit >= 0, such as milliseconds, dollars or an edit distance).
        description: One line for the docs and the schema.
    """

    name: str
    check: CheckFn[_A]
    prepare: PrepareFn[_A]
    is_async: bool
    threshold: ThresholdKind
    description: str


# Each assertion's prepared arguments have their own type, which only its prepare and check share.
_REGISTRY: dict[str, AssertionDef[Any]] = {}


def _value_as_is(spec: AssertSpec) -> Any:
    return spec.value


_C = TypeVar("_C", bound=CheckFn[Any])


@overload
def assertion(
    name: str,
    *,
    prepare: PrepareFn[_A],
    negation: str | None = None,
    threshold: ThresholdKind = "none",
) -> Callable[[CheckFn[_A]], CheckFn[_A]]: ...


@overload
def assertion(
    name: str,
    *,
    prepare: None = None,
    negation: str | None = None,
    threshold: ThresholdKind = "none",
) -> Callable[[_C], _C]: ...


def assertion(
    name: str,
    *,
    prepare: PrepareFn[_A] | None = None,
    negation: str | None = None,
    threshold: ThresholdKind = "none",
) -> Callable[[CheckFn[_A]], CheckFn[_A]]:
    """Register an assertion under ``name`` (and its negation under ``negation`` if given).

    Args:
        name: The ``type`` a suite uses, e.g. ``contains``.
        prepare: Validates and prepares arguments once at parse time; defaults to ``spec.value``.
        negation: Also register the inverted assertion under this name, e.g. ``not-contains``.
            The reason stays the same statement of fact; only the outcome flips.
        threshold: ``none``, ``unit`` (0..1 score threshold) or ``positive`` (a limit >= 0);
            ``prepare`` receives the spec and folds the threshold into the prepared arguments.

    Returns:
        The decorator, which returns the function unchanged. With ``prepare`` the function must take
        what ``prepare`` returns; without it, it gets ``spec.value`` (any value the suite gave).
    """

    def register(fn: CheckFn[_A]) -> CheckFn[_A]:
        is_async = inspect.iscoroutinefunction(fn)
        doc = (inspect.getdoc(fn) or "").split("\n", 1)[0]
        prepare_fn: PrepareFn[_A] = prepare or _value_as_is
        _add(AssertionDef(name, fn, prepare_fn, is_async, threshold, doc))
        if negation is not None:
            _add(AssertionDef(negation, _negate(fn, is_async), prepare_fn, is_async, threshold, f"Not: {doc}"))
        return fn

    return register


def _add(definition: AssertionDef[_A]) -> None:
    if definition.name in _REGISTRY:
        raise ValueError(f"assertion {definition.name!r} is registered twice")
    _REGISTRY[definition.name] = definition


def _flipped(verdict: Verdict) -> Verdict:
    return Verdict(not verdict.passed, 1.0 - verdict.score, verdict.reason)


def _negate(fn: CheckFn[_A], is_async: bool) -> CheckFn[_A]:
    if is_async:

        async def negated_async(output: str, args: _A, ctx: AssertionContext) -> Verdict:
            verdict = fn(output, args, ctx)
            return _flipped(verdict if isinstance(verdict, Verdict) else await verdict)

        return negated_async

    def negated(output: str, args: _A, ctx: AssertionContext) -> Verdict:
        verdict = fn(output, args, ctx)
        if not isinstance(verdict, Verdict):
            raise TypeError(f"a synchronous assertion returned {type(verdict).__name__}, not a Verdict")
        return _flipped(verdict)

    return negated


def get_assertion(name: str) -> AssertionDef[Any] | None:
    """The registered assertion called ``name``, or None."""
    return _REGISTRY.get(name)


def assertion_names() -> list[str]:
    """Every registered assertion name, sorted."""
    return sorted(_REGISTRY)
