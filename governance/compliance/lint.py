"""Document lint: personal data and special-category data (GDPR Art. 9) in a document, found when it is published.

Personal data is what the eval engine's ``no-pii`` assertion already finds (one definition of it); special
categories are keyword lists in ``rules/special_categories.yaml``. Findings are stored with the version; the
policy of the product's risk tier decides whether they warn or block go-live.
"""

from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from evals.assertions.safety import find_pii
from governance.catalog.events import ComponentPublished
from governance.catalog.models import ComponentKind
from governance.compliance.models import DocumentFindings
from governance.compliance.rulebook import special_categories
from governance.kernel.events import subscribe


class Finding(BaseModel):
    line: int = Field(description="1-based line of the document's content.")
    kind: str = Field(description="personal_data or special_category.")
    category: str = Field(description="email, phone, iban, national_id ... or health, religion, trade_union ...")
    reference: str
    excerpt: str = Field(description="What was found, masked for personal data.")


def _mask(value: str) -> str:
    return value[:2] + "*" * max(len(value) - 4, 1) + value[-2:] if len(value) > 4 else "*" * len(value)


@cache
def _category_patterns() -> dict[str, re.Pattern[str]]:
    return {
        category: re.compile(r"\b(" + "|".join(re.escape(word) for word in words) + r")\b", re.IGNORECASE)
        for category, words in special_categories().categories.items()
    }


def scan(text: str) -> list[Finding]:
    """Every finding in ``text``, line by line."""
    findings: list[Finding] = []
    article9 = special_categories().reference
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, match in find_pii(line):
            findings.append(
                Finding(
                    line=number,
                    kind="personal_data",
                    category=kind,
                    reference="GDPR Art. 4(1)",
                    excerpt=_mask(match.group(0)),
                )
            )
        for category, pattern in _category_patterns().items():
            for match in pattern.finditer(line):
                findings.append(
                    Finding(
                        line=number,
                        kind="special_category",
                        category=category,
                        reference=article9,
                        excerpt=match.group(0),
                    )
                )
    return findings


@subscribe(ComponentPublished)
def lint_published_document(session: Session, event: ComponentPublished) -> None:
    """A new document version is scanned in the publish's transaction, so its findings exist as soon as it does."""
    if event.component.kind != ComponentKind.document.value:
        return
    content = event.version.content
    text = f"{content.get('title', '')}\n{content.get('content', '')}"
    # The title is line 0 of what is scanned; findings count the content's own lines from 1.
    findings = [f.model_copy(update={"line": f.line - 1}) for f in scan(text)]
    session.add(DocumentFindings(version_id=event.version.id, findings=[f.model_dump() for f in findings]))
    session.flush()


def summarise(findings: list[dict[str, object]]) -> str:
    """One line per finding kind, for a gate's refusal: '2 special_category (health line 4, ...)'."""
    by_kind: dict[str, list[str]] = {}
    for finding in findings:
        by_kind.setdefault(str(finding["kind"]), []).append(f"{finding['category']} line {finding['line']}")
    return "; ".join(f"{len(items)} {kind} ({', '.join(items[:3])})" for kind, items in sorted(by_kind.items()))
