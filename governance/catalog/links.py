"""Links: which documents and processes a product depends on."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.audit.trail import begin_write, record_event
from governance.catalog import repository as components_repo
from governance.catalog.events import ProductChanged
from governance.catalog.models import Component, ComponentKind
from governance.catalog.permissions import require_product_manager
from governance.catalog.products import get_product
from governance.catalog.schemas import ComponentView, LinksUpdate, ProductView, version_summary
from governance.kernel.errors import FieldProblem, Invalid
from governance.kernel.events import publish


@dataclass(frozen=True)
class ProductLinks:
    documents: list[Component]
    processes: list[Component]
    changed: bool = False


def product_links(session: Session, product_id: int) -> ProductLinks:
    linked = components_repo.linked_components(session, product_id)
    return ProductLinks(
        documents=[c for c in linked if c.kind == ComponentKind.document.value],
        processes=[c for c in linked if c.kind == ComponentKind.process.value],
    )


def reached_through_processes(session: Session, view: ProductView) -> list[ComponentView]:
    """The documents a product reads only through its processes, with their heads, by name (two queries).

    They are part of every release's manifest though the product never linked them, so its components table and
    graph show them too.
    """
    direct = {document.name for document in view.documents}
    names = sorted({name for process in view.processes for name in process.documents} - direct)
    found = components_repo.get_shared_many(session, ComponentKind.document, names)
    heads = components_repo.head_versions(session, found.values())
    views = []
    for name in names:
        component = found.get(name)
        if component is None:
            continue
        head = heads.get(component.id)
        views.append(
            ComponentView(
                kind=ComponentKind.document.value,
                name=name,
                owner=component.owner.name if component.owner else None,
                head=version_summary(head) if head else None,
            )
        )
    return views


def set_product_links(session: Session, actor: User, slug: str, data: LinksUpdate) -> ProductLinks:
    """Replace the product's set of linked documents and processes."""
    begin_write(session)
    product = get_product(session, slug, for_update=True)
    require_product_manager(actor, product, action="changing a product's links")
    documents = components_repo.get_shared_many(session, ComponentKind.document, data.documents)
    processes = components_repo.get_shared_many(session, ComponentKind.process, data.processes)
    problems = [
        FieldProblem(field=f"{field}[{index}]", reason=f"no {kind} with slug '{wanted}'")
        for field, kind, wanted_list, found in (
            ("documents", "document", data.documents, documents),
            ("processes", "process", data.processes, processes),
        )
        for index, wanted in enumerate(wanted_list)
        if wanted not in found
    ]
    if problems:
        raise Invalid("links name documents or processes that do not exist", problems=problems)
    before = product_links(session, product.id)
    before_view = {
        "documents": [c.name for c in before.documents],
        "processes": [c.name for c in before.processes],
    }
    after_view = {"documents": sorted(data.documents), "processes": sorted(data.processes)}
    if before_view == after_view:
        return before
    components_repo.replace_product_links(
        session, product.id, [c.id for c in documents.values()] + [c.id for c in processes.values()]
    )
    session.flush()
    record_event(
        session,
        actor=actor,
        action="product.links_changed",
        subject_type="product",
        subject=product.slug,
        product_slug=product.slug,
        before=before_view,
        after=after_view,
    )
    publish(
        session,
        ProductChanged(
            actor,
            product,
            {"kind": "links", "name": product.slug, "author": actor.name, "before": before_view, "after": after_view},
        ),
    )
    after = product_links(session, product.id)
    return ProductLinks(documents=after.documents, processes=after.processes, changed=True)
