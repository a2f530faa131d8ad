"""The classification table, rule by rule, and the rule files it is read from."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from governance.catalog.models import RiskTier
from governance.catalog.schemas import DeclaredUse, HrUse
from governance.compliance.classification import below, classify
from governance.compliance.rulebook import ClassificationRules, classification_rules, obligation_rules

HIGH_RISK_OBLIGATIONS = ["inform_workers", "human_oversight", "instructions_for_use", "fairness_suite", "dpia"]


def use(*uses: str, **answers: bool) -> DeclaredUse:
    return DeclaredUse(uses=[HrUse(u) for u in uses], **answers)


def references(result) -> list[str]:
    return [reason.reference for reason in result.rationale]


def test_rule_prohibited_use_emotion_recognition_at_work() -> None:
    result = classify(use("emotion_recognition", "performance_monitoring", preparatory_task=True))
    assert (result.classification, result.rule, result.minimum_tier) == ("prohibited", "prohibited_use", RiskTier.high)
    assert "Art. 5(1)(f)" in references(result)


def test_rule_annex_iii_profiling_rules_the_derogation_out() -> None:
    result = classify(use("candidate_screening", preparatory_task=True, profiles_people=True))
    assert (result.classification, result.rule) == ("high_risk", "annex_iii_profiling")
    assert "Art. 6(3), last subparagraph" in references(result)
    assert result.obligations == HIGH_RISK_OBLIGATIONS


@pytest.mark.parametrize(
    "condition",
    [
        "narrow_procedural_task",
        "improves_completed_human_activity",
        "detects_patterns_without_replacing_assessment",
        "preparatory_task",
    ],
)
def test_rule_annex_iii_derogation_each_condition(condition: str) -> None:
    result = classify(use("performance_monitoring", **{condition: True}))
    assert (result.classification, result.rule, result.minimum_tier) == (
        "not_high_risk",
        "annex_iii_derogation",
        RiskTier.limited,
    )
    letter = {"narrow_procedural_task": "a", "improves_completed_human_activity": "b"}.get(condition)
    assert letter is None or f"Art. 6(3)({letter})" in references(result)
    assert "Art. 6(4)" in references(result) and result.assessment
    assert result.obligations == ["dpia", "derogation_assessment"]


@pytest.mark.parametrize(
    ("hr_use", "point"),
    [
        ("recruitment_advertising", "4(a)"),
        ("candidate_screening", "4(a)"),
        ("candidate_ranking", "4(a)"),
        ("candidate_evaluation", "4(a)"),
        ("work_decisions", "4(b)"),
        ("task_allocation", "4(b)"),
        ("performance_monitoring", "4(b)"),
    ],
)
def test_rule_annex_iii_high_risk(hr_use: str, point: str) -> None:
    result = classify(use(hr_use))
    assert (result.classification, result.rule, result.minimum_tier) == ("high_risk", "annex_iii_high_risk", "high")
    assert f"Art. 6(2), Annex III point {point}" in references(result)
    assert result.assessment is None


@pytest.mark.parametrize("uses", [("drafting_help",), ("policy_questions",), ("drafting_help", "policy_questions")])
def test_rule_outside_annex_iii_is_minimal(uses: tuple[str, ...]) -> None:
    result = classify(use(*uses, profiles_people=True))
    assert (result.classification, result.rule, result.minimum_tier) == ("minimal", "outside_annex_iii", "minimal")
    assert result.obligations == []


def test_nothing_declared_is_minimal_and_says_so() -> None:
    result = classify(None)
    assert result.classification == "minimal" and "no HR use is declared" in result.rationale[0].finding


def test_aedt_flag_adds_the_bias_audit_whatever_the_class() -> None:
    screening = classify(use("candidate_ranking", nyc_aedt=True))
    assert screening.aedt and screening.obligations == [*HIGH_RISK_OBLIGATIONS, "bias_audit"]
    assert any("Local Law 144" in reference for reference in references(screening))
    drafting = classify(use("drafting_help", nyc_aedt=True))
    assert drafting.classification == "minimal" and drafting.obligations == ["bias_audit"]


def test_goal_coach_declared_use_is_not_high_risk_under_article_6_3() -> None:
    result = classify(use("drafting_help", "performance_monitoring", "policy_questions", preparatory_task=True))
    assert result.classification == "not_high_risk"
    assert references(result) == [
        "Art. 6(2), Annex III point 4(b)",
        "Art. 6(3)(d)",
        "Art. 6(4)",
    ]


def test_every_rule_of_the_table_is_reached_by_a_test_above() -> None:
    assert [rule.id for rule in classification_rules().rules] == [
        "prohibited_use",
        "annex_iii_profiling",
        "annex_iii_derogation",
        "annex_iii_high_risk",
        "outside_annex_iii",
    ]


def test_tiers_order() -> None:
    assert below("minimal", RiskTier.limited) and below("limited", RiskTier.high)
    assert not below("high", RiskTier.high) and not below("high", RiskTier.minimal)


def test_a_rule_file_missing_a_use_is_refused() -> None:
    data = classification_rules().model_dump(mode="json")
    del data["uses"]["drafting_help"]
    with pytest.raises(ValidationError, match="uses without a rule: drafting_help"):
        ClassificationRules.model_validate(data)


def test_a_rule_file_without_a_final_catch_all_is_refused() -> None:
    data = classification_rules().model_dump(mode="json")
    data["rules"] = data["rules"][:-1]
    with pytest.raises(ValidationError, match="last rule must be 'always'"):
        ClassificationRules.model_validate(data)


def test_every_obligation_cites_its_article() -> None:
    cited = {name: rule.reference for name, rule in obligation_rules().obligations.items()}
    assert cited["inform_workers"] == "Art. 26(7)" and cited["human_oversight"] == "Art. 14, Art. 26(2)"
    assert cited["instructions_for_use"] == "Art. 13" and cited["dpia"] == "GDPR Art. 35"
    assert obligation_rules().obligations["bias_audit"].valid_days == 365


def test_declared_uses_are_unique() -> None:
    with pytest.raises(ValidationError, match="more than once"):
        DeclaredUse(uses=[HrUse.drafting_help, HrUse.drafting_help])
