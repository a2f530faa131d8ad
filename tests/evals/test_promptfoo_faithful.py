"""promptfoo import: the suite tests what promptfoo would, or the import names what it could not carry.

Each config here is written in promptfoo's documented format; the expected readings follow promptfoo
0.123.1 (its CSV reader, its YAML 1.2 parser, its var expansion and its OpenAI defaults).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals import load_suite
from evals.promptfoo import ImportResult, PromptfooImportError, import_promptfoo_config, write_imported_suite
from service.cli import app

runner = CliRunner()


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder / "promptfooconfig.yaml"


CONFIG = """
prompts: [file://prompt.txt]
providers: [openai:gpt-4o-mini]
tests: file://tests.csv
"""


def import_csv(tmp_path: Path, csv_text: str) -> ImportResult:
    return import_promptfoo_config(
        write(tmp_path, {"promptfooconfig.yaml": CONFIG, "prompt.txt": "Q: {{q}}", "tests.csv": csv_text})
    )


def test_csv_expected_cells_map_every_supported_type_and_name_every_other(tmp_path):
    cells = [
        "grade: is polite",
        "is-refusal",
        "not-starts-with:Sorry",
        "not-icontains-any:foo, bar",
        "icontains:Goal",
        "regex:\\d+%",
        "eval:output.length > 3",
        "contains-json",
        "levenshtein(5):hello",
        "rouge-n(0.5):hello world",
        "is-xml",
        "answer-relevance:",
        "factuality:Paris is in France",
        "model-graded-closedqa:Is it short?",
        "just a plain answer",
    ]
    rows = "\n".join(f'q{i},"{cell}"' for i, cell in enumerate(cells))
    result = import_csv(tmp_path, f"q,__expected\n{rows}\n")
    asserts = {c["vars"]["q"]: c["asserts"] for c in result.suite["cases"]}
    assert asserts["q0"] == [{"type": "llm-rubric", "value": " is polite"}]
    assert asserts["q1"] == [{"type": "refusal"}]
    assert asserts["q2"] == [{"type": "not-starts-with", "value": "Sorry"}]
    assert asserts["q3"] == [{"type": "not-icontains-any", "value": ["foo", "bar"]}]
    assert asserts["q4"] == [{"type": "icontains", "value": "Goal"}]
    assert asserts["q5"] == [{"type": "regex", "value": "\\d+%"}]
    assert asserts["q8"] == [{"type": "levenshtein", "value": "hello", "threshold": 5.0}]
    assert asserts["q9"] == [{"type": "rouge-n", "value": "hello world", "threshold": 0.5}]
    assert asserts["q14"] == [{"type": "equals", "value": "just a plain answer"}]
    # nothing a promptfoo type names is ever compared as an equals string
    assert not any(a["type"] == "equals" and ":" in str(a.get("value")) for c in asserts.values() for a in c)
    joined = "\n".join(result.unsupported)
    for row, name in [
        (8, "'eval:output.length > 3'"),
        (9, "'contains-json'"),
        (12, "'is-xml'"),
        (13, "'answer-relevance'"),
        (14, "'factuality'"),
        (15, "'model-graded-closedqa'"),
    ]:
        assert f"tests.csv row {row} __expected" in joined and name in joined, name
    assert [c["vars"]["q"] for c in result.suite["cases"]] == ["q0", "q1", "q2", "q3", "q4", "q5", "q8", "q9", "q14"]


def test_csv_quoted_cells_keep_their_newlines_and_thresholds_follow_promptfoo(tmp_path):
    csv_text = 'q,__expected,__threshold\n"line one\nline two","icontains:two",0.5\n'
    result = import_csv(tmp_path, csv_text)
    (case,) = result.suite["cases"]
    assert case["vars"]["q"] == "line one\nline two"
    assert case["threshold"] == 0.5
    assert result.unsupported == []


def test_csv_levenshtein_takes_promptfoos_csv_threshold_when_the_cell_gives_none(tmp_path):
    # promptfoo's CSV reader gives every threshold type 0.75 when the cell names none: for an edit distance that
    # is "identical" (at most 0 edits), not the 5 of a YAML test; imported as it is, it tests the same
    result = import_csv(tmp_path, 'q,__expected\na,"levenshtein: hello "\nb,"not-levenshtein(2):hi"\n')
    assert [c["asserts"] for c in result.suite["cases"]] == [
        [{"type": "levenshtein", "value": "hello", "threshold": 0.75}],
        [{"type": "not-levenshtein", "value": "hi", "threshold": 2.0}],
    ]
    assert result.unsupported == []


EMBEDDING = "openai:embedding:text-embedding-3-large"


def test_csv_similar_is_embeddings_at_promptfoos_thresholds(tmp_path):
    result = import_csv(tmp_path, "q,__expected\na,similar:hello there\nb,not-similar(0.9):go away\n")
    asserts = [c["asserts"] for c in result.suite["cases"]]
    assert asserts == [
        [{"type": "similar", "value": "hello there", "threshold": 0.8, "method": EMBEDDING}],
        [{"type": "not-similar", "value": "go away", "threshold": 0.9, "method": EMBEDDING}],
    ]
    assert result.unsupported == []
    assert any("compares embeddings" in note and EMBEDDING in note for note in result.notes)


def test_yaml_similar_keeps_its_embedding_provider_or_is_refused(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts: ["{{q}}"]
            providers: [openai:gpt-4o-mini]
            tests:
              - vars: {q: a}
                assert:
                  - {type: similar, value: ref}
                  - {type: similar, value: ref, threshold: 0.6, provider: "openai:embedding:text-embedding-3-small"}
                  - {type: similar, value: ref, provider: "huggingface:sentence-similarity:x"}
            """
        },
    )
    result = import_promptfoo_config(config)
    assert result.suite["cases"][0]["asserts"] == [
        {"type": "similar", "value": "ref", "threshold": 0.75, "method": EMBEDDING},
        {"type": "similar", "value": "ref", "threshold": 0.6, "method": "openai:embedding:text-embedding-3-small"},
    ]
    assert any("tests[0].assert[2]" in item and "huggingface" in item for item in result.unsupported)


