"""Finding components and publishing immutable versions of them.

Publishing compares the new canonical content with the head: identical content makes no version and says so;
different content becomes version head+1. Each component row is locked while it is published, so two
concurrent publishes never both become the same number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.accounts.roles import Role
from governance.accounts.users import get_user
from governance.audit.trail import begin_write, record_event
from governance.catalog import content as canonical
from governance.catalog import repository as components_repo
from governance.catalog.events import ComponentPublished
from governance.catalog.models import Component, ComponentKind, ComponentVersion, Product
from governance.catalog.permissions import (
    require_may_own_shared,
    require_product_publisher,
    require_shared_creator,
    require_shared_owner,
)
from governance.catalog.products import get_product
from governance.catalog.schemas import DocumentPublish, ProcessPublish, PromptPublish, SuitePublish
from governance.catalog.suites import validate_prompt_template, validate_suite_spec
from governance.kernel.canonical import content_sha256
from governance.kernel.errors import FieldProblem, Invalid, NotFound
from governance.kernel.events import publish
from governance.kernel.pagination import Page


@dataclass(frozen=True)
class PublishResult:
    component: Component
    version: ComponentVersion
    created: bool


def find_owned(session: Session, product: Product, kind: ComponentKind, name: str) -> Component:
    component = components_repo.get_owned(session, product.id, kind, name)
    if component is None:
        raise NotFound(f"product '{product.slug}' has no {kind.value} named '{name}'", field="name")
    return component


def find_shared(session: Session, kind: ComponentKind, slug: str) -> Component:
    component = components_repo.get_shared(session, kind, slug)
    if component is None:
        raise NotFound(f"no {kind.value} with slug '{slug}'", field="slug")
    return component


def get_version(session: Session, component: Component, number: int) -> ComponentVersion:
    version = components_repo.get_version(session, component.id, number)
    if version is None:
        raise NotFound(
            f"{component.kind} '{component.name}' has no version {number} (head is {component.head_number})",
            field="number",
        )
    return version


def head_version(session: Session, component: Component) -> ComponentVersion | None:
    if component.head_number == 0:
        return None
    return get_version(session, component, component.head_number)


def _get_or_create(session: Session, **identity: Any) -> Component:
    """The component with this identity, created if new; a concurrent creation of the same one is tolerated."""
    kind: ComponentKind = identity["kind"]

    def lookup() -> Component | None:
        if identity.get("product_id") is not None:
            return components_repo.get_owned(session, identity["product_id"], kind, identity["name"])
        return components_repo.get_shared(session, kind, identity["name"])

    existing = lookup()
    if existing is not None:
        return existing
    component = Component(**{**identity, "kind": kind.value})
    try:
        with session.begin_nested():
            session.add(component)
            session.flush()
    except IntegrityError:
        existing = lookup()
        if existing is None:
            raise
        return existing
    return component


def _publish(
    session: Session,
    actor: User,
    component: Component,
    content: dict[str, Any],
    message: str,
    *,
    product_slug: str | None,
) -> PublishResult:
    begin_write(session)
    component = components_repo.lock(session, component)
    sha = content_sha256(content)
    head = head_version(session, component)
    if head is not None and head.sha256 == sha:
        return PublishResult(component=component, version=head, created=False)
    version = ComponentVersion(
        component_id=component.id,
        number=component.head_number + 1,
        sha256=sha,
        content=content,
        author_id=actor.id,
        author=actor,
        message=message,
    )
    component.head_number = version.number
    session.add(version)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"{component.kind}.published",
        subject_type=component.kind,
        subject=component.name if product_slug is None else f"{product_slug}/{component.name}",
        product_slug=product_slug,
        before={"version": head.number, "sha256": head.sha256} if head else None,
        after={"version": version.number, "sha256": sha},
        reason=message,
    )
    return PublishResult(component=component, version=version, created=True)


def _released(session: Session, actor: User, result: PublishResult, product: Product | None) -> PublishResult:
    """A new head changes what products are made of: cut their releases in this same transaction."""
    if result.created:
        publish(session, ComponentPublished(actor, result.component, result.version, product))
    return result


def publish_prompt(session: Session, actor: User, product_slug: str, name: str, data: PromptPublish) -> PublishResult:
    product = get_product(session, product_slug)
    require_product_publisher(actor, product, action="publishing a prompt")
    validate_prompt_template(data.template, name)
    component = _get_or_create(session, kind=ComponentKind.prompt, product_id=product.id, name=name)
    result = _publish(
        session, actor, component, canonical.prompt_content(data), data.message, product_slug=product.slug
    )
    return _released(session, actor, result, product)


def publish_suite(session: Session, actor: User, product_slug: str, name: str, data: SuitePublish) -> PublishResult:
    product = get_product(session, product_slug)
    require_product_publisher(actor, product, action="publishing a suite")
    validate_suite_spec(data.spec, name)
    component = _get_or_create(session, kind=ComponentKind.suite, product_id=product.id, name=name)
    result = _publish(session, actor, component, canonical.suite_content(data), data.message, product_slug=product.slug)
    return _released(session, actor, result, product)


def _shared_for_publish(
    session: Session, actor: User, kind: ComponentKind, slug: str, owner_name: str | None
) -> Component:
    """Find or create a document or process the actor may publish, applying an owner change if asked."""
    existing = components_repo.get_shared(session, kind, slug)
    action = f"publishing a {kind.value}"
    if existing is None:
        require_shared_creator(actor, action=action)
        if owner_name not in (None, actor.name) and not actor.has_role(Role.admin):
            raise Invalid(f"only an admin may create a {kind.value} owned by someone else", field="owner")
        owner = _named_user(session, owner_name) if owner_name else actor
        require_may_own_shared(owner, kind.value)
        return _get_or_create(session, kind=kind, product_id=None, name=slug, owner_id=owner.id)
    require_shared_owner(actor, existing, action=action)
    if owner_name is not None and (existing.owner is None or owner_name != existing.owner.name):
        new_owner = _named_user(session, owner_name)
        require_may_own_shared(new_owner, kind.value)
        before = existing.owner.name if existing.owner else None
        existing.owner_id, existing.owner = new_owner.id, new_owner
        session.flush()
        record_event(
            session,
            actor=actor,
            action=f"{kind.value}.owner_changed",
            subject_type=kind.value,
            subject=slug,
            before={"owner": before},
            after={"owner": new_owner.name},
        )
    return existing


def _named_user(session: Session, name: str) -> User:
    try:
        return get_user(session, name)
    except NotFound as exc:
        raise Invalid(f"no user named '{name}'", field="owner") from exc


def publish_document(session: Session, actor: User, slug: str, data: DocumentPublish) -> PublishResult:
    component = _shared_for_publish(session, actor, ComponentKind.document, slug, data.owner)
    result = _publish(session, actor, component, canonical.document_content(data), data.message, product_slug=None)
    return _released(session, actor, result, None)


def publish_process(session: Session, actor: User, slug: str, data: ProcessPublish) -> PublishResult:
    documents = components_repo.get_shared_many(session, ComponentKind.document, data.documents)
    missing = [
        FieldProblem(field=f"documents[{index}]", reason=f"no document with slug '{doc_slug}'")
        for index, doc_slug in enumerate(data.documents)
        if doc_slug not in documents
    ]
    if missing:
        raise Invalid("the process references documents that do not exist", problems=missing)
    component = _shared_for_publish(session, actor, ComponentKind.process, slug, data.owner)
    result = _publish(session, actor, component, canonical.process_content(data), data.message, product_slug=None)
    if result.created:
        components_repo.replace_process_documents(session, component.id, (d.id for d in documents.values()))
        session.flush()
    return _released(session, actor, result, None)


def list_shared(session: Session, kind: ComponentKind, *, after: int, limit: int) -> Page[Component]:
    return components_repo.shared_page(session, kind, after=after, limit=limit)
