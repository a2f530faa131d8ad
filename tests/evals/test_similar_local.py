"""``similar`` with ``method: local:all-minilm-l6-v2``: whole runs with the real local model and no network."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from evals import ProviderConfig, RunOptions, SuiteError, run_suite
from service.cli import app
from tests.evals.conftest import TEMPLATES, FakeResponse, completion, make_suite, no_network
from tests.evals.fairness.test_analysis import fairness_suite

METHOD = "local:all-minilm-l6-v2"
GOAL = "Set one measurable sales goal for the quarter."


def local_case(case_id: str, output: str, assertion: str = "similar", threshold: float = 0.6) -> dict[str, object]:
    return {
        "id": case_id,
        "vars": {"msg": case_id},
        "offline_output": output,
        "asserts": [{"type": assertion, "value": GOAL, "threshold": threshold, "method": METHOD}],
    }


async def test_an_offline_run_compares_local_embeddings_with_no_network(local_embedding_model):
    suite = make_suite(
        [
            local_case("same-meaning", "Agree on a single measurable sales target for this quarter."),
            local_case("unrelated", "The cafeteria serves lasagne on Fridays."),
            local_case("unrelated-negated", "The cafeteria serves lasagne on Fridays.", "not-similar", 0.5),
            # the string ratio of these two is low; their meaning is the same
            local_case("paraphrase", "For this quarter, pick a single sales objective you can measure."),
        ]
    )
    with no_network():
        report = await run_suite(suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig())
    outcomes = {r.case_id: r.outcome for r in report.results}
    assert outcomes == {
        "same-meaning": "passed",
        "unrelated": "failed",
        "unrelated-negated": "passed",
        "paraphrase": "passed",
    }
    reasons = {r.case_id: r.assertions[0] for r in report.results}
    assert "cosine similarity (all-minilm-l6-v2, local)" in reasons["unrelated"].reason
    assert reasons["unrelated"].score < 0.3 < 0.6 < reasons["same-meaning"].score
    assert reasons["same-meaning"].args["method"] == METHOD  # the report says how it compared


async def test_an_online_run_embeds_locally_and_sends_the_server_only_the_chat(
    local_embedding_model, fake_openai, openai_config
):
    fake_openai.answer = lambda body: FakeResponse(body=completion("Agree on a single measurable sales target."))
    case = {
        "id": "c",
        "vars": {"msg": "x"},
        "asserts": [{"type": "similar", "value": GOAL, "method": METHOD, "threshold": 0.6}],
    }
    options = RunOptions(provider="openai:gpt-4o-mini")
    report = await run_suite(make_suite([case]), templates=TEMPLATES, options=options, provider_config=openai_config)
    assert report.summary.status == "passed", report.results[0].assertions[0].reason
    assert fake_openai.embedding_requests == [] and len(fake_openai.requests) == 1


async def test_fairness_compares_paired_answers_by_local_embeddings(local_embedding_model):
    suite = fairness_suite(compare={"text": {"method": METHOD}})
    with no_network():
        report = await run_suite(suite, templates=TEMPLATES, options=RunOptions(), provider_config=ProviderConfig())
    assert report.fairness is not None
    assert {d.text.method for d in report.fairness.dimensions if d.text is not None} == {
        "cosine similarity of embeddings (all-minilm-l6-v2, local)"
    }


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("cohere:embed", "use 'string', 'openai:embedding:<model>' or 'local:all-minilm-l6-v2'"),
        (
            "local:all-mpnet-base-v2",
            "unknown local embedding model 'all-mpnet-base-v2'; the local models are: all-minilm-l6-v2",
        ),
    ],
)
def test_unknown_methods_list_the_local_one(method, message):
    with pytest.raises(SuiteError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_suite(
            [{"id": "c", "vars": {"msg": "x"}, "asserts": [{"type": "similar", "value": "x", "method": method}]}]
        )


def write_suite(path, assertion_method: str) -> str:
    (path / "p.txt").write_text("{{ msg }}")
    (path / "s.yaml").write_text(
        "version: 1\nname: s\nprompt: p.txt\ncases:\n  - id: a\n    vars: {msg: '{first_name} wants a goal'}\n"
        f"    asserts: [{{type: similar, value: x, method: '{assertion_method}'}}]\n"
        f"fairness: {{vars: [msg], dimensions: [{{name: gender}}], compare: {{text: {{method: '{METHOD}'}}}}}}\n"
    )
    return str(path / "s.yaml")


def test_validate_accepts_the_method_and_without_the_extra_names_what_to_install(tmp_path, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "validate", write_suite(tmp_path, METHOD)])
    assert result.exit_code == 0, result.output
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # as if the extra were not installed
    for method, where in ((METHOD, "s.yaml:7: cases[id=a].asserts[0].method"), ("string", "s.yaml:8: fairness")):
        result = runner.invoke(app, ["eval", "validate", write_suite(tmp_path, method)])
        assert result.exit_code == 2 and where in result.output, result.output
        assert "local:all-minilm-l6-v2 needs the optional extra local-embeddings" in result.output
        assert "(no module sentence_transformers): pip install 'steward[local-embeddings]'" in result.output
