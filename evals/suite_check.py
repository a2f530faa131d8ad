"""Checking a loaded suite the way a run would use it, without calling a model.

Every case's messages are rendered with its variables, so a misspelt variable, a template that does
not compile or a render that fails is found before a run, each at the case (and line) it concerns.
A document with shape problems is rendered too, as far as its well-formed parts go
(:func:`well_formed_part`), so every problem comes in one list.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

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
    case_index: Sequence[int] | None = None,
    budget_s: float | None = None,
) -> list[SuiteErrorDetail]:
    """What would go wrong rendering each case's messages, one detail per case (none when all render).

    Args:
        suite: The loaded suite.
        templates: Prompt texts by name (``suite.prompt`` among them).
        extra_vars: Variables a run would add (a bundle's documents and processes, ``--var``).
        text: The suite's source text, for line numbers.
        case_index: Where each of ``suite.cases`` is in the document, when not all of them are there
            (:attr:`WellFormedPart.case_index`); by default, in order.
        budget_s: Stop rendering after this many seconds (a server answering a request), with the problems
            found so far; each render is bounded by the template sandbox's own limits.
    """
    line_of = line_finder(text)
    deadline = None if budget_s is None else time.monotonic() + budget_s

    def detail(loc: Loc, case_id: str | None, message: str) -> SuiteErrorDetail:
        return SuiteErrorDetail(path=_path(loc), case_id=case_id, message=message, line=line_of(loc))

    problems: list[SuiteErrorDetail] = []
    for name in suite.prompt_names:
        # a case with a problem is reported once, for the first prompt that cannot render it
        reported = {p.case_id for p in problems}
        try:
            renderer = PromptRenderer(suite, templates, prompt=name)
        except EvalConfigError as exc:
            # at the line of the field that names the template; a prompt's message keeps the prompt's name
            message = str(exc) if exc.field.startswith("prompt ") else str(exc).removeprefix(f"{exc.field}: ")
            problems.append(detail(_template_field(suite, name, exc.field), None, message))
            continue
        base = {**suite.vars, **suite.defaults.vars}
        for i, case in enumerate(suite.cases):
            if deadline is not None and time.monotonic() >= deadline:
                return problems
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
                at = case_index[i] if case_index is not None else i
                problems.append(detail(("cases", at, "vars"), case.id, message))
    return problems


_MESSAGE_CONTENT = re.compile(r"messages\[(\d+)\]\.content")


def _template_field(suite: Suite, prompt: str, field: str) -> Loc:
    """Where in the document the template an EvalConfigError names comes from."""
    if (message := _MESSAGE_CONTENT.fullmatch(field)) is not None:
        return ("messages", int(message.group(1)), "content")
    if field == "system":
        return ("system",)
    if suite.prompts and prompt in suite.prompts:
        return ("prompts", suite.prompts.index(prompt))
    return ("prompt",)


@dataclass(frozen=True)
class WellFormedPart:
    """The parts of a suite document with no shape problem, as a suite, for the checks that render it."""

    suite: Suite
    case_index: list[int]
    """Where each of ``suite.cases`` is in the document (a case with a shape problem is left out)."""


# What a render reads. A shape problem anywhere else is set aside (the field dropped) for the render check; one in
# these (but a case's, or an assertion's) would make its results untrustworthy, so nothing is rendered.
_RENDERED = frozenset({"version", "prompt", "prompts", "system", "messages", "vars", "defaults", "cases"})


def well_formed_part(data: object) -> WellFormedPart | None:
    """The document without its malformed parts, checked as a suite; None when what a render reads is malformed.

    Dropped: a field the render does not read (``model``, ``threshold``, a case's ``weight``, an unknown key, ...),
    an assertion with a problem, a case whose ``id`` or ``vars`` is malformed; a malformed ``name`` is stood in
    for. Each drop can reveal another problem (a case left without its only assertion is still well formed), so
    this repeats a few times.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("cases"), list):
        return None
    doc: dict[str, Any] = dict(data)
    doc["cases"] = [dict(case) if isinstance(case, Mapping) else case for case in data["cases"]]
    case_index = list(range(len(doc["cases"])))
    for _ in range(4):
        try:
            suite = Suite.model_validate(doc)
        except ValidationError as exc:
            if not _set_aside(doc, case_index, [(tuple(error["loc"]), error["type"]) for error in exc.errors()]):
                return None
            continue
        return WellFormedPart(suite, case_index)
    return None


def _set_aside(doc: dict[str, Any], case_index: list[int], errors: list[tuple[Loc, str]]) -> bool:
    """Drop what each error points into (see :func:`well_formed_part`); False when that cannot be done."""
    drop_cases: set[int] = set()
    drop_asserts: dict[tuple[str | int, ...], set[int]] = {}
    for loc, kind in errors:
        head = loc[0] if loc else None
        if kind == "extra_forbidden" and len(loc) > 1 and _drop_key(doc, loc):
            continue  # an unknown key contributes nothing: the rest of its mapping stays
        if head == "cases" and len(loc) >= 2 and isinstance(loc[1], int):
            if len(loc) >= 4 and loc[2] == "asserts" and isinstance(loc[3], int):
                drop_asserts.setdefault(("cases", loc[1]), set()).add(loc[3])
            elif len(loc) >= 3 and loc[2] not in ("id", "vars", "asserts") and _drop_key(doc, loc[:3]):
                continue  # a field the render does not read (weight, repeat, tags, ...): the case stays
            else:
                drop_cases.add(loc[1])
        elif head == "defaults" and len(loc) >= 3 and loc[1] == "asserts" and isinstance(loc[2], int):
            drop_asserts.setdefault(("defaults",), set()).add(loc[2])
        elif head == "name":
            doc["name"] = "suite"
        elif isinstance(head, str) and head not in _RENDERED:
            doc.pop(head, None)
        else:
            return False
    for where, positions in drop_asserts.items():
        owner = doc["cases"][where[1]] if where[0] == "cases" else doc.get("defaults")
        if not isinstance(owner, Mapping) or not isinstance(owner.get("asserts"), list):
            return False
        kept = {**owner, "asserts": [a for j, a in enumerate(owner["asserts"]) if j not in positions]}
        if where[0] == "cases":
            doc["cases"][where[1]] = kept
        else:
            doc["defaults"] = kept
    for i in sorted(drop_cases, reverse=True):
        del doc["cases"][i]
        del case_index[i]
    return True


def _drop_key(doc: dict[str, Any], loc: Loc) -> bool:
    """Remove the key at ``loc``, copying each mapping or list on the way (the caller's data stays as it was)."""
    parent: Any = doc
    for part in loc[:-1]:
        try:
            child = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
        if isinstance(child, Mapping):
            child = dict(child)
        elif isinstance(child, list):
            child = list(child)
        else:
            return False
        parent[part] = child
        parent = child
    if not isinstance(parent, dict) or loc[-1] not in parent:
        return False
    del parent[loc[-1]]
    return True


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
