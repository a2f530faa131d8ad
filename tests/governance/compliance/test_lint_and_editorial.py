"""Document lint (personal and special-category data, line by line) and the editorial-change rule."""

from __future__ import annotations

from governance.compliance.editorial import is_editorial, normalise
from governance.compliance.lint import scan

POLICY_WITH_HEALTH_DETAIL = """# Sick leave policy

Employees report absence to their manager on the first day.
Example: Jan Novak (jan.novak@acme.example) is on sick leave after a cancer diagnosis until March.
Questions go to the HR service desk.
"""


def test_an_employees_health_detail_is_flagged_with_its_line() -> None:
    findings = scan(POLICY_WITH_HEALTH_DETAIL)
    by_line = {(f.line, f.kind, f.category) for f in findings}
    assert (4, "personal_data", "email") in by_line
    assert (4, "special_category", "health") in by_line
    assert (1, "special_category", "health") in by_line  # the title mentions sick leave too
    assert not any(f.line in (3, 5) for f in findings)
    email = next(f for f in findings if f.category == "email")
    assert "jan.novak@acme.example" not in email.excerpt and email.reference == "GDPR Art. 4(1)"
    assert {f.reference for f in findings if f.kind == "special_category"} == {"GDPR Art. 9(1)"}


def test_special_categories_match_whole_words_only() -> None:
    assert scan("The unionised workforce traces its origin to 1920.") == []
    found = scan("She is a trade union member.\nHe attends the mosque on Fridays.")
    assert [(f.line, f.category) for f in found] == [(1, "trade_union"), (2, "religion")]


def test_a_clean_document_has_no_findings() -> None:
    assert scan("Goals are agreed between the employee and their manager.\nReview them twice a year.") == []


def test_whitespace_and_punctuation_only_is_editorial() -> None:
    before = {"title": "Policy", "content": "Goals are set yearly.  Review twice a year"}
    after = {"title": "Policy", "content": "Goals are set yearly;\nreview twice a year."}
    assert normalise("a, b;\n c!") == "abc"
    assert not is_editorial("document", before, after)  # 'Review' -> 'review' changed a letter
    after = {"title": "Policy", "content": "Goals are set yearly;\nReview twice a year."}
    assert is_editorial("document", before, after)
    assert is_editorial("prompt", {"template": "Hi {{ name }}"}, {"template": "Hi {{name}}"})


def test_a_word_change_is_substantial() -> None:
    assert not is_editorial("document", {"content": "within 30 days"}, {"content": "within 60 days"})


def test_suites_and_the_model_are_never_editorial() -> None:
    assert not is_editorial("suite", {"spec": {"a": 1}}, {"spec": {"a": 1}})
    assert not is_editorial("model", {"name": "m"}, {"name": "m"})


def test_a_fairness_suite_is_known_by_name_block_or_tagged_cases() -> None:
    from governance.compliance.obligations import is_fairness_suite

    assert is_fairness_suite("coach-fairness", {"cases": []})
    assert is_fairness_suite("bias", {"fairness": {"dimensions": ["gender"]}, "cases": []})
    assert is_fairness_suite("bias", {"cases": [{"id": "a", "tags": ["fairness", "gender"]}]})
    assert not is_fairness_suite("quality", {"cases": [{"id": "a", "tags": ["fairness"]}, {"id": "b"}]})
    assert not is_fairness_suite("quality", {"cases": [{"id": "a", "tags": ["tone"]}]})
