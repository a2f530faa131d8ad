"""``steward apply``: publish a steward.yaml and the files it names to a running server, over HTTP.

Idempotent: what is unchanged is reported as unchanged and nothing new is created. Each item is its own
request (and transaction); the order (documents, processes, product, prompts, suites, links) means a failure
part-way leaves every earlier item published and consistent, and re-running finishes the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from service.cli.output import console, fail
from service.settings import get_settings

if TYPE_CHECKING:  # the CLI imports its heavy modules inside commands, so `steward eval` starts fast
    import httpx

    from service.bundle import Bundle


@dataclass
class Outcome:
    what: str
    state: str  # created | updated | unchanged
    detail: str = ""


class ApiError(Exception):
    def __init__(self, response: httpx.Response, what: str):
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text[:500]}
        reasons = "; ".join(f"{e.get('field')}: {e.get('reason')}" for e in body.get("errors", []))
        super().__init__(
            f"{what}: {response.status_code} {body.get('detail', '')}" + (f" ({reasons})" if reasons else "")
        )


class Applier:
    def __init__(self, client: httpx.Client, bundle: Bundle, *, dry_run: bool) -> None:
        self.client, self.bundle, self.dry_run = client, bundle, dry_run
        self.outcomes: list[Outcome] = []

    def _check(self, response: httpx.Response, what: str, ok: tuple[int, ...] = (200, 201)) -> httpx.Response:
        if response.status_code not in ok:
            raise ApiError(response, what)
        return response

    def _put_version(
        self, path: str, payload: dict[str, Any], what: str, current: dict[str, Any] | None = None
    ) -> None:
        if current is not None and current == {k: payload[k] for k in current}:
            self.outcomes.append(Outcome(what, "unchanged", "content equals the head"))
            return
        if self.dry_run:
            self.outcomes.append(Outcome(what, "would publish"))
            return
        body = self._check(self.client.put(path, json=payload), what).json()
        state = "created" if body["created"] else "unchanged"
        self.outcomes.append(Outcome(what, state, f"version {body['version']['number']}"))

    def _shared_head(self, kind: str, slug: str) -> dict[str, Any] | None:
        response = self.client.get(f"/api/v1/{kind}/{slug}")
        if response.status_code == 404:
            return None
        content: dict[str, Any] = self._check(response, f"{kind}/{slug}").json()["content"]
        return content

    def documents(self) -> None:
        for slug, doc in self.bundle.documents.items():
            head = self._shared_head("documents", slug)
            payload = doc.model_dump(exclude_none=True)
            current = {k: head[k] for k in ("title", "content", "content_type")} if head else None
            self._put_version(f"/api/v1/documents/{slug}", payload, f"document {slug}", current)

    def processes(self) -> None:
        for slug, process in self.bundle.processes.items():
            head = self._shared_head("processes", slug)
            payload = process.model_dump(exclude_none=True)
            current = None
            if head is not None:
                current = {**head, "documents": sorted(head["documents"])}
                payload = {**payload, "documents": sorted(payload["documents"])}
            self._put_version(f"/api/v1/processes/{slug}", payload, f"process {slug}", current)

    def product(self) -> None:
        product = self.bundle.product
        what = f"product {product.slug}"
        response = self.client.get(f"/api/v1/products/{product.slug}")
        if response.status_code == 404:
            if self.dry_run:
                self.outcomes.append(Outcome(what, "would create"))
                return
            self._check(self.client.post("/api/v1/products", json=product.model_dump(mode="json")), what)
            self.outcomes.append(Outcome(what, "created"))
            return
        current = self._check(response, what).json()
        wanted = product.model_dump(mode="json", exclude={"slug"}, exclude_none=True)
        changes = {k: v for k, v in wanted.items() if current.get(k) != v}
        if not changes:
            self.outcomes.append(Outcome(what, "unchanged"))
            return
        if self.dry_run:
            self.outcomes.append(Outcome(what, "would update", ", ".join(sorted(changes))))
            return
        self._check(self.client.patch(f"/api/v1/products/{product.slug}", json=changes), what)
        self.outcomes.append(Outcome(what, "updated", ", ".join(sorted(changes))))

    def owned(self) -> None:
        slug = self.bundle.product.slug
        for name, prompt in self.bundle.prompts.items():
            if self.dry_run:
                self.outcomes.append(Outcome(f"prompt {name}", "would publish if changed"))
                continue
            self._put_version(f"/api/v1/products/{slug}/prompts/{name}", prompt.model_dump(), f"prompt {name}")
        for name, suite in self.bundle.suites.items():
            if self.dry_run:
                self.outcomes.append(Outcome(f"suite {name}", "would publish if changed"))
                continue
            self._put_version(f"/api/v1/products/{slug}/suites/{name}", suite.model_dump(), f"suite {name}")

    def links(self) -> None:
        if self.bundle.links is None:
            return
        slug, wanted = self.bundle.product.slug, self.bundle.links.model_dump()
        what = f"links of {slug}"
        response = self.client.get(f"/api/v1/products/{slug}/links")
        if response.status_code == 200:
            current = response.json()
            if {k: sorted(v) for k, v in current.items()} == {k: sorted(v) for k, v in wanted.items()}:
                self.outcomes.append(Outcome(what, "unchanged"))
                return
        if self.dry_run:
            self.outcomes.append(Outcome(what, "would replace"))
            return
        self._check(self.client.put(f"/api/v1/products/{slug}/links", json=wanted), what)
        self.outcomes.append(Outcome(what, "updated"))

    def run(self) -> list[Outcome]:
        for step in (self.documents, self.processes, self.product, self.owned, self.links):
            step()
        return self.outcomes


def apply(
    file: Path = typer.Option(..., "-f", "--file", help="The steward.yaml to apply."),
    server: str = typer.Option(None, help="Steward server URL (default: STEWARD_SERVER_URL)."),
    token: str | None = typer.Option(None, help="API token (default: STEWARD_TOKEN).", show_default=False),
    message: str = typer.Option("", "-m", "--message", help="Version message for everything this publishes."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; publish nothing."),
) -> None:
    """Publish a product and its prompts, suites, documents and processes from files, through the API."""
    import httpx

    from service.bundle import BundleError, load_bundle

    settings = get_settings()
    server = server or settings.server_url
    token = token or (settings.token.get_secret_value() if settings.token else None)
    if not token:
        fail("no token: pass --token or set STEWARD_TOKEN", code=2)
    try:
        bundle = load_bundle(file)
    except BundleError as exc:
        fail(f"{file} cannot be applied:\n" + "\n".join(f"  {p}" for p in exc.problems), code=2)
    if message:
        for group in (bundle.documents, bundle.processes, bundle.prompts, bundle.suites):
            for payload in group.values():
                payload.message = message
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "steward-apply"}
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        applier = Applier(client, bundle, dry_run=dry_run)
        try:
            outcomes = applier.run()
        except ApiError as exc:
            _print(applier.outcomes)
            fail(str(exc))
        except httpx.HTTPError as exc:
            fail(f"cannot reach {server}: {exc}", code=2)
    _print(outcomes)
    changed = [o for o in outcomes if o.state != "unchanged"]
    if not changed:
        console.print("Nothing to do: everything is already published.")
    else:
        console.print(f"{len(changed)} change(s) applied." if not dry_run else f"{len(changed)} change(s) pending.")


def _print(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        console.print(f"  {outcome.state:<24} {outcome.what}" + (f"  ({outcome.detail})" if outcome.detail else ""))
