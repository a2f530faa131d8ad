"""OpenAPI links: from what a response names to what can be done with it, for clients and stateful tests."""

from __future__ import annotations

from typing import Any

# Where a response leads: (method, path, status) -> {link name: (method, path, parameters)}. Paths are the API's,
# under its prefix. Clients (and stateful tests) follow these from what they made to what they can do with it.
Target = tuple[str, str, dict[str, str]]
SLUG_IN_BODY = {"slug": "$response.body#/slug"}
WEBHOOK_IN_BODY = {"webhook_id": "$response.body#/id"}
OWNED_IN_PATH = {"slug": "$request.path.slug", "name": "$request.path.name"}
SHARED_IN_PATH = {"slug": "$request.path.slug"}


def _published(plural: str, in_path: dict[str, str]) -> dict[str, Target]:
    base = "/products/{slug}/" + plural + "/{name}" if "name" in in_path else "/" + plural + "/{slug}"
    version = {**in_path, "number": "$response.body#/version/number"}
    return {
        "GetHead": ("get", base, in_path),
        "ListVersions": ("get", f"{base}/versions", in_path),
        "GetVersion": ("get", f"{base}/versions/{{number}}", version),
    }


def _product(slug: str) -> dict[str, Target]:
    """What can be done with a product, its slug found at ``slug`` (a runtime expression)."""
    at = {"slug": slug}
    return {
        "GetProduct": ("get", "/products/{slug}", at),
        "UpdateProduct": ("patch", "/products/{slug}", at),
        "GetLinks": ("get", "/products/{slug}/links", at),
        "CutRelease": ("post", "/products/{slug}/releases", at),
        "ListReleases": ("get", "/products/{slug}/releases", at),
    }


def _shared(kind: str, plural: str, slug: str) -> dict[str, Target]:
    at = {"slug": slug}
    return {
        "GetHead": ("get", f"/{plural}/{{slug}}", at),
        "ListVersions": ("get", f"/{plural}/{{slug}}/versions", at),
        "Impact": ("get", "/impact", {kind: slug}),
    }


def _release(body: str) -> dict[str, Target]:
    """What can be done with a release, by its product and number, found in the release at ``body`` (a runtime
    expression to the release object in the response)."""
    at = {"slug": f"{body}/product", "number": f"{body}/number"}
    base = "/products/{slug}/releases/{number}"
    return {
        "GetRelease": ("get", base, at),
        "SignOff": ("post", f"{base}/signoff", at),
        "Approve": ("post", f"{base}/approve", at),
        "Reject": ("post", f"{base}/reject", at),
        "RequestChanges": ("post", f"{base}/request-changes", at),
        "GoLive": ("post", f"{base}/go-live", at),
        "RerunRelease": ("post", f"{base}/rerun", at),
    }


LINKS: dict[tuple[str, str, str], dict[str, Target]] = {
    ("get", "/products", "200"): _product("$response.body#/items/0/slug"),
    ("get", "/products/{slug}", "200"): {
        **_product("$request.path.slug"),
        "GetPrompt": (
            "get",
            "/products/{slug}/prompts/{name}",
            {**SHARED_IN_PATH, "name": "$response.body#/prompts/0/name"},
        ),
        "GetSuite": (
            "get",
            "/products/{slug}/suites/{name}",
            {**SHARED_IN_PATH, "name": "$response.body#/suites/0/name"},
        ),
    },
    ("get", "/documents", "200"): _shared("document", "documents", "$response.body#/items/0/name"),
    ("get", "/processes", "200"): _shared("process", "processes", "$response.body#/items/0/name"),
    ("get", "/webhooks", "200"): {
        "ListDeliveries": ("get", "/webhooks/{webhook_id}/deliveries", {"webhook_id": "$response.body#/items/0/id"}),
    },
    ("post", "/products", "201"): {
        **_product("$response.body#/slug"),
        "PutLinks": ("put", "/products/{slug}/links", SLUG_IN_BODY),
        "PutPrompt": ("put", "/products/{slug}/prompts/{name}", SLUG_IN_BODY),
        "PutSuite": ("put", "/products/{slug}/suites/{name}", SLUG_IN_BODY),
    },
    **{
        (method, path, status): targets
        for method, path, targets in (
            ("put", "/products/{slug}/prompts/{name}", _published("prompts", OWNED_IN_PATH)),
            ("put", "/products/{slug}/suites/{name}", _published("suites", OWNED_IN_PATH)),
            ("put", "/documents/{slug}", _published("documents", SHARED_IN_PATH)),
            ("put", "/processes/{slug}", _published("processes", SHARED_IN_PATH)),
        )
        for status in ("200", "201")
    },
    ("post", "/products/{slug}/releases", "201"): _release("$response.body#"),
    ("get", "/products/{slug}/releases", "200"): _release("$response.body#/items/0"),
    **{
        ("get", path, "200"): {
            "GetRun": ("get", "/runs/{run_id}", {"run_id": "$response.body#/runs/0/id"}),
            "Rerun": ("post", "/runs/{run_id}/rerun", {"run_id": "$response.body#/runs/0/id"}),
        }
        for path in ("/releases/{release_id}", "/products/{slug}/releases/{number}")
    },
    ("post", "/runs/{run_id}/rerun", "201"): {
        "GetRun": ("get", "/runs/{run_id}", {"run_id": "$response.body#/id"}),
    },
    **{
        ("post", path, "201"): {"GetRun": ("get", "/runs/{run_id}", {"run_id": "$response.body#/0/id"})}
        for path in ("/releases/{release_id}/rerun", "/products/{slug}/releases/{number}/rerun")
    },
    ("post", "/users", "201"): {
        "IssueToken": ("post", "/users/{name}/tokens", {"name": "$response.body#/name"}),
    },
    ("post", "/users/{name}/tokens", "201"): {
        "RevokeToken": ("delete", "/tokens/{token_id}", {"token_id": "$response.body#/id"}),
    },
    ("post", "/webhooks", "201"): {
        "DisableWebhook": ("delete", "/webhooks/{webhook_id}", WEBHOOK_IN_BODY),
        "ListDeliveries": ("get", "/webhooks/{webhook_id}/deliveries", WEBHOOK_IN_BODY),
        "TestWebhook": ("post", "/webhooks/{webhook_id}/test", WEBHOOK_IN_BODY),
    },
    ("post", "/webhooks/{webhook_id}/test", "202"): {
        "ListDeliveries": ("get", "/webhooks/{webhook_id}/deliveries", {"webhook_id": "$request.path.webhook_id"}),
    },
}


def add_links(document: dict[str, Any], prefix: str) -> None:
    """Write ``LINKS`` into the document's responses, naming each target by its operationId."""
    paths = document["paths"]
    for (method, path, status), targets in LINKS.items():
        response = paths[prefix + path][method]["responses"][status]
        response["links"] = {
            name: {"operationId": paths[prefix + target][target_method]["operationId"], "parameters": parameters}
            for name, (target_method, target, parameters) in targets.items()
        }
