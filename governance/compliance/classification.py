"""Classify a declared HR use under the AI Act, article by article, and say which obligations follow.

A pure function of the declared use and the rule files: the same use always gives the same classification, so
a test can walk every rule of the table.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from governance.catalog.models import RiskTier
from governance.catalog.schemas import DeclaredUse, HrUse
from governance.compliance.rulebook import (
    Classification,
    DerogationCondition,
    classification_rules,
    obligation_rules,
)

TIER_ORDER = {RiskTier.minimal: 0, RiskTier.limited: 1, RiskTier.high: 2}


class Reason(BaseModel):
    reference: str = Field(description="The article the finding rests on.")
    finding: str


class ClassificationResult(BaseModel):
    classification: Classification
    rule: str = Field(description="The rule of the classification table that decided.")
    minimum_tier: RiskTier = Field(description="The lowest risk tier the product may have.")
    aedt: bool = Field(description="An automated employment decision tool under NYC Local Law 144.")
    rationale: list[Reason]
    obligations: list[str] = Field(description="The obligations that must be met before a release goes live.")
    assessment: str | None = Field(
        default=None, description="For an Art. 6(3) derogation: the documented assessment Art. 6(4) asks for."
    )


def _uses_in(use: DeclaredUse, *categories: str) -> list[str]:
    rules = classification_rules()
    return [u.value for u in use.uses if rules.uses[u].category in categories]


def classify(use: DeclaredUse | None) -> ClassificationResult:
    """The classification of ``use`` (None: nothing declared, classified as minimal with that said)."""
    rules = classification_rules()
    if use is None:
        nothing = [Reason(reference="Art. 6(2)", finding="no HR use is declared: nothing places it in Annex III")]
        return _result("minimal", "outside_annex_iii", False, nothing, None)
    prohibited = _uses_in(use, "prohibited")
    annex = _uses_in(use, "annex_iii_4a", "annex_iii_4b")
    conditions = [name for name in rules.derogation.conditions if getattr(use, name)]
    holds = {
        "any_use_prohibited": bool(prohibited),
        "annex_iii_use_and_profiling": bool(annex) and use.profiles_people,
        "annex_iii_use_and_derogation_condition": bool(annex) and bool(conditions),
        "annex_iii_use": bool(annex),
        "always": True,
    }
    decided = next(rule for rule in rules.rules if holds[rule.when])
    reasons: list[Reason] = []
    for value in prohibited:
        category = rules.categories["prohibited"]
        reasons.append(Reason(reference=category.reference, finding=f"'{value}': {category.text}"))
    for value in annex:
        category = rules.categories[rules.uses[HrUse(value)].category]
        reasons.append(Reason(reference=category.reference, finding=f"'{value}' is listed: {category.text}"))
    if not prohibited and not annex:
        category = rules.categories["outside_annex_iii"]
        listed = ", ".join(u.value for u in use.uses)
        reasons.append(Reason(reference=category.reference, finding=f"'{listed}': {category.text}"))
    assessment = None
    if annex and not prohibited:
        if use.profiles_people:
            profiling = rules.derogation.profiling
            reasons.append(Reason(reference=profiling.reference, finding=f"it profiles people, and {profiling.text}"))
        for name in conditions:
            condition = rules.derogation.conditions[name]
            reasons.append(Reason(reference=condition.reference, finding=f"declared: {condition.text}"))
        if not conditions and not use.profiles_people:
            reasons.append(Reason(reference="Art. 6(3)", finding="none of the four derogation conditions is declared"))
        if decided.classification == "not_high_risk":
            assessment = _assessment(annex, conditions)
            reasons.append(Reason(reference=rules.derogation.assessment.reference, finding=assessment))
    if use.nyc_aedt:
        reasons.append(Reason(reference=rules.aedt.reference, finding=f"declared an AEDT: {rules.aedt.text}"))
    return _result(decided.classification, decided.id, use.nyc_aedt, reasons, assessment)


def _assessment(annex: list[str], conditions: list[DerogationCondition]) -> str:
    rules = classification_rules()
    met = "; ".join(f"{rules.derogation.conditions[name].text} ({name})" for name in conditions)
    return (
        f"Although used for {', '.join(annex)} (Annex III), the system is not high-risk because {met}, and it "
        "does not profile natural persons. This assessment must be documented and kept (Art. 6(4)); the "
        "derogation_assessment obligation records it."
    )


def _result(
    classification: Classification, rule: str, aedt: bool, reasons: list[Reason], assessment: str | None
) -> ClassificationResult:
    return ClassificationResult(
        classification=classification,
        rule=rule,
        minimum_tier=classification_rules().tiers[classification],
        aedt=aedt,
        rationale=reasons,
        obligations=obligations_for(classification, aedt),
        assessment=assessment,
    )


def obligations_for(classification: Classification, aedt: bool) -> list[str]:
    return [
        name
        for name, obligation in obligation_rules().obligations.items()
        if classification in obligation.applies_to or (aedt and obligation.aedt)
    ]


def below(tier: RiskTier | str, minimum: RiskTier) -> bool:
    return TIER_ORDER[RiskTier(tier)] < TIER_ORDER[minimum]
