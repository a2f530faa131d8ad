"""Planning and applying a bundle: every item of a steward.yaml as one change, or none of it.

Applying works through the catalog's own publish functions, item by item, each in a savepoint so that one
refusal does not hide the next: every refusal, validation error and conflict is collected. Releases are
deferred to the end, so each affected product gets at most one release for the whole bundle (a new product's
first one with its suites). A plan is the same work rehearsed and undone (``UnitOfWork.rehearsal``), so it
says exactly what applying would do; applying with any problem raises, and the edge rolls everything back.

Conflicts follow ``kubectl apply``: the last-applied record keeps, per product and component, what the
product's bundle last applied. A head published since by other means (the API, the web app, another bundle)
is a conflict, shown with its diff against the file, unless the request forces it; each forced overwrite is
an audit event naming the version it replaced and its author.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from governance.accounts.models import User
from governance.audit.trail import record_event
from governance.bundles import repository as bundles_repo
from governance.bundles.models import AppliedComponent
from governance.bundles.render_check import unrenderable_suites
from governance.bundles.schemas import (
    Action,
    BundlePlan,
    BundleProblem,
    BundleRequest,
    ItemPlan,
    ReleasePlan,
)
from governance.catalog import components, content
from governance.catalog import repository as catalog_repo
from governance.catalog.links import product_links, set_product_links
from governance.catalog.models import Component, ComponentKind, ComponentVersion, Product
from governance.catalog.products import create_product, product_or_none, snapshot, update_product
from governance.catalog.schemas import ProductUpdate
from governance.kernel.canonical import content_sha256
from governance.kernel.db import utcnow
from governance.kernel.errors import Conflict, DomainError, FieldProblem, Forbidden, Invalid, NotFound
from governance.kernel.unit_of_work import unit_of
from governance.releases.cutting import cut_deferred, defer_cuts, stop_deferring
from governance.releases.models import Release

Publish = Callable[[], components.PublishResult]


def plan_bundle(session: Session, actor: User, request: BundleRequest) -> BundlePlan:
    """What applying ``request`` would do, item by item, with every problem; nothing is written."""
    with unit_of(session).rehearsal():
        return _Application(session, actor, request).run(applied=False)


def apply_bundle(session: Session, actor: User, request: BundleRequest) -> BundlePlan:
    """Apply the whole bundle in the caller's transaction, or raise naming every problem (the edge rolls back)."""
    plan = _Application(session, actor, request).run(applied=True)
    if plan.problems:
        raise _refusal(plan)
    return plan


def _refusal(plan: BundlePlan) -> DomainError:
    statuses = {problem.status for problem in plan.problems}
    error: type[DomainError]
    if 403 in statuses:
        error = Forbidden
    elif 409 in statuses:
        error = Conflict
    elif statuses == {404}:
        error = NotFound
    else:
        error = Invalid
    shown = "; ".join(f"{p.field}: {p.reason}" for p in plan.problems[:3])
    more = f" (and {len(plan.problems) - 3} more)" if len(plan.problems) > 3 else ""
    return error(
        f"the bundle of '{plan.product}' was not applied, nothing was written: {shown}{more}",
        problems=[FieldProblem(field=p.field, reason=p.reason) for p in plan.problems],
    )


def _within(field: str, inner: str) -> str:
    if not inner:
        return field
    return f"{field}{inner}" if inner.startswith("[") else f"{field}.{inner}"


def _diff_summary(diff: str) -> str:
    lines = diff.splitlines()
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return f"+{added} -{removed} lines"


