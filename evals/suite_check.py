"""Checking a loaded suite the way a run would use it, without calling a model.

Every case's messages are rendered with its variables, so a misspelt variable, a template that does
not compile or a render that fails is found before a run, each at the case (and line) it concerns.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

from evals.run_errors import EvalConfigError
from evals.suite import Suite
from evals.suite_errors import SuiteErrorDetail
from evals.suite_loader import Loc, line_finder
from evals.templates import PromptRenderer, RenderError

_UNDEFINED = re.compile(r"'([^']+)' is undefined")


def did_you_mean(name: str, candidates: object) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    names = [str(c) for c in candidates] if isinstance(candidates, (list, set, tuple, dict)) else []
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def render_problems(
    suite: Suite,
    templates: Mapping[str, str],
    *,
    extra_vars: Mapping[str, object] | None = None,
    text: str | None = None,
) -> list[SuiteErrorDetail]:
    """What would go wrong rendering each case's messages, one detail per case (none when all render).

    Args:
        suite: The loaded suite.
        templates: Prompt texts by name (``suite.prompt`` among them).
        extra_vars: Variables a run would add (a bundle's documents and processes, ``--var``).
        text: The suite's source text, for line numbers.
    """
    line_of = line_finder(text)

    def detail(loc: Loc, case_id: str | None, message: str) -> SuiteErrorDetail:
        return SuiteErrorDetail(path=_path(loc), case_id=case_id, message=message, line=line_of(loc))

    problems: list[SuiteErrorDetail] = []
    for name in suite.prompt_names:
        # a case with a problem is reported once, for the first prompt that cannot render it
        reported = {p.case_id for p in problems}
        try:
            renderer = PromptRenderer(suite, templates, prompt=name)
        except EvalConfigError as exc:
            problems.append(detail((exc.field,), None, str(exc).removeprefix(f"{exc.field}: ")))
            continue
        base = {**suite.vars, **suite.defaults.vars}
        for i, case in enumerate(suite.cases):
            if case.id in reported:
                continue
            variables = {**base, **case.vars, **(extra_vars or {})}
            try:
                renderer.render(variables)
            except RenderError as exc:
                message = str(exc)
                missing = _UNDEFINED.search(message)
                if missing is not None:
                    message += did_you_mean(missing.group(1), list(variables))
                if len(suite.prompt_names) > 1:
                    message = f"prompt {name!r}: {message}"
                problems.append(detail(("cases", i, "vars"), case.id, message))
    return problems


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
