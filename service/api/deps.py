"""Request dependencies: the unit of work, the caller, paging. Typed aliases keep routes readable."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from governance.accounts.models import User
from governance.accounts.users import authenticate
from governance.kernel.errors import Invalid, NotFound
from governance.kernel.pagination import decode_cursor
from governance.kernel.unit_of_work import UnitOfWork
from service.database import begin_reading, transaction

# Requests that only read: their transaction takes no write lock (SQLite), so readers never queue behind writers.
# Whatever such a request must write (a browser session's seen-at) goes in a transaction of its own.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@contextmanager
def request_transaction(request: Request) -> Iterator[UnitOfWork]:
    """The request's one transaction: reading only for GET, HEAD and OPTIONS; committed, or rolled back on error."""
    with transaction(request.app.state.session_factory) as session:
        session.chunk_size = request.app.state.settings.chunk_size
        if request.method in READING_METHODS:
            begin_reading(session)
        yield session


def get_session(request: Request) -> Iterator[UnitOfWork]:
    """One transaction per request: committed before the response is sent, rolled back on any error."""
    with request_transaction(request) as session:
        yield session
    # Runs queued by this request are handed over only now that they are committed for a worker to find.
    queued = session.take_queued_chunks()
    if queued:
        request.app.state.executor.submit(queued)


DbSession = Annotated[UnitOfWork, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="An API token from `steward users create` or POST /users.")
# The bearer credentials alone, for a route that authenticates inside its own unit of work.
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_current_user(
    session: DbSession, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    return authenticate(session, credentials.credentials if credentials else None)


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_current_user_or_runtime(
    session: DbSession, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    return authenticate(session, credentials.credentials if credentials else None, runtime=True)


# The few operations a running product's runtime token may call: every other one refuses it.
CurrentUserOrRuntime = Annotated[User, Depends(get_current_user_or_runtime)]


class PageParams:
    def __init__(
        self,
        request: Request,
        limit: int = Query(50, ge=1, description="Items per page."),
        cursor: str | None = Query(None, description="The `next` value of the previous page."),
    ) -> None:
        maximum = request.app.state.settings.page_limit_max
        if limit > maximum:
            raise Invalid(f"must be at most {maximum}", field="limit")
        self.limit = limit
        self.after = decode_cursor(cursor)
        if self.after > LARGEST_ID:
            raise Invalid("is not a cursor this API returned", field="cursor")


Paging = Annotated[PageParams, Depends()]


# The largest id either database can hold: SQLite's INTEGER and PostgreSQL's BIGINT are both signed 64-bit.
LARGEST_ID = 2**63 - 1


def version_query(alias: str | None, description: str) -> Any:
    """A version number in the query: bounded as a database can hold it, so no lookup binds a larger one."""
    return Query(alias=alias, ge=1, le=LARGEST_ID, description=description)


FROM_VERSION = version_query("from", "The older version.")
TO_VERSION = version_query(None, "The newer version.")


async def ids_in_range(request: Request) -> None:
    """An id or version number in the path beyond what a database can hold names nothing: 404, not a 500.

    Runs for every route (API and web) before its handler, so no lookup ever binds an out-of-range integer.
    Async (it never blocks), so it costs no hop to the thread pool on every request.
    """
    for name, value in request.path_params.items():
        if not (name.endswith("_id") or name == "number") or not isinstance(value, str):
            continue
        digits = value.removeprefix("-")
        if digits.isdecimal() and int(digits) > LARGEST_ID:
            what = name.removesuffix("_id") if name != "number" else "version"
            raise NotFound(f"no {what} with id {value}" if name != "number" else f"no version {value}", field=name)


# A JSON escape of a UTF-16 surrogate; only a body holding one needs the slower check below.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _unpaired_surrogate_at(value: Any, path: str) -> str | None:
    """Where in a decoded JSON document a string holds an unpaired surrogate, as a field path; None if nowhere."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "body"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _unpaired_surrogate_at(key, path) or _unpaired_surrogate_at(item, f"{path}.{key}" if path else key)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _unpaired_surrogate_at(item, f"{path}[{index}]")
            if found:
                return found
    return None


async def text_is_unicode(request: Request) -> None:
    """JSON may escape half of a UTF-16 pair (``"\\ud800"``), which no database can store: a 422 naming the field."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    # JSON only: FastAPI has read a JSON body whole (and Starlette keeps it), while a form's stream is consumed.
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (media_type == "application/json" or media_type.endswith("+json")):
        return
    body = await request.body()
    if not _SURROGATE_ESCAPE.search(body):
        return
    try:
        document = json.loads(body)
    except ValueError:
        return  # not JSON: the body's own validation says so
    where = _unpaired_surrogate_at(document, "")
    if where is not None:
        raise Invalid("holds an unpaired UTF-16 surrogate, which is not text", field=where)
