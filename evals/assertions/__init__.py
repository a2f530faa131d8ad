"""Assertions, registered by name; importing this package registers all the built-in ones."""

from evals.assertions import metrics, rouge, rubric, safety, structured, text  # noqa: F401  (registration)
from evals.assertions.registry import (
    ArgError,
    AssertionContext,
    AssertionDef,
    Judge,
    JudgeOptions,
    Verdict,
    assertion,
    assertion_names,
    get_assertion,
)

__all__ = [
    "ArgError",
    "AssertionContext",
    "AssertionDef",
    "Judge",
    "JudgeOptions",
    "Verdict",
    "assertion",
    "assertion_names",
    "get_assertion",
]