def test_prompt_file_with_separators_holds_several_prompts(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": CONFIG.replace(
                "tests: file://tests.csv", "tests: [{assert: [{type: contains, value: a}]}]"
            ),
            "prompt.txt": "First: {{q}}\n  ---  \nSecond: {{q}}\n---\n\n---\n",
        },
    )
    result = import_promptfoo_config(config)
    # promptfoo runs every test on both sections: so does the suite, a matrix of two prompts
    assert result.prompt_text == "First: {{q}}"
    assert result.suite["prompts"] == [result.prompt_file, *result.more_prompts]
    assert list(result.more_prompts.values()) == ["Second: {{q}}"]
    assert not [item for item in result.unsupported if item.startswith("prompt.txt")]


def test_yaml_1_1_booleans_stay_strings_as_in_promptfoo(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts: ["Answer {{answer}} ({{flag}})"]
            providers: [openai:gpt-4o-mini]
            tests:
              - vars: {answer: Yes, flag: true, switch: on}
                assert: [{type: equals, value: No}]
            """
        },
    )
    result = import_promptfoo_config(config)
    case = result.suite["cases"][0]
    assert case["vars"] == {"answer": "Yes", "flag": True, "switch": "on"}
    assert case["asserts"] == [{"type": "equals", "value": "No"}]
    write_imported_suite(result, tmp_path / "out" / "suite.yaml")
    loaded = load_suite(tmp_path / "out" / "suite.yaml")
    assert loaded.cases[0].vars["answer"] == "Yes" and loaded.cases[0].asserts[0].value == "No"


def test_file_vars_globs_prompt_globs_and_test_file_globs_are_read(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts: [file://prompts/prompt*.txt]
            providers: [openai:gpt-4o-mini]
            defaultTest:
              vars: {style: file://style.txt, data: file://data.yaml}
            tests: file://cases/*.yaml
            """,
            "prompts/prompt1.txt": "Summarise {{article}} in {{style}}",
            "style.txt": "one line\n\n",
            "data.yaml": "a: 1\nb: [x, y]\n",
            "articles/a.txt": "Article A",
            "articles/b.txt": "Article B",
            "cases/one.yaml": "- vars: {article: file://articles/*}\n  assert: [{type: contains, value: A}]\n",
            "cases/two.yaml": "- vars: {article: plain}\n  assert: [{type: contains, value: p}]\n",
        },
    )
    result = import_promptfoo_config(config)
    assert result.unsupported == []
    assert result.prompt_text == "Summarise {{article}} in {{style}}"
    assert result.suite["defaults"]["vars"] == {"style": "one line", "data": '{"a":1,"b":["x","y"]}'}
    assert [c["vars"]["article"] for c in result.suite["cases"]] == ["Article A", "Article B", "plain"]
    # a second matching prompt file is a second prompt of the suite's matrix
    (tmp_path / "prompts" / "prompt2.txt").write_text("Other {{article}}")
    again = import_promptfoo_config(config)
    assert again.unsupported == []
    assert list(again.more_prompts.values()) == ["Other {{article}}"]


