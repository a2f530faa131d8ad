from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.kernel.errors import Invalid
from governance.kernel.pagination import decode_cursor, encode_cursor, page_of


@given(st.integers(min_value=0, max_value=2**62))
def test_cursor_round_trips(after):
    assert decode_cursor(encode_cursor(after)) == after


@pytest.mark.parametrize("cursor", ["garbage", "e30", encode_cursor(1)[:-2] + "!!", "eyJhZnRlciI6IC0xfQ"])
def test_foreign_cursors_are_refused(cursor):
    with pytest.raises(Invalid) as error:
        decode_cursor(cursor)
    assert error.value.problems[0].field == "cursor"


def test_page_has_next_only_when_more_rows_exist():
    assert page_of([1, 2, 3], 3, key=lambda x: x).next is None
    page = page_of([1, 2, 3, 4], 3, key=lambda x: x)
    assert page.items == [1, 2, 3] and decode_cursor(page.next) == 3


def test_keyset_pages_walk_every_row_once_in_either_direction(session):
    from sqlalchemy import select

    from governance.accounts.models import User
    from governance.accounts.roles import Role
    from governance.kernel.repository import keyset_page
    from tests.factories import make_user

    ids = sorted(make_user(session, Role.reviewer)[0].id for _ in range(5))
    query = select(User).where(User.id.in_(ids))
    for newest_first, expected in ((False, ids), (True, ids[::-1])):
        seen, after = [], 0
        while True:
            page = keyset_page(session, query, User.id, after=after, limit=2, newest_first=newest_first)
            seen.extend(user.id for user in page.items)
            if page.next is None:
                break
            after = decode_cursor(page.next)
        assert seen == expected
