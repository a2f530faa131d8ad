"""The side-by-side diff: both texts survive whole, line for line, and only the words that changed are marked."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from service.web.sidebyside import fold, side_by_side, word_diff

lines = st.lists(st.text(alphabet="ab c,.\u00e9", max_size=12), max_size=12)


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(old=lines, new=lines)
def test_each_side_reads_as_its_own_text_in_order(old, new):
    view = side_by_side("\n".join(old), "\n".join(new))
    olds = [(row.old.number, row.old.text) for row in view.rows if row.old.number is not None]
    news = [(row.new.number, row.new.text) for row in view.rows if row.new.number is not None]
    assert olds == list(enumerate("\n".join(old).splitlines(), start=1))
    assert news == list(enumerate("\n".join(new).splitlines(), start=1))
    assert view.identical == (old == new or "\n".join(old).splitlines() == "\n".join(new).splitlines())


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(old=st.text(max_size=40), new=st.text(max_size=40))
def test_a_word_diff_keeps_both_lines_and_marks_nothing_they_share_wholly(old, new):
    left, right = word_diff(old, new)
    assert "".join(s.text for s in left) == old and "".join(s.text for s in right) == new
    if old == new:
        assert not any(s.changed for s in (*left, *right))


def test_a_changed_line_marks_the_changed_word_not_the_line():
    view = side_by_side(
        "title: Policy\nGoals are set yearly.\nkeep", "title: Policy\nGoals are set quarterly.\nkeep\nnew line"
    )
    kinds = [row.kind for row in view.rows]
    assert kinds == ["same", "changed", "same", "added"]
    changed = view.rows[1]
    assert [s.text for s in changed.old.segments if s.changed] == ["yearly"]
    assert [s.text for s in changed.new.segments if s.changed] == ["quarterly"]
    assert view.rows[3].old.number is None and view.rows[3].new.text == "new line"
    assert view.changed_rows == 2


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(old=lines, new=lines, context=st.integers(min_value=0, max_value=3))
def test_folding_keeps_every_change_and_counts_every_unchanged_line(old, new, context):
    whole = side_by_side("\n".join(old), "\n".join(new))
    folded = fold(whole, context)
    assert [r for r in folded.rows if r.kind not in ("same", "skip")] == [r for r in whole.rows if r.kind != "same"]
    same = sum(1 for r in folded.rows if r.kind == "same") + sum(r.skipped for r in folded.rows if r.kind == "skip")
    assert same == sum(1 for r in whole.rows if r.kind == "same")
    kinds = [r.kind for r in folded.rows]
    assert all(not (a == b == "skip") for a, b in itertools.pairwise(kinds))
    if whole.identical:
        assert folded.rows == whole.rows


def test_a_long_text_with_one_change_folds_to_the_change_and_its_neighbours():
    old = [f"clause {n}" for n in range(1, 41)]
    new = [*old[:19], "clause twenty, revised", *old[20:]]
    folded = fold(side_by_side("\n".join(old), "\n".join(new)), 3)
    assert [r.kind for r in folded.rows] == ["skip", "same", "same", "same", "changed", "same", "same", "same", "skip"]
    assert [r.skipped for r in folded.rows if r.kind == "skip"] == [16, 17]
