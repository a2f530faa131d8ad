"""Domain errors. Each carries the HTTP status it maps to; the service renders them as problem+json."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One reason a request was refused, pointing at the field that caused it."""

    field: str
    reason: str


def field_path(location: Sequence[int | str]) -> str:
    """Where in a payload a validation error points, as people write it: ``documents[2].title``.

    Args:
        location: A pydantic error's ``loc``: field names and list indexes, outermost first.

    Returns:
        The path; empty for the payload as a whole.
    """
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


class DomainError(Exception):
    """Base of every refusal the domain makes on purpose."""

    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, problems: list[FieldProblem] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.problems = list(problems or [])
        if field is not None:
            self.problems.insert(0, FieldProblem(field=field, reason=detail))


class Unauthenticated(DomainError):
    status = 401
    title = "Not authenticated"


class Forbidden(DomainError):
    """The actor is known but their role or relation to the subject does not allow the action."""

    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate slug, an illegal transition)."""

    status = 409
    title = "Conflict"


class Locked(DomainError):
    """The subject is stopped on purpose (a suspended product): nothing is served until a human lifts it."""

    status = 423
    title = "Locked"


class NotAcceptable(DomainError):
    """None of the representations the client accepts can be given (content negotiation)."""

    status = 406
    title = "Not acceptable"


class Invalid(DomainError):
    """The payload is well-formed but its content breaks a rule (unknown slug, bad suite spec)."""

    status = 422
    title = "Invalid content"
