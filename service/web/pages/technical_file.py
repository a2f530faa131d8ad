"""A release's technical file in the web app, with a "compare with release N" selector showing two files side by side.

The body is the same template the API's HTML format prints (``_technical_file.html``); the comparison is the
API's per-section diff, laid out in two columns: the other release's file on the left, this one's on the right.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from itertools import zip_longest

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from governance.technical_file.comparing import compare, release_id_by_number, release_numbers
from governance.technical_file.freezing import technical_file
from governance.technical_file.rendering import section_markdown
from governance.technical_file.schemas import SECTIONS, TechnicalFile, TechnicalFileComparison, TechnicalFileDocument
from service.api.deps import DbSession
from service.web.routing import ReleaseAt, WebRoute, WebUser, render
from service.web.technical_file import PRINT_CSS, template_helpers

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@dataclass(frozen=True)
class Row:
    left: str | None
    right: str | None
    kind: str
    """same, chg, del (only on the left) or add (only on the right)."""


@dataclass(frozen=True)
class SideBySide:
    section: str
    title: str
    rows: list[Row]


def side_by_side(old: str, new: str) -> list[Row]:
    """Two texts line by line: equal lines beside each other, changed ones paired, the rest against a blank."""
    before, after = old.splitlines(), new.splitlines()
    rows: list[Row] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [Row(line, line, "same") for line in before[i1:i2]]
        elif tag == "delete":
            rows += [Row(line, None, "del") for line in before[i1:i2]]
        elif tag == "insert":
            rows += [Row(None, line, "add") for line in after[j1:j2]]
        else:
            rows += [Row(a, b, "chg") for a, b in zip_longest(before[i1:i2], after[j1:j2])]
    return rows


def changed_sections(old: TechnicalFile, new: TechnicalFile, comparison: TechnicalFileComparison) -> list[SideBySide]:
    changed = {diff.section for diff in comparison.sections if diff.changed}
    return [
        SideBySide(key, title, side_by_side(section_markdown(old, key), section_markdown(new, key)))
        for key, title, _ in SECTIONS
        if key in changed
    ]


@router.get("/products/{slug}/releases/{number}/technical-file")
def technical_file_page(
    release_id: ReleaseAt,
    request: Request,
    session: DbSession,
    user: WebUser,
    with_: int | None = Query(None, alias="with", ge=1, le=2**31 - 1),
) -> HTMLResponse:
    """The file, printable; with ``?with=N`` the sections that differ from release N's file, side by side."""
    years = request.app.state.settings.technical_file_retention_years
    document: TechnicalFileDocument = technical_file(session, release_id, retention_years=years)
    comparison = sections = None
    if with_ is not None:
        comparison = compare(session, release_id, with_)
        other = technical_file(session, release_id_by_number(session, release_id, with_), retention_years=years).file
        sections = changed_sections(other, document.file, comparison)
    context = {
        "document": document,
        "release_id": release_id,
        "others": release_numbers(session, release_id),
        "comparison": comparison,
        "side_by_side": sections,
        "print_css": PRINT_CSS,
        **template_helpers(),
    }
    return render(request, "technical_file_page.html", context)
