"""Every error leaves the API as RFC 9457 problem+json naming the field and the reason."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from governance.kernel.errors import DomainError, FieldProblem, field_path

log = logging.getLogger("steward.api")

PROBLEM_JSON = "application/problem+json"

# How long a client should wait before retrying a request the database could not serve; a restarted
# PostgreSQL accepts connections again within seconds, and the pool reconnects on the next checkout.
DATABASE_RETRY_AFTER_SECONDS = 5


class ProblemField(BaseModel):
    """One reason a request was refused, pointing at the field that caused it."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="Where: a body path such as `documents[2].title`, a parameter name, or `body`.")
    reason: str = Field(description="Why, in words.")


class Problem(BaseModel):
    """An error response (RFC 9457 problem details), the body of every 4xx and 5xx the API sends."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(default="about:blank", description="Always `about:blank`: the status says what kind.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(ge=400, le=599, description="The HTTP status code, repeated.")
    detail: str = Field(description="What went wrong with this request, in words.")
    # Absent rather than null when there is nothing to say, hence kept out of the schema's types.
    instance: str | SkipJsonSchema[None] = Field(default=None, description="The request path.")
    errors: list[ProblemField] | SkipJsonSchema[None] = Field(
        default=None, description="Each field that was refused and why; absent when no field is to blame."
    )

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    problems: list[FieldProblem] | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance or None,
        errors=[ProblemField(field=p.field, reason=p.reason) for p in problems] if problems else None,
    )
    return JSONResponse(problem.body(), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_of(loc: tuple[int | str, ...]) -> str:
    # FastAPI says which part of the request first; the field is named within it.
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    return field_path(loc) or "body"


def validation_problems(errors: list[dict[str, Any]]) -> list[FieldProblem]:
    """The problems of a request FastAPI refused, each naming its field within the body, query, path or header."""
    problems = []
    for error in errors:
        reason = error.get("msg", "is invalid")
        if error.get("type") == "json_invalid":
            reason = f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})"
            problems.append(FieldProblem(field="body", reason=reason))
            continue
        if error.get("type") == "extra_forbidden":
            reason = "is not a field of this payload"
        problems.append(FieldProblem(field=_field_of(tuple(error.get("loc", ()))), reason=reason))
    return problems


def database_unavailable(exc: BaseException) -> bool:
    """Whether a database error is the database being away or busy (worth retrying), not a fault of the request.

    Connection refused or dropped, the server shutting down, lock and statement timeouts, deadlocks and
    serialization failures are all OperationalErrors (SQLite's "database is locked" too); a connection the
    driver had lost mid-statement is an InterfaceError or is flagged ``connection_invalidated``.
    """
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def database_unavailable_response(request: Request) -> JSONResponse:
    return problem_response(
        503,
        "the database is unavailable or busy, so the request was not completed; retry in a few seconds",
        instance=request.url.path,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def install_database_unavailable_handler(app: FastAPI) -> None:
    """A database outage is a 503 with Retry-After, not a 500: the request was fine and may simply be sent again.

    The unit of work rolls the transaction back before this runs, so nothing of the request is kept half-written.
    Any other database error is a fault of ours and still reaches the 500 handler.
    """

    @app.exception_handler(DBAPIError)
    async def _database_unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
        if not database_unavailable(exc):
            raise exc
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        return database_unavailable_response(request)


def install_problem_handlers(app: FastAPI) -> None:
    install_database_unavailable_handler(app)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(
            exc.status,
            exc.detail,
            instance=request.url.path,
            problems=exc.problems,
            title=exc.title,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = validation_problems(list(exc.errors()))
        summary = "; ".join(f"{p.field}: {p.reason}" for p in problems[:5])
        return problem_response(422, f"the request is invalid: {summary}", instance=request.url.path, problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no endpoint at {request.method} {request.url.path}"
        return problem_response(
            exc.status_code, detail, instance=request.url.path, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "an unexpected error occurred; nothing was saved", instance=request.url.path)


# Seconds a client is told to wait before retrying a request the server was too busy to take.
BUSY_RETRY_AFTER_SECONDS = 1


def busy_response(instance: str) -> JSONResponse:
    """503 with Retry-After: no database connection came free in time. The request did nothing; retry it."""
    return problem_response(
        503,
        "the server is busy: no database connection came free in time, nothing was done; retry shortly",
        instance=instance,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


def install_pool_exhausted_handler(app: FastAPI) -> None:
    """A request that waited ``STEWARD_DB_POOL_TIMEOUT_SECONDS`` for a pooled connection gets 503, not a hang."""

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("no database connection free in time for %s %s", request.method, request.url.path)
        return busy_response(request.url.path)
