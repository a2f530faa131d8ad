"""Queries no single domain owns: primary keys taken ahead from a PostgreSQL sequence for batched inserts."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


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
    return list(
        session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table, "count": count},
        )
    )
