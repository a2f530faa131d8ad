"""Structured-output assertions: the output is JSON, optionally matching a JSON Schema."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from evals.assertions.registry import ArgError, AssertionContext, Verdict, assertion
from evals.suite import AssertSpec

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

# Models often wrap JSON in a Markdown fence even when told not to; one surrounding fence is
# tolerated so the assertion judges the JSON, not the formatting habit.
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def parse_json_output(output: str) -> object:
    """Parse ``output`` as JSON, ignoring one surrounding Markdown code fence.

    Raises:
        ValueError: The output is not JSON.
    """
    match = _FENCE.match(output)
    return json.loads(match.group(1) if match else output)


def _schema_validator(spec: AssertSpec) -> Draft202012Validator:
    schema = spec.value
    if not isinstance(schema, dict):
        raise ArgError("value", f"'{spec.type}' needs a JSON Schema object as value")
    # imported here: jsonschema costs a tenth of a second at start-up, and most suites never use it
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ArgError("value", f"invalid JSON Schema: {exc.message}") from exc
    return Draft202012Validator(schema)


def _optional_schema_validator(spec: AssertSpec) -> Draft202012Validator | None:
    return None if spec.value is None else _schema_validator(spec)


def _validate(output: str, validator: Draft202012Validator | None) -> Verdict:
    try:
        data = parse_json_output(output)
    except ValueError as exc:
        return Verdict(False, 0.0, f"output is not valid JSON: {exc}")
    if validator is None:
        return Verdict(True, 1.0, "output is valid JSON")
    error = next(iter(validator.iter_errors(data)), None)
    if error is None:
        return Verdict(True, 1.0, "output is valid JSON and matches the schema")
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return Verdict(False, 0.0, f"output JSON does not match the schema at {where}: {error.message}")


@assertion("is-json", prepare=_optional_schema_validator, negation="not-is-json")
def is_json(output: str, validator: Draft202012Validator | None, ctx: AssertionContext) -> Verdict:
    """The output is valid JSON (and matches the JSON Schema given as value, if any)."""
    return _validate(output, validator)


@assertion("json-schema", prepare=_schema_validator)
def json_schema(output: str, validator: Draft202012Validator, ctx: AssertionContext) -> Verdict:
    """The output is JSON that matches the JSON Schema given as value."""
    return _validate(output, validator)