def test_list_expansion_follows_promptfoo_rules(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts: ["{{tone}}: {{items}}"]
            providers: [openai:gpt-4o-mini]
            defaultTest:
              vars: {tone: [formal, casual]}
            tests:
              - vars: {items: [{name: a}, {name: b}]}
                assert: [{type: contains, value: a}]
            """
        },
    )
    result = import_promptfoo_config(config)
    cases = result.suite["cases"]
    # the string list in defaultTest expands; the list of objects stays one value
    assert [c["vars"]["tone"] for c in cases] == ["formal", "casual"]
    assert all(c["vars"]["items"] == [{"name": "a"}, {"name": "b"}] for c in cases)
    assert "tone" not in result.suite.get("defaults", {}).get("vars", {})


def test_provider_defaults_carried_and_endpoint_settings_named(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts: ["{{q}}"]
            providers:
              - id: openai:chat:gpt-4o-mini
                label: main
                prompts: [other]
                config: {apiBaseUrl: "http://127.0.0.1:9/v1", apiKeyEnvar: MY_KEY}
            tests: [{vars: {q: hi}, assert: [{type: contains, value: hi}]}]
            """
        },
    )
    result = import_promptfoo_config(config)
    assert result.suite["model"] == {"provider": "openai", "name": "gpt-4o-mini", "temperature": 0, "max_tokens": 1024}
    joined = "\n".join(result.unsupported)
    assert "providers[0].config.apiBaseUrl" in joined and "providers[0].config.apiKeyEnvar" in joined
    assert "providers[0].prompts: provider key" in joined and "label" not in joined


def test_scenarios_are_named_not_reported_as_missing_tests(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts: ["{{q}}"]
            providers: [openai:gpt-4o-mini]
            scenarios:
              - config: [{vars: {q: a}}]
                tests: [{assert: [{type: contains, value: a}]}]
            """
        },
    )
    result = import_promptfoo_config(config)
    assert any("scenarios" in item and "1 scenario" in item for item in result.unsupported)
    cli = runner.invoke(
        app, ["eval", "import-promptfoo", str(config), "-o", str(tmp_path / "s.yaml"), "--allow-partial"]
    )
    assert cli.exit_code == 1 and "scenarios" in cli.output and not (tmp_path / "s.yaml").exists()


def test_chat_prompt_with_template_loop_is_refused(tmp_path):
    chat = (
        '[{% for m in history %}{"role": "{{m.role}}", "content": "{{m.content}}"},{% endfor %}'
        '{"role": "user", "content": "{{q}}"}]'
    )
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts: [file://chat.json]
            providers: [openai:gpt-4o-mini]
            tests: [{vars: {q: hi, history: []}, assert: [{type: contains, value: hi}]}]
            """,
            "chat.json": chat,
        },
    )
    result = import_promptfoo_config(config)
    assert any(item.startswith("chat.json") and "template loop" in item for item in result.unsupported)


