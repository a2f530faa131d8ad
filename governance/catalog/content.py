"""Canonical content of each component kind: what is hashed, compared and diffed.

Two publishes with the same canonical content have the same sha256 and make no new version. Metadata that is
not behaviour (the commit message, the author, a document's owner) is deliberately left out."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import yaml

from governance.catalog.models import ComponentKind
from governance.catalog.schemas import DocumentPublish, ProcessPublish, PromptPublish, SuitePublish


def prompt_content(data: PromptPublish) -> dict[str, Any]:
    return {"template": data.template}


def suite_content(data: SuitePublish) -> dict[str, Any]:
    return {"spec": data.spec}


def document_content(data: DocumentPublish) -> dict[str, Any]:
    return {"title": data.title, "content": data.content, "content_type": data.content_type}


def process_content(data: ProcessPublish) -> dict[str, Any]:
    return {
        "name": data.name,
        "description": data.description,
        "steps": [step.model_dump() for step in data.steps],
        # The order in which a process lists its documents carries no meaning.
        "documents": sorted(data.documents),
    }


VersionedContent = tuple[dict[str, Any], int | str]
"""A document's or process's canonical content and the version it is (a number, or ``local`` for files)."""


def template_variables(
    documents: Mapping[str, VersionedContent], processes: Mapping[str, VersionedContent]
) -> dict[str, Any]:
    """The ``documents`` and ``processes`` variables a product's prompt templates are rendered with.

    Each is keyed by slug and holds the canonical content plus its ``version``, so a run on the server and a
    local ``steward eval run --bundle`` give templates exactly the same shape.

    Args:
        documents: Slug to (``document_content``, version) of every document the product reads.
        processes: Slug to (``process_content``, version) of every process it supports.

    Returns:
        ``{"documents": {...}, "processes": {...}}``, to merge into a run's extra variables.
    """
    return {
        "documents": {slug: {**content, "version": version} for slug, (content, version) in documents.items()},
        "processes": {slug: {**content, "version": version} for slug, (content, version) in processes.items()},
    }


def content_as_text(kind: ComponentKind, content: dict[str, Any]) -> str:
    """The text a reviewer reads and diffs for one version's content."""
    if kind is ComponentKind.prompt:
        return str(content["template"])
    if kind is ComponentKind.document:
        return f"title: {content['title']}\ncontent_type: {content['content_type']}\n---\n{content['content']}"
    if kind is ComponentKind.suite:
        return yaml.safe_dump(content["spec"], sort_keys=False, allow_unicode=True, width=100)
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=100)


def unified_diff(
    kind: ComponentKind, name: str, old: tuple[int, dict[str, Any]], new: tuple[int, dict[str, Any]]
) -> str:
    """A unified diff between two versions, labelled ``name@vN``."""
    (old_number, old_content), (new_number, new_content) = old, new
    lines = difflib.unified_diff(
        content_as_text(kind, old_content).splitlines(keepends=True),
        content_as_text(kind, new_content).splitlines(keepends=True),
        fromfile=f"{name}@v{old_number}",
        tofile=f"{name}@v{new_number}",
    )
    # difflib leaves a line without a trailing newline glued to the next header; keep the diff parseable.
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
