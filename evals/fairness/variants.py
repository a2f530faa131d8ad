"""Variants: each base case once per cue of each group of each dimension, everything else held fixed.

A base case's perturbed vars hold ``{slot}`` placeholders (``"{first_name} asks ..."``). For a dimension,
the variant of group g and cue k fills that dimension's slots with the k-th cue of g and every other
dimension's slots with their neutral values; each slot is also set as a var of its own, for templates
that use ``{{ first_name }}``. Variants replace their base case in the suite, so the runner, the cache,
chunking and concurrency treat them as the cases they are. Generation is deterministic, and a variant's
id says where it comes from: ``<base>~<dimension>~<group>~<k>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from evals.fairness.dimensions import Dimension, resolve
from evals.fairness.spec import FairnessSpec
from evals.suite import Case

SEPARATOR = "~"

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


@dataclass(frozen=True, slots=True)
class Variant:
    """Where a variant case comes from."""

    case_id: str
    base: str
    dimension: str
    group: str
    index: int


@dataclass(frozen=True)
class FairnessPlan:
    """The suite's resolved dimensions and every variant generated from its base cases."""

    spec: FairnessSpec
    dimensions: list[Dimension]
    variants: list[Variant]
    _by_id: dict[str, Variant] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {v.case_id: v for v in self.variants})

    def variant(self, case_id: str) -> Variant | None:
        """Where the case ``case_id`` comes from; None for a case that is no variant."""
        return self._by_id.get(case_id)


def variant_id(base: str, dimension: str, group: str, index: int) -> str:
    return SEPARATOR.join((base, dimension, group, str(index + 1)))


def _fill(text: str, pattern: re.Pattern[str], values: Mapping[str, str]) -> str:
    return pattern.sub(lambda m: values[m.group(1)], text)


def _slot_pattern(slots: list[str]) -> re.Pattern[str]:
    return re.compile(r"\{(" + "|".join(re.escape(s) for s in sorted(slots, key=len, reverse=True)) + r")\}")


def plan_variants(
    spec: FairnessSpec, cases: list[Case], base_vars: Mapping[str, object]
) -> tuple[FairnessPlan | None, list[Case], list[Problem]]:
    """Resolve the dimensions and generate the variants of ``cases``.

    Returns:
        The plan; the cases to run (each perturbed base case replaced by its variants, in order; the
        variants share their base's prepared assertions); and the problems found (paths from the suite's
        top level), in which case the plan is None.
    """
    problems: list[Problem] = []
    dimensions: list[Dimension] = []
    seen: set[str] = set()
    for i, dim_spec in enumerate(spec.dimensions):
        loc: Loc = ("fairness", "dimensions", i)
        if dim_spec.name in seen:
            problems.append(((*loc, "name"), f"dimension {dim_spec.name!r} is listed twice"))
            continue
        seen.add(dim_spec.name)
        resolved = resolve(dim_spec)
        if isinstance(resolved, Dimension):
            bad = [g for g in resolved.groups if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", g)]
            if bad:
                problems.append(((*loc, "groups"), f"group names must be letters, digits, '_', '.', '-': {bad}"))
            dimensions.append(resolved)
        else:
            problems.extend(((*loc, *sub), msg) for sub, msg in resolved)
    if problems:
        return None, [], problems

    all_slots = [slot for d in dimensions for slot in d.slots]
    pattern = _slot_pattern(all_slots)
    ids = [c.id for c in cases]
    wanted = set(spec.cases) if spec.cases is not None else None
    if spec.cases is not None:
        for j, case_id in enumerate(spec.cases):
            if case_id not in ids:
                problems.append((("fairness", "cases", j), f"unknown case {case_id!r}"))
    for j, name in enumerate(spec.vars):
        if name not in base_vars and not any(name in c.vars for c in cases):
            problems.append((("fairness", "vars", j), f"var {name!r} is set by neither the suite nor any case"))

    variants: list[Variant] = []
    out: list[Case] = []
    for i, case in enumerate(cases):
        case_id = case.id
        if wanted is not None and case_id not in wanted:
            out.append(case)
            continue
        merged = {**base_vars, **case.vars}
        texts = {name: merged[name] for name in spec.vars if isinstance(merged.get(name), str)}
        used = {m.group(1) for text in texts.values() for m in pattern.finditer(str(text))}
        if not used:
            if wanted is not None:
                problems.append((("cases", i, "vars"), f"no {{slot}} of the fairness dimensions in {list(spec.vars)}"))
            out.append(case)
            continue
        for dim in dimensions:
            if not used.intersection(dim.slots):
                continue
            neutral = {slot: value for d in dimensions if d is not dim for slot, value in d.neutral.items()}
            for group, cues in dim.groups.items():
                for k, cue in enumerate(cues):
                    values = {**neutral, **cue}
                    new_vars = {**case.vars, **values}
                    new_vars.update({name: _fill(str(text), pattern, values) for name, text in texts.items()})
                    vid = variant_id(case_id, dim.name, group, k)
                    update = {
                        "id": vid,
                        "vars": new_vars,
                        "tags": [*case.tags, f"fairness:{dim.name}={group}"],
                        "description": f"{case.description or case_id} [{dim.name}: {group} #{k + 1}]",
                    }
                    out.append(case.model_copy(update=update))
                    variants.append(Variant(vid, case_id, dim.name, group, k))
    if not variants and not problems:
        problems.append((("fairness", "vars"), "no case's perturbed vars hold a {slot} of the fairness dimensions"))
    elif not problems:
        tested = {v.dimension for v in variants}
        for i, dim in enumerate(dimensions):
            if dim.name not in tested:
                slots = ", ".join(f"{{{slot}}}" for slot in dim.slots)
                problems.append(
                    (
                        ("fairness", "dimensions", i, "name"),
                        f"no case's perturbed vars hold {slots}, so nothing tests it",
                    )
                )
    if problems:
        return None, [], problems
    return FairnessPlan(spec, dimensions, variants), out, []
