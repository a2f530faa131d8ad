"""Manifests: the exact versions a product is made of at one moment, and the hash over them.

Built for many products at once with a fixed number of queries, because one publish of a shared
document can cut releases for a thousand products in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from governance.catalog import repository as components_repo
from governance.catalog.models import ComponentKind, Product
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
    for kind, name, product_id, number, sha in components_repo.owned_head_entries(session, ids):
        manifests[product_id][f"{kind}s"][name] = _entry(number, sha)
    process_products: dict[int, list[int]] = defaultdict(list)
    for component_id, kind, name, number, sha, product_id in components_repo.linked_head_entries(session, ids):
        section = "documents" if kind == ComponentKind.document.value else "processes"
        manifests[product_id][section][name] = _entry(number, sha)
        manifests[product_id]["links"][section].append(name)
        if section == "processes":
            process_products[component_id].append(product_id)
    if process_products:
        reached = components_repo.process_document_head_entries(session, list(process_products))
        for _id, _kind, name, number, sha, process_id in reached:
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