def test_allow_partial_writes_a_valid_suite_with_the_list_on_top(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts: ["{{q}}"]
            providers: [openai:gpt-4o-mini]
            tests:
              - vars: {q: a}
                assert: [{type: contains, value: a}, {type: javascript, value: "output.length > 1"}]
              - vars: {q: b}
                assert: [{type: python, value: "True"}]
            """
        },
    )
    out = tmp_path / "out" / "suite.yaml"
    cli = runner.invoke(app, ["eval", "import-promptfoo", str(config), "-o", str(out)])
    assert cli.exit_code == 1 and not out.exists()
    assert "promptfooconfig.yaml: tests[0].assert[1]: assertion type 'javascript'" in cli.output
    cli = runner.invoke(app, ["eval", "import-promptfoo", str(config), "-o", str(out), "--allow-partial"])
    assert cli.exit_code == 1 and out.exists()
    text = out.read_text()
    assert text.startswith("# promptfoo import: partial") and "tests[1]" in text.split("version:")[0]
    assert runner.invoke(app, ["eval", "validate", str(out)]).exit_code == 0


def test_complete_import_exits_0(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts: ["{{q}}"]
            providers: [{id: openai:gpt-4o-mini, config: {temperature: 0.3}}]
            tests: [{vars: {q: a}, assert: [{type: icontains, value: A}]}]
            """
        },
    )
    cli = runner.invoke(app, ["eval", "import-promptfoo", str(config), "-o", str(tmp_path / "s.yaml")])
    assert cli.exit_code == 0, cli.output
    assert load_suite(tmp_path / "s.yaml").model.temperature == 0.3


@pytest.mark.parametrize(
    "config",
    [
        "prompts: [42]\ntests: [{assert: [{type: contains, value: a}]}]\n",
        "prompts: [a]\nproviders: 7\ntests: [{assert: [{type: contains, value: a}]}]\n",
        "prompts: [a]\nproviders: [{id: openai:gpt-4o, config: [1]}]\ntests: [{assert: [{type: contains}]}]\n",
        "prompts: [a]\ndefaultTest: [1, 2]\ntests: [{assert: [{type: contains, value: a}]}]\n",
        "prompts: [a]\ndefaultTest: {options: [x]}\ntests: [{assert: [{type: contains, value: a}]}]\n",
        "prompts: [a]\ntests: [{vars: [1, 2], assert: [{type: contains, value: a}]}]\n",
        "prompts: [a]\ntests: [{options: 3, assert: [{type: contains, value: a}]}]\n",
        "prompts: [a]\ntests: {vars: {}}\n",
        "prompts: [a]\ntests: [{assert: {type: contains}}]\n",
        "prompts: [a]\ntests: [{assert: [{type: [1], value: a}]}]\n",
        "prompts: [a]\ntests: [{assert: [{type: contains-any, value: 5}]}]\n",
    ],
)
def test_malformed_configs_are_reported_not_crashed(tmp_path, config):
    path = tmp_path / "promptfooconfig.yaml"
    path.write_text(config)
    try:
        result = import_promptfoo_config(path)
    except PromptfooImportError as exc:
        assert str(path) in str(exc)
        return
    assert result.unsupported


