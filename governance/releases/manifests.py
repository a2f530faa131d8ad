"""Manifests: the exact versions a product is made of at one moment, and the hash over them.

Built for many products at once with a fixed number of queries, because one publish of a shared
document can cut releases for a thousand products in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.catalog.models import Component, ComponentKind, ComponentVersion, ProcessDocument, Product, ProductLink
from governance.kernel.canonical import content_sha256

MANIFEST_FORMAT = 1


SECTIONS = ("prompts", "suites", "documents", "processes")


def _entry(number: int, sha256: str) -> dict[str, Any]:
    return {"version": number, "sha256": sha256}


def build_manifests(session: Session, products: Sequence[Product]) -> dict[int, dict[str, Any]]:
    """The current manifest of each product, keyed by product id."""
    ids = [p.id for p in products]
    if not ids:
        return {}
    # Plain columns, not Component/ComponentVersion objects: a manifest needs names, numbers and hashes, and
    # loading every head as an object (with its content and joined owner and author) dominated a 1,000-product cut.
    heads = select(
        Component.id,
        Component.kind,
        Component.name,
        Component.product_id,
        ComponentVersion.number,
        ComponentVersion.sha256,
    ).join(
        ComponentVersion,
        (ComponentVersion.component_id == Component.id) & (ComponentVersion.number == Component.head_number),
    )
    manifests: dict[int, dict[str, Any]] = {
        p.id: {
            "format": MANIFEST_FORMAT,
            "product": p.slug,
            "model": dict(p.model),
            "prompts": {},
            "suites": {},
            "documents": {},
            "processes": {},
            "links": {"documents": [], "processes": []},
        }
        for p in products
    }
    for _id, kind, name, product_id, number, sha in session.execute(heads.where(Component.product_id.in_(ids))):
        manifests[product_id][f"{kind}s"][name] = _entry(number, sha)
    linked = session.execute(
        heads.add_columns(ProductLink.product_id)
        .join(ProductLink, ProductLink.component_id == Component.id)
        .where(ProductLink.product_id.in_(ids))
    ).all()
    process_products: dict[int, list[int]] = defaultdict(list)
    for component_id, kind, name, _owner, number, sha, product_id in linked:
        section = "documents" if kind == ComponentKind.document.value else "processes"
        manifests[product_id][section][name] = _entry(number, sha)
        manifests[product_id]["links"][section].append(name)
        if section == "processes":
            process_products[component_id].append(product_id)
    if process_products:
        reached = session.execute(
            heads.add_columns(ProcessDocument.process_id)
            .join(ProcessDocument, ProcessDocument.document_id == Component.id)
            .where(ProcessDocument.process_id.in_(list(process_products)))
        ).all()
        for _id, _kind, name, _owner, number, sha, process_id in reached:
            for product_id in process_products[process_id]:
                manifests[product_id]["documents"][name] = _entry(number, sha)
    for manifest in manifests.values():
        for section in ("documents", "processes"):
            manifest["links"][section].sort()
    return manifests


def manifest_hash(manifest: dict[str, Any]) -> str:
    return content_sha256(manifest)


def manifest_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """What differs between two manifests, component by component (``old`` None: everything is new)."""
    changes: list[dict[str, Any]] = []
    old = old or {}
    for section in SECTIONS:
        kind = section[:-1] if section != "processes" else "process"
        before, after = old.get(section, {}), new.get(section, {})
        for name in sorted(set(before) | set(after)):
            a, b = before.get(name), after.get(name)
            if a == b:
                continue
            change = "added" if a is None else "removed" if b is None else "changed"
            changes.append(
                {
                    "kind": kind,
                    "name": name,
                    "change": change,
                    "from_version": a["version"] if a else None,
                    "to_version": b["version"] if b else None,
                }
            )
    if old.get("model") != new.get("model"):
        changes.append(
            {
                "kind": "model",
                "name": "model",
                "change": "changed" if old else "added",
                "from": old.get("model"),
                "to": new.get("model"),
            }
        )
    if old and old.get("links") != new.get("links"):
        changes.append(
            {"kind": "links", "name": "links", "change": "changed", "from": old.get("links"), "to": new.get("links")}
        )
    return changes
