"""Domain errors. Each carries the HTTP status it maps to; the service renders them as problem+json."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One reason a request was refused, pointing at the field that caused it."""

    field: str
    reason: str


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


class TooLarge(DomainError):
    status = 413
    title = "Content too large"


class Invalid(DomainError):
    """The payload is well-formed but its content breaks a rule (unknown slug, bad suite spec)."""

    status = 422
    title = "Invalid content"