class _Application:
    """One run over a bundle's items; ``run`` returns the plan, having written what applying writes."""

    def __init__(self, session: Session, actor: User, request: BundleRequest) -> None:
        self.session, self.actor, self.request = session, actor, request
        self.slug = request.product.slug
        self.items: list[ItemPlan] = []
        self.problems: list[BundleProblem] = []
        self.touched: list[tuple[Component, ComponentVersion]] = []
        self.product: Product | None = None

    def run(self, *, applied: bool) -> BundlePlan:
        self.product = product_or_none(self.session, self.slug)
        defer_cuts(self.session)
        try:
            self._items()
        except BaseException:
            stop_deferring(self.session)
            raise
        if not self.problems and self.product is not None:
            fields = {suite.name: f"suites[{index}]" for index, suite in enumerate(self.request.suites)}
            self.problems.extend(unrenderable_suites(self.session, self.product, fields))
        releases: list[ReleasePlan] = []
        if self.problems:
            stop_deferring(self.session)
        else:
            self._remember_applied()
            releases = self._cut()
        return BundlePlan(
            product=self.slug,
            applied=applied and not self.problems,
            items=self.items,
            releases=releases,
            problems=self.problems,
        )

    # -- the items, in the order their references need -------------------------------------------------------

    def _items(self) -> None:
        request, session, actor = self.request, self.session, self.actor
        for index, document in enumerate(request.documents):
            self._shared_item(
                f"documents[{index}]",
                ComponentKind.document,
                document.slug,
                content.document_content(document),
                document.expect_head,
                partial(components.publish_document, session, actor, document.slug, document),
            )
        for index, process in enumerate(request.processes):
            self._shared_item(
                f"processes[{index}]",
                ComponentKind.process,
                process.slug,
                content.process_content(process),
                process.expect_head,
                partial(components.publish_process, session, actor, process.slug, process),
            )
        self._attempt("product", "product", self.slug, self._product)
        for index, prompt in enumerate(request.prompts):
            self._owned_item(
                f"prompts[{index}]",
                ComponentKind.prompt,
                prompt.name,
                content.prompt_content(prompt),
                prompt.expect_head,
                partial(components.publish_prompt, session, actor, self.slug, prompt.name, prompt),
            )
        for index, suite in enumerate(request.suites):
            self._owned_item(
                f"suites[{index}]",
                ComponentKind.suite,
                suite.name,
                content.suite_content(suite),
                suite.expect_head,
                partial(components.publish_suite, session, actor, self.slug, suite.name, suite),
            )
        if request.links is not None:
            self._attempt("links", "links", self.slug, self._links)

    def _shared_item(
        self, field: str, kind: ComponentKind, slug: str, wanted: dict[str, Any], pin: str | None, publish: Publish
    ) -> None:
        self._attempt(field, kind, slug, partial(self._shared, field, kind, slug, wanted, pin, publish))

    def _owned_item(
        self, field: str, kind: ComponentKind, name: str, wanted: dict[str, Any], pin: str | None, publish: Publish
    ) -> None:
        self._attempt(field, kind, name, partial(self._owned, field, kind, name, wanted, pin, publish))

    def _attempt(self, field: str, kind: ComponentKind | str, name: str, step: Callable[[], ItemPlan | None]) -> None:
        """Run one item in a savepoint; a refusal is collected (with the item's place) and the item undone."""
        work = unit_of(self.session)
        deferred = work.deferred_cuts
        noted = (dict(deferred.products), len(deferred.causes)) if deferred is not None else None
        touched = len(self.touched)
        savepoint = self.session.begin_nested()
        try:
            plan = step()
        except DomainError as exc:
            savepoint.rollback()
            if deferred is not None and noted is not None:
                deferred.products = noted[0]
                del deferred.causes[noted[1] :]
            del self.touched[touched:]
            problems = exc.problems or [FieldProblem(field="", reason=exc.detail)]
            self.problems.extend(
                BundleProblem(field=_within(field, p.field), reason=p.reason, status=exc.status) for p in problems
            )
            self.items.append(ItemPlan(field=field, kind=str(kind), name=name, action="refused", summary=exc.detail))
            return
        savepoint.commit()
        if plan is not None:
            self.items.append(plan)

    def _shared(
        self,
        field: str,
        kind: ComponentKind,
        slug: str,
        wanted: dict[str, Any],
        pin: str | None,
        publish: Publish,
    ) -> ItemPlan:
        existing = catalog_repo.get_shared(self.session, kind, slug)
        return self._component(field, kind, slug, existing, wanted, pin, publish)

    def _owned(
        self,
        field: str,
        kind: ComponentKind,
        name: str,
        wanted: dict[str, Any],
        pin: str | None,
        publish: Publish,
    ) -> ItemPlan:
        if self.product is None:
            return ItemPlan(
                field=field,
                kind=kind.value,
                name=name,
                action="skipped",
                summary=f"the product '{self.slug}' is not registered",
            )
        existing = catalog_repo.get_owned(self.session, self.product.id, kind, name)
        return self._component(field, kind, name, existing, wanted, pin, publish)

    def _component(
        self,
        field: str,
        kind: ComponentKind,
        name: str,
        existing: Component | None,
        wanted: dict[str, Any],
        pin: str | None,
        publish: Publish,
    ) -> ItemPlan:
        sha = content_sha256(wanted)
        head = components.head_version(self.session, existing) if existing is not None else None
        item = ItemPlan(
            field=field,
            kind=kind.value,
            name=name,
            action="create",
            head=head.number if head else None,
            head_sha256=head.sha256 if head else None,
            head_author=head.author.name if head else None,
            sha256=sha,
        )
        if existing is not None and head is not None and head.sha256 == sha:
            self.touched.append((existing, head))
            return item.model_copy(
                update={"action": "unchanged", "version": head.number, "summary": f"version {head.number}"}
            )
        if head is not None:
            diff = content.unified_diff(kind, name, (head.number, head.content), (head.number + 1, wanted))
            item.diff = diff.replace(f"+++ {name}@v{head.number + 1}", f"+++ {name}@bundle", 1)
            item.summary = _diff_summary(item.diff)
        conflict = self._conflict(existing, head, pin)
        if conflict is not None and not self.request.force:
            self.problems.append(BundleProblem(field=field, reason=conflict, status=409))
            return item.model_copy(update={"action": "conflict", "summary": conflict})
        result = publish()
        self.touched.append((result.component, result.version))
        if conflict is not None and head is not None:
            self._audit_overwrite(kind, name, head, result.version, conflict)
            item.action = "overwrite"
        elif head is not None:
            item.action = "update"
        else:
            item.summary = "new"
        item.version = result.version.number
        return item

    def _conflict(self, component: Component | None, head: ComponentVersion | None, pin: str | None) -> str | None:
        """Why overwriting the head would lose someone else's change, or None."""
        if component is None or head is None:
            return f"expect_head {pin}: it has no version yet" if pin else None
        if pin is not None and not head.sha256.startswith(pin):
            return f"the head is version {head.number} (sha256 {head.sha256[:12]}), not the expected {pin}"
        if pin is not None:
            return None  # the caller reviewed exactly this head
        record = None
        if self.product is not None:
            record = bundles_repo.applied_records(self.session, self.product.id, [component.id]).get(component.id)
        by = f"version {head.number} (by {head.author.name})"
        if record is None:
            return f"{by} was not applied from the bundle of '{self.slug}'; applying would overwrite it"
        if record.sha256 != head.sha256:
            return (
                f"{by} was published outside the bundle of '{self.slug}' since it applied version "
                f"{record.version}; applying would overwrite it"
            )
        return None

    def _audit_overwrite(
        self, kind: ComponentKind, name: str, head: ComponentVersion, new: ComponentVersion, why: str
    ) -> None:
        record_event(
            self.session,
            actor=self.actor,
            action=f"{kind.value}.overwritten",
            subject_type=kind.value,
            subject=name if not kind.owned_by_product else f"{self.slug}/{name}",
            product_slug=self.slug,
            before={"version": head.number, "sha256": head.sha256, "author": head.author.name},
            after={"version": new.number, "sha256": new.sha256},
            reason=f"applied with force from the bundle of '{self.slug}': {why}",
        )

    def _product(self) -> ItemPlan:
        wanted = self.request.product
        if self.product is None:
            self.product = create_product(self.session, self.actor, wanted)
            return ItemPlan(
                field="product",
                kind="product",
                name=self.slug,
                action="create",
                summary=f"register ({wanted.risk_tier.value} risk, {wanted.lifecycle.value})",
            )
        current = snapshot(self.product)
        fields = wanted.model_dump(mode="json", exclude={"slug"}, exclude_none=True)
        changes = {key: value for key, value in fields.items() if current.get(key) != value}
        if not changes:
            return ItemPlan(field="product", kind="product", name=self.slug, action="unchanged")
        update_product(self.session, self.actor, self.slug, ProductUpdate.model_validate(changes))
        return ItemPlan(
            field="product",
            kind="product",
            name=self.slug,
            action="update",
            summary=", ".join(sorted(changes)),
            diff="".join(f"{key}: {current.get(key)!r} -> {value!r}\n" for key, value in sorted(changes.items())),
        )

    def _links(self) -> ItemPlan:
        wanted = self.request.links
        assert wanted is not None
        if self.product is None:
            return ItemPlan(
                field="links",
                kind="links",
                name=self.slug,
                action="skipped",
                summary=f"the product '{self.slug}' is not registered",
            )
        current = product_links(self.session, self.product.id)
        before = {
            "documents": sorted(c.name for c in current.documents),
            "processes": sorted(c.name for c in current.processes),
        }
        after = {"documents": sorted(wanted.documents), "processes": sorted(wanted.processes)}
        if before == after:
            return ItemPlan(field="links", kind="links", name=self.slug, action="unchanged")
        set_product_links(self.session, self.actor, self.slug, wanted)
        diff = "".join(
            f"{sign} {section[:-1] if section == 'documents' else 'process'} {name}\n"
            for section in ("documents", "processes")
            for sign, names in (
                ("-", set(before[section]) - set(after[section])),
                ("+", set(after[section]) - set(before[section])),
            )
            for name in sorted(names)
        )
        action: Action = "update" if before["documents"] or before["processes"] else "create"
        return ItemPlan(
            field="links", kind="links", name=self.slug, action=action, summary=_diff_summary(diff), diff=diff
        )

    # -- after the items -------------------------------------------------------------------------------------

    def _remember_applied(self) -> None:
        """Record, for this product's bundle, the content it now agrees with on every component it names."""
        assert self.product is not None
        ids = [component.id for component, _ in self.touched]
        records = bundles_repo.applied_records(self.session, self.product.id, ids)
        added = []
        now = utcnow()
        for component, version in self.touched:
            record = records.get(component.id)
            if record is None:
                record = AppliedComponent(product_id=self.product.id, component_id=component.id)
                records[component.id] = record
                added.append(record)
            record.sha256, record.version, record.applied_by, record.applied_at = (
                version.sha256,
                version.number,
                self.actor.name,
                now,
            )
        bundles_repo.add_records(self.session, added)

    def _cut(self) -> list[ReleasePlan]:
        changed = [item for item in self.items if item.action in ("create", "update", "overwrite")]
        reason = ", ".join(
            f"{item.kind} {item.name}" + (f" v{item.version}" if item.version else "") for item in changed
        )
        cause = {"kind": "bundle", "name": self.slug, "author": self.actor.name, "reason": reason}
        cut: list[Release] = cut_deferred(self.session, self.actor, cause)
        slugs = {p.id: p.slug for p in catalog_repo.products_by_ids(self.session, [r.product_id for r in cut])}
        return [
            ReleasePlan(
                product=slugs[release.product_id],
                number=release.number,
                state=str(release.state),
                suites=sorted(release.manifest["suites"]),
                error=release.error,
            )
            for release in cut
        ]