def test_yaml_chat_prompt_files_become_messages_and_prompt_options_are_named(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts:
              - id: file://chat.yaml
                label: chat
                config: {response_format: {type: json_object}}
            providers: [openai:gpt-4o-mini]
            tests: [{vars: {q: hi}, assert: [{type: contains, value: hi}]}]
            """,
            "chat.yaml": "- role: system\n  content: Be brief.\n- role: user\n  content: '{{q}}'\n",
        },
    )
    result = import_promptfoo_config(config)
    assert result.suite["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "{{ prompt }}"},
    ]
    assert result.prompt_text == "{{q}}"
    assert result.unsupported == ["promptfooconfig.yaml: prompts[0].config: prompt key"]


def test_options_promptfoo_ignores_are_dropped_and_bad_arguments_named(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": """
            prompts: ["{{q}}"]
            providers: [openai:gpt-4o-mini]
            tests:
              - vars: {q: hi}
                assert:
                  - {type: contains, value: hi, threshold: 0.5}
                  - {type: regex, value: "("}
            """
        },
    )
    result = import_promptfoo_config(config)
    assert result.suite["cases"][0]["asserts"] == [{"type": "contains", "value": "hi"}]
    assert any("tests[0].assert[1]: regex with unusable arguments" in item for item in result.unsupported)
    write_imported_suite(result, tmp_path / "s.yaml")  # valid: nothing the loader would reject


PARITY_CONFIGS = sorted((Path(__file__).parents[2] / "bench" / "parity").glob("*/promptfooconfig.yaml"))


@pytest.mark.parametrize("config", PARITY_CONFIGS, ids=[c.parent.name for c in PARITY_CONFIGS])
def test_the_parity_benchmarks_configs_import_whole_into_valid_suites(config, tmp_path):
    # bench/promptfoo_parity.py runs these through promptfoo itself; here they must keep importing with nothing
    # left out (exit 0), into suites that load
    result = import_promptfoo_config(config)
    assert result.unsupported == []
    write_imported_suite(result, tmp_path / "suite.yaml")
    assert load_suite(tmp_path / "suite.yaml").cases


def test_a_test_without_assertions_is_named_as_such_not_as_unconvertible(tmp_path):
    result = import_csv(tmp_path, 'q,__expected\na,\nb,"bleu:hello"\nc,"contains:c"\n')
    assert sorted(result.unsupported) == [
        "tests.csv row 2: test left out: it has no assertions (promptfoo passes it whatever the answer; "
        "a Steward case must be able to fail)",
        "tests.csv row 3 __expected: assertion type 'bleu'",
        "tests.csv row 3: test left out: none of its assertions could be converted",
    ]


def test_a_prompt_steward_cannot_compile_is_named_and_a_partial_import_leaves_it_out(tmp_path):
    # Nunjucks has filters Jinja2 lacks (nl2br); the import must not exit 0 with a suite that `steward eval
    # validate` rejects. promptfoo's `load` and Nunjucks' `dump` are Steward filters too.
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": "prompts: [file://prompts.txt]\nproviders: [openai:gpt-4.1]\ntests:\n"
            '  - vars: {style: \'{"tone": "formal"}\', body: hi}\n    assert: [{type: contains, value: hi}]\n',
            "prompts.txt": "Tone: {{ (style | load).tone }} {{ body | nl2br }}\n---\n"
            "Say {{ body }} as {{ style | load | dump }}\n",
        },
    )
    result = import_promptfoo_config(config)
    assert result.unsupported == [
        "prompts.txt prompt 1: template syntax error on line 1: No filter named 'nl2br'. "
        "(promptfoo renders Nunjucks, Steward Jinja2)"
    ]
    assert result.prompt_text == "Say {{ body }} as {{ style | load | dump }}" and result.more_prompts == {}
    write_imported_suite(result, tmp_path / "out" / "suite.yaml")
    assert runner.invoke(app, ["eval", "validate", str(tmp_path / "out" / "suite.yaml")]).exit_code == 0


def test_a_case_that_leaves_a_variable_undefined_is_left_out_as_promptfoo_would_render_it_empty(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": "prompts: ['Hi {{name}} from {{team}}']\nproviders: [openai:gpt-4.1]\ntests:\n"
            "  - vars: {name: Ann, team: HR}\n    assert: [{type: contains, value: Ann}]\n"
            "  - vars: {name: Bob}\n    assert: [{type: contains, value: Bob}]\n",
        },
    )
    result = import_promptfoo_config(config)
    assert result.unsupported == [
        "promptfooconfig.yaml: case tests-1: left out: prompt: 'team' is undefined (promptfoo renders an "
        "undefined variable as empty text, Steward refuses it)"
    ]
    assert [case["id"] for case in result.suite["cases"]] == ["tests-0"]


def test_a_config_whose_every_prompt_steward_cannot_compile_is_refused_naming_why(tmp_path):
    config = write(
        tmp_path,
        {
            "promptfooconfig.yaml": "prompts: ['{{ x | nl2br }}']\nproviders: [openai:gpt-4.1]\ntests:\n"
            "  - vars: {x: a}\n    assert: [{type: contains, value: a}]\n",
        },
    )
    with pytest.raises(PromptfooImportError, match=r"prompts: none can be used: .*prompts\[0\]: .*'nl2br'"):
        import_promptfoo_config(config)
