"""Queries no single domain owns: keyset pages of any table, and primary keys taken ahead for batched inserts."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from governance.kernel.pagination import Page, page_of

T = TypeVar("T")


def keyset_page(
    session: Session,
    query: Select[T],
    key: InstrumentedAttribute[int],
    *,
    after: int,
    limit: int,
    newest_first: bool = False,
) -> Page[T]:
    """One page of ``query``'s rows in ``key`` order, starting after the key the cursor carries.

    Keyset, not offset: a page costs the same however deep it is, and rows written meanwhile never shift it.

    Args:
        session: The caller's session.
        query: A select of one entity, filtered as the caller needs; this adds the key's bound, order and limit.
        key: A unique integer column of that entity (its id, an audit event's seq, a version's number).
        after: The key the previous page ended at (0: the first page). Newest first, the page starts below it.
        limit: Rows per page; one more is read only to tell whether a next page exists.
        newest_first: Descending key order.

    Returns:
        The page, with the cursor of the next one when there is one.
    """
    if newest_first:
        query = query.where(key < after) if after else query
        query = query.order_by(key.desc())
    else:
        query = query.where(key > after).order_by(key)
    rows = list(session.scalars(query.limit(limit + 1)))
    name = key.key
    return page_of(rows, limit, key=lambda row: int(getattr(row, name)))


def allocate_ids(session: Session, table: str, count: int) -> list[int] | None:
    """``count`` fresh primary keys of ``table`` from its PostgreSQL sequence in one query; None on SQLite.

    Rows inserted with their ids known need no RETURNING, so PostgreSQL receives them as one pipelined
    executemany of a short statement. With RETURNING, SQLAlchemy sends multi-row INSERTs whose text has a
    placeholder per value, and psycopg re-parses each of those long statements: for the thousands of rows of a
    1,000-product publish that parsing cost more than the database's work. SQLite has no such cost (and no
    sequences): its callers let the database assign ids as usual.
    """
    if count <= 0 or session.get_bind().dialect.name != "postgresql":
        return None
    parameters: dict[str, Any] = {"table": table, "count": count}
    return list(
        session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"), parameters
        )
    )
