"""Suite specs and prompt templates are checked by the eval engine's own parser before they become a version."""

from __future__ import annotations

from typing import Any

from evals import SuiteError, check_syntax, parse_suite
from governance.kernel.errors import FieldProblem, Invalid


def validate_suite_spec(spec: dict[str, Any], name: str) -> None:
    """Refuse a suite the engine could not run, naming every problem by its path inside ``spec``."""
    try:
        suite = parse_suite(spec, source=f"suite '{name}'")
    except SuiteError as exc:
        problems = [
            FieldProblem(field=f"spec.{detail.path}" if detail.path else "spec", reason=detail.message)
            for detail in exc.errors
        ]
        raise Invalid(f"suite '{name}' is not a valid suite", problems=problems) from exc
    if suite.name != name:
        raise Invalid(f"the suite is published as '{name}' but names itself '{suite.name}'", field="spec.name")


def validate_prompt_template(template: str, name: str) -> None:
    """Refuse a prompt whose template the engine's sandbox could not compile, naming the line."""
    reason = check_syntax(template)
    if reason is not None:
        problems = [FieldProblem(field="template", reason=reason)]
        raise Invalid(f"prompt '{name}' is not a valid template: {reason}", problems=problems)
