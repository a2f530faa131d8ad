"""The rule files in ``rules/``, loaded and validated once at import: a broken rule file fails at startup.

The rules are data so that compliance can review them like any other change; this module only checks that they
say something Steward can apply (every declared use classified, every obligation's evidence form known).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from governance.catalog.models import RiskTier
from governance.catalog.schemas import HrUse

RULES_DIR = Path(__file__).parent / "rules"

Classification = Literal["prohibited", "high_risk", "not_high_risk", "minimal"]
Category = Literal["prohibited", "annex_iii_4a", "annex_iii_4b", "outside_annex_iii"]
Condition = Literal[
    "any_use_prohibited",
    "annex_iii_use_and_profiling",
    "annex_iii_use_and_derogation_condition",
    "annex_iii_use",
    "always",
]
EvidenceForm = Literal["informed", "overseers", "document", "release", "dpia", "assessment", "bias_audit"]
DerogationCondition = Literal[
    "narrow_procedural_task",
    "improves_completed_human_activity",
    "detects_patterns_without_replacing_assessment",
    "preparatory_task",
]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Article(_Data):
    reference: str = Field(min_length=1)
    text: str = Field(min_length=1)


class UseRule(_Data):
    label: str
    category: Category


class Derogation(_Data):
    conditions: dict[DerogationCondition, Article]
    profiling: Article
    assessment: Article


class TableRule(_Data):
    id: str
    when: Condition
    classification: Classification


class ClassificationRules(_Data):
    uses: dict[HrUse, UseRule]
    categories: dict[Category, Article]
    derogation: Derogation
    aedt: Article
    tiers: dict[Classification, RiskTier]
    rules: list[TableRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> ClassificationRules:
        missing = [use.value for use in HrUse if use not in self.uses]
        if missing:
            raise ValueError(f"uses without a rule: {', '.join(missing)}")
        if len(self.derogation.conditions) != 4:
            raise ValueError("derogation.conditions must list the four conditions of Art. 6(3)")
        if self.rules[-1].when != "always":
            raise ValueError("the last rule must be 'always', so every declared use is classified")
        return self


class Obligation(_Data):
    title: str
    reference: str
    applies_to: list[Classification]
    aedt: bool = False
    evidence: EvidenceForm
    valid_days: int | None = Field(default=None, ge=1)


class ObligationRules(_Data):
    obligations: dict[str, Obligation]


class SpecialCategories(_Data):
    reference: str
    categories: dict[str, list[str]]


def _load(name: str) -> object:
    with (RULES_DIR / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def classification_rules() -> ClassificationRules:
    return ClassificationRules.model_validate(_load("classification.yaml"))


@cache
def obligation_rules() -> ObligationRules:
    return ObligationRules.model_validate(_load("obligations.yaml"))


@cache
def special_categories() -> SpecialCategories:
    return SpecialCategories.model_validate(_load("special_categories.yaml"))


# Validated at import: a rule file that does not fit fails the process at startup, not a request later.
classification_rules()
obligation_rules()
special_categories()
