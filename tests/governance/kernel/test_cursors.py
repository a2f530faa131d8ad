"""Keyset pagination cursors: opaque, round-tripping, and refused with a 422 naming ``cursor`` when forged."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from governance.kernel.errors import Invalid
from governance.kernel.pagination import decode_cursor, encode_cursor, page_of


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_a_cursor_round_trips_and_is_url_safe(after):
    cursor = encode_cursor(after)
    assert decode_cursor(cursor) == after
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("empty", [None, ""])
def test_no_cursor_is_the_first_page(empty):
    assert decode_cursor(empty) == 0


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        "a",  # impossible base64 length
        b64(b"not json"),
        b64(b"\xff\xfe\x00"),
        b64(json.dumps([1]).encode()),
        b64(json.dumps({"before": 1}).encode()),
        b64(json.dumps({"after": -1}).encode()),
        b64(json.dumps({"after": "1"}).encode()),
        b64(json.dumps({"after": 1.5}).encode()),
        b64(json.dumps({"after": None}).encode()),
        encode_cursor(12)[:-2] + "!!",
    ],
)
def test_malformed_cursors_are_a_422_naming_cursor(cursor):
    with pytest.raises(Invalid) as refused:
        decode_cursor(cursor)
    assert refused.value.status == 422
    assert [problem.field for problem in refused.value.problems] == ["cursor"]


@given(st.text(max_size=40))
@example("e30")  # "{}"
@example("W10")  # "[]"
@example("bnVsbA")  # "null"
def test_any_text_is_either_a_page_key_or_refused_as_invalid(cursor):
    try:
        after = decode_cursor(cursor)
    except Invalid as refused:
        assert refused.problems[0].field == "cursor"
    else:
        assert isinstance(after, int) and after >= 0


@given(json_values)
@example(True)
@example(False)
def test_a_decoded_payload_is_accepted_only_as_a_non_negative_integer(value):
    cursor = b64(json.dumps({"after": value}).encode())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        assert decode_cursor(cursor) == value
    else:
        with pytest.raises(Invalid):
            decode_cursor(cursor)


@given(
    rows=st.lists(st.integers(min_value=1, max_value=10**6), max_size=30, unique=True).map(sorted),
    limit=st.integers(min_value=1, max_value=10),
)
def test_paging_by_cursor_visits_every_row_exactly_once(rows, limit):
    seen, cursor = [], None
    for _ in range(len(rows) + 1):
        after = decode_cursor(cursor)
        # What a repository does: up to limit + 1 rows with a key after the cursor, in key order.
        page = page_of([row for row in rows if row > after][: limit + 1], limit, key=lambda row: row)
        assert 0 < len(page.items) <= limit or not rows
        seen.extend(page.items)
        cursor = page.next
        if cursor is None:
            break
    assert seen == rows
