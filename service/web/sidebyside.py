"""Two versions' text side by side, line against line, with the changed words inside changed lines marked.

The API's unified diff says which lines changed; a reviewer comparing two versions of a policy wants to see
which words did. Lines are paired with difflib; a replaced block pairs its lines in order, and each pair is
compared again word by word. Everything is server-rendered: the template marks removed words with ``<del>`` and
added ones with ``<ins>`` (a visible sign and a label too, never colour alone).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

# Words, runs of spaces, and single punctuation marks: a changed comma is marked alone, not with its word.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
MAX_ROWS = 3000
# Unchanged lines shown around a change when the comparison is folded.
CONTEXT = 3


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool


@dataclass(frozen=True)
class Side:
    number: int | None
    """The line's number in its version; None where the other side has a line and this one has none."""
    segments: tuple[Segment, ...] = ()

    @property
    def text(self) -> str:
        return "".join(segment.text for segment in self.segments)


@dataclass(frozen=True)
class Row:
    kind: str  # "same", "changed", "removed", "added", or "skip" for a run of unchanged lines folded away
    old: Side
    new: Side
    skipped: int = 0
    """How many unchanged lines a "skip" row stands for."""


@dataclass
class SideBySide:
    rows: list[Row] = field(default_factory=list)
    truncated: bool = False

    @property
    def identical(self) -> bool:
        return all(row.kind in ("same", "skip") for row in self.rows)

    @property
    def changed_rows(self) -> int:
        return sum(1 for row in self.rows if row.kind not in ("same", "skip"))

    @property
    def folded(self) -> bool:
        return any(row.kind == "skip" for row in self.rows)


def tokens(line: str) -> list[str]:
    return _TOKEN.findall(line)


def word_diff(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """The two lines as segments; those in only one of them are ``changed``. Joined, each side is its line."""
    a, b = tokens(old), tokens(new)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(Segment("".join(a[i1:i2]), False))
            right.append(Segment("".join(b[j1:j2]), False))
            continue
        if i2 > i1:
            left.append(Segment("".join(a[i1:i2]), True))
        if j2 > j1:
            right.append(Segment("".join(b[j1:j2]), True))
    return tuple(left), tuple(right)


def _whole(line: str) -> tuple[Segment, ...]:
    return (Segment(line, True),) if line else ()


def side_by_side(old_text: str, new_text: str) -> SideBySide:
    """Pair the lines of two texts: unchanged, changed (with word marks), only removed, only added."""
    old, new = old_text.splitlines(), new_text.splitlines()
    view = SideBySide()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                line = old[i1 + offset]
                same = (Segment(line, False),) if line else ()
                view.rows.append(Row("same", Side(i1 + offset + 1, same), Side(j1 + offset + 1, same)))
            continue
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for offset in range(pairs):
            left, right = word_diff(old[i1 + offset], new[j1 + offset])
            view.rows.append(Row("changed", Side(i1 + offset + 1, left), Side(j1 + offset + 1, right)))
        for index in range(i1 + pairs, i2):
            view.rows.append(Row("removed", Side(index + 1, _whole(old[index])), Side(None)))
        for index in range(j1 + pairs, j2):
            view.rows.append(Row("added", Side(None), Side(index + 1, _whole(new[index]))))
    if len(view.rows) > MAX_ROWS:
        view.rows, view.truncated = view.rows[:MAX_ROWS], True
    return view


def fold(view: SideBySide, context: int = CONTEXT) -> SideBySide:
    """Keep ``context`` unchanged lines around each change; longer unchanged runs become one "skip" row.

    A ten-page policy with one changed clause reads as that clause and its neighbours, as a unified diff does.
    """
    changed = [index for index, row in enumerate(view.rows) if row.kind != "same"]
    if not changed:
        return view
    keep = {i for index in changed for i in range(index - context, index + context + 1)}
    rows: list[Row] = []
    run = 0
    for index, row in enumerate(view.rows):
        if index in keep:
            if run:
                rows.append(Row("skip", Side(None), Side(None), skipped=run))
                run = 0
            rows.append(row)
        else:
            run += 1
    if run:
        rows.append(Row("skip", Side(None), Side(None), skipped=run))
    return SideBySide(rows=rows, truncated=view.truncated)
