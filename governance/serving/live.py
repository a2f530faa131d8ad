"""The live release a running product fetches: exactly the versions two reviewers approved, or a refusal.

A conditional fetch (``If-None-Match``) costs one query (:func:`live_pointer`); the full release a few more,
whatever the number of components. A suspended product is refused (``Locked``, 423) before anything is read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from evals.templates import variables_used
from governance.accounts.models import User
from governance.accounts.users import require_serves
from governance.catalog.models import ComponentKind
from governance.kernel.errors import Locked, NotFound
from governance.releases.reading import get_release
from governance.serving import repository
from governance.serving.repository import LivePointer, VersionKey
from governance.serving.schemas import ContextShape, LiveReleaseView, PromptEntry

# Variables every prompt receives with the release; the application supplies the others.
RELEASE_VARIABLES = frozenset({"documents", "processes"})


def live_pointer(session: Session, actor: User, slug: str) -> LivePointer:
    """The product's live release, checked: the actor may read it, it is not suspended, and there is one.

    Raises:
        Forbidden: a runtime user asked for a product it does not serve.
        NotFound: no such product, or it has no live release.
        Locked: the product is suspended; the detail gives the reason.
    """
    return checked_pointer(actor, slug, repository.live_pointer(session, slug))


def checked_pointer(actor: User, slug: str, pointer: LivePointer | None) -> LivePointer:
    """``live_pointer``'s checks on a pointer already read (or remembered for a moment by the edge)."""
    require_serves(actor, slug)
    if pointer is None:
        raise NotFound(f"no product '{slug}'", field="slug")
    if pointer.suspension is not None:
        stop = pointer.suspension
        raise Locked(
            f"'{slug}' is suspended since {stop.suspended_at:%Y-%m-%d %H:%M} UTC by {stop.suspended_by}: {stop.reason}"
        )
    if pointer.release_id is None:
        raise NotFound(f"'{slug}' has no live release yet: nothing has been approved for employees")
    return pointer


def entity_tag(pointer: LivePointer) -> str:
    """A strong ETag: the manifest hash, with the release number (a later release may go live with equal content)."""
    return f'"r{pointer.release_number}-{pointer.manifest_hash}"'


def live_release(session: Session, pointer: LivePointer) -> LiveReleaseView:
    """Everything the running product needs, at the versions the live release's manifest names."""
    assert pointer.release_id is not None
    release = get_release(session, pointer.release_id)
    manifest = release.manifest
    keys: list[VersionKey] = [
        (release.product_id, ComponentKind.prompt.value, name, entry["version"])
        for name, entry in manifest["prompts"].items()
    ]
    for section, kind in (("documents", ComponentKind.document), ("processes", ComponentKind.process)):
        keys += [(None, kind.value, slug, entry["version"]) for slug, entry in manifest[section].items()]
    versions = repository.contents_of(session, keys)

    def shared(section: str, kind: ComponentKind) -> dict[str, dict[str, Any]]:
        return {
            slug: {
                **versions[(None, kind.value, slug, e["version"])].content,
                "version": e["version"],
                "sha256": e["sha256"],
            }
            for slug, e in sorted(manifest[section].items())
        }

    prompts = {
        name: PromptEntry(
            version=entry["version"],
            sha256=entry["sha256"],
            template=versions[(release.product_id, ComponentKind.prompt.value, name, entry["version"])].content[
                "template"
            ],
        )
        for name, entry in sorted(manifest["prompts"].items())
    }
    used = set().union(*(variables_used(p.template) for p in prompts.values())) if prompts else set()
    return LiveReleaseView(
        product=manifest["product"],
        release=release.number,
        release_id=release.id,
        manifest_hash=release.manifest_hash,
        went_live_at=release.state_changed_at,
        signed_off_by=repository.current_signer(session, release),
        approvers=repository.current_approvers(session, release),
        model=dict(manifest["model"]),
        prompts=prompts,
        documents=shared("documents", ComponentKind.document),
        processes=shared("processes", ComponentKind.process),
        context=ContextShape(
            documents=sorted(manifest["documents"]),
            processes=sorted(manifest["processes"]),
            variables=sorted(used - RELEASE_VARIABLES),
        ),
        manifest=manifest,
    )


def attestation_payload(live: LiveReleaseView) -> dict[str, Any]:
    """What Steward vouches for when it signs a live release: what went live, when, and who let it."""
    return {
        "product": live.product,
        "release": live.release,
        "manifest_hash": live.manifest_hash,
        "went_live_at": live.went_live_at.isoformat(),
        "signed_off_by": live.signed_off_by,
        "approvers": live.approvers,
    }
