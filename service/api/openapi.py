"""The OpenAPI document tells the truth: every status an operation can answer, each error as problem+json.

FastAPI documents the success response of each route and a 422 in its own shape, which the API never sends. The
error statuses are derived here from what FastAPI knows of each operation (its security, parameters, body and
method), because the same middleware, dependencies and handlers produce them for every route alike; a route
adds what only it can answer (a 404 for a name in its query, say) with ``responses={404: {...}}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from service.api.links import add_links
from service.api.problems import PROBLEM_JSON, Problem

REF_PREFIX = "#/components/schemas/"

WRITES = frozenset({"post", "put", "patch", "delete"})
WITH_BODY = frozenset({"post", "put", "patch"})  # the methods whose body the size limit reads

# Why each status happens, as the document says it.
ERRORS: dict[int, str] = {
    400: "The body could not be read as text (it is not UTF-8).",
    401: "No token, or a token that is unknown or revoked.",
    403: "The caller's role, or relation to the subject, does not allow this.",
    404: "Something the request names does not exist.",
    409: "The request clashes with the current state (a duplicate, or a step the subject's state does not allow).",
    413: "The body is larger than the server's limit (STEWARD_MAX_BODY_BYTES).",
    422: "A parameter or the body is invalid; `errors` names each field and why.",
    503: "The database is unavailable or has no free connection; nothing was saved. Try again later.",
}

HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with: `Bearer`.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before trying again, when the server can tell.",
            "required": False,
            "schema": {"type": "string"},
        }
    },
}

# FastAPI's own 422 body, which the API replaces with a Problem.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def error_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses any operation of this shape can answer, whatever its handler does."""
    statuses: set[int] = set()
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        # Authentication reads the caller's token from the database.
        statuses |= {401, 403, 503}
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if parameters:
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 422}
    if method in WITH_BODY:
        # The body limit applies to every such request, and a JSON body is checked for text a database can store.
        statuses |= {413, 422}
    if method in WRITES and operation.get("security"):
        statuses.add(409)
    return statuses


def problem_declaration(status: int, declared: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": declared.get("description") or ERRORS.get(status, "An error."),
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"{REF_PREFIX}Problem"}}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def describe_errors(document: dict[str, Any]) -> None:
    """Declare every error status of every operation as a Problem, and drop FastAPI's validation error shapes."""
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            # FastAPI's generic 422 is replaced; a route's own description of another status is kept.
            fastapi_422 = responses.get("422", {}).get("description") == "Validation Error"
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in sorted(declared | error_statuses(method, operation)):
                own = {} if status == 422 and fastapi_422 else responses.get(str(status), {})
                responses[str(status)] = problem_declaration(status, own)
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    problem = Problem.model_json_schema(ref_template=REF_PREFIX + "{model}", mode="serialization")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    document["components"]["schemas"] = dict(sorted(schemas.items()))


class DocumentedAPI(FastAPI):
    """FastAPI whose OpenAPI document declares the API's errors and the links between its operations."""

    api_prefix = ""
    _described: dict[str, Any] | None = None

    def openapi(self) -> dict[str, Any]:
        document = super().openapi()
        if document is not self._described:  # FastAPI regenerates it when routes are added
            describe_errors(document)
            add_links(document, self.api_prefix)
            self._described = document
        return document
