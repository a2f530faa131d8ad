"""Comparing the technical files of two releases of a product: a unified diff per section of their Markdown."""

from __future__ import annotations

import difflib

from sqlalchemy.orm import Session

from governance.kernel.errors import NotFound
from governance.releases.reading import get_release
from governance.technical_file import repository
from governance.technical_file.freezing import canonical_content, sha256_of, technical_file
from governance.technical_file.rendering import section_markdown
from governance.technical_file.schemas import SECTIONS, SectionDiff, TechnicalFile, TechnicalFileComparison


def section_diffs(old: TechnicalFile, new: TechnicalFile) -> list[SectionDiff]:
    """Each section of ``new`` against the same section of ``old``, as a unified diff (empty when equal)."""
    diffs = []
    for key, title, _ in SECTIONS:
        before = section_markdown(old, key).splitlines(keepends=True)
        after = section_markdown(new, key).splitlines(keepends=True)
        diff = "".join(
            difflib.unified_diff(before, after, f"release {old.release}/{key}", f"release {new.release}/{key}")
        )
        diffs.append(SectionDiff(section=key, title=title, changed=bool(diff), diff=diff))
    return diffs


def release_id_by_number(session: Session, release_id: int, number: int) -> int:
    """The id of release ``number`` of the same product as release ``release_id``.

    Raises:
        NotFound: the product has no release ``number``.
    """
    release = get_release(session, release_id)
    other = repository.release_by_number(session, release.product_id, number)
    if other is None:
        raise NotFound(f"the product has no release {number} to compare with", field="with")
    return other.id


def compare(session: Session, release_id: int, with_number: int) -> TechnicalFileComparison:
    """The technical file of a release against that of release number ``with_number`` of the same product.

    Raises:
        NotFound: no such release, no release ``with_number`` of its product, or a file purged after retention.
    """
    ours = technical_file(session, release_id).file
    theirs = technical_file(session, release_id_by_number(session, release_id, with_number)).file
    return TechnicalFileComparison(
        product=ours.product,
        release=ours.release,
        compared_with=theirs.release,
        sha256=sha256_of(canonical_content(ours)),
        compared_sha256=sha256_of(canonical_content(theirs)),
        sections=section_diffs(theirs, ours),
    )


def release_numbers(session: Session, release_id: int) -> list[int]:
    """The numbers of the other releases of the release's product, newest first: what it may be compared with."""
    release = get_release(session, release_id)
    return [n for n in repository.release_numbers(session, release.product_id) if n != release.number]
