"""The shipped cue lists (``data/cues.yaml``, with their sources) and a suite's dimensions resolved against them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evals.fairness.spec import CueValue, DimensionSpec

CUES_FILE = Path(__file__).parent / "data" / "cues.yaml"


@dataclass(frozen=True)
class Dimension:
    """A dimension ready to generate variants: each group's cues as slot -> text, paired by position."""

    name: str
    slots: tuple[str, ...]
    neutral: dict[str, str]
    groups: dict[str, list[dict[str, str]]]
    sources: tuple[str, ...]
    description: str = ""

    @property
    def pairs(self) -> int:
        """How many matched sets of cues (one per group) there are."""
        return min(len(cues) for cues in self.groups.values())


@functools.cache
def shipped_cues() -> dict[str, Any]:
    """The shipped dimensions by name, as in the data file."""
    data = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
    dimensions: dict[str, Any] = data["dimensions"]
    return dimensions


def shipped_dimension_names() -> list[str]:
    return sorted(shipped_cues())


def _cue(value: CueValue, slots: tuple[str, ...]) -> dict[str, str] | str:
    """One cue as slot -> text, or an error message."""
    if isinstance(value, dict):
        missing = [s for s in slots if s not in value]
        extra = [k for k in value if k not in slots]
        if missing or extra:
            return f"a cue must give exactly the slots {list(slots)}, got {sorted(value)}"
        return {k: str(v) for k, v in value.items()}
    if len(slots) != 1:
        return f"a cue of a dimension with slots {list(slots)} must be a mapping of each slot"
    return {slots[0]: str(value)}


def resolve(spec: DimensionSpec) -> Dimension | list[tuple[tuple[str | int, ...], str]]:
    """The dimension ``spec`` describes, or its problems as (path inside the spec, message)."""
    shipped = shipped_cues().get(spec.name)
    if shipped is None and spec.groups is None:
        known = ", ".join(shipped_dimension_names())
        return [(("name",), f"unknown dimension {spec.name!r}; shipped: {known} (or give groups, slots and source)")]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if spec.groups is not None and not spec.source:
        problems.append((("source",), "a dimension with its own groups must cite its source"))
    slots = tuple(spec.slots or (shipped["slots"] if shipped else ()))
    if not slots:
        problems.append((("slots",), "a dimension of the suite's own must name its slots"))
        return problems
    raw_groups: dict[str, list[CueValue]] = spec.groups if spec.groups is not None else (shipped or {})["groups"]
    if len(raw_groups) < 2:
        problems.append((("groups",), "a dimension needs at least two groups to compare"))
    groups: dict[str, list[dict[str, str]]] = {}
    for group, values in raw_groups.items():
        if not values:
            problems.append((("groups", group), "a group needs at least one cue"))
            continue
        cues = []
        for i, value in enumerate(values[: spec.cues_per_group]):
            cue = _cue(value, slots)
            if isinstance(cue, str):
                problems.append((("groups", group, i), cue))
            else:
                cues.append(cue)
        groups[group] = cues
    if len({len(cues) for cues in groups.values()}) > 1:
        sizes = ", ".join(f"{g}: {len(c)}" for g, c in groups.items())
        problems.append((("groups",), f"groups are paired by position, so they need as many cues each ({sizes})"))
    neutral = dict(spec.neutral if spec.neutral is not None else (shipped or {}).get("neutral", {}))
    missing = [s for s in slots if s not in neutral]
    if missing:
        problems.append((("neutral",), f"no neutral value for slots {missing} (used while other dimensions vary)"))
    if problems:
        return problems
    sources = (spec.source,) if spec.source else tuple(shipped["sources"] if shipped else ())
    description = (shipped or {}).get("description", "") if spec.groups is None else ""
    return Dimension(spec.name, slots, neutral, groups, sources, description)
