"""A prompt x provider matrix: every case on every combination, named in results, judged per combination."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from evals import ProviderConfig, RunOptions, SuiteError, load_suite, parse_suite, run_suite, run_suite_sync
from evals.promptfoo import import_promptfoo_config, write_imported_suite
from evals.reports import read_report, render_html, render_junit, render_markdown, write_json
from service.cli import app
from service.settings import get_settings
from tests.evals.conftest import FakeResponse, completion

PROMPTS = {"coach.txt": "Coach: {{ msg }}", "mentor.txt": "Mentor: {{ msg }}"}


def matrix_suite(providers=("openai:model-a", "openai:model-b"), threshold=1.0, **overrides):
    data = {
        "version": 1,
        "name": "matrix",
        "prompts": list(PROMPTS),
        "providers": list(providers),
        "model": {"provider": "openai", "temperature": 0.1},
        "threshold": {"pass_rate": threshold},
        "cases": [
            {"id": f"c{i}", "vars": {"msg": f"goal {i}"}, "asserts": [{"type": "icontains", "value": "goal"}]}
            for i in range(3)
        ],
    }
    data.update(overrides)
    return parse_suite(data)


def answer_by_model(failing: tuple[str, str] | None = None):
    """The fake server's answer: echo, except 'nothing' from one (prompt word, model) combination."""

    def answer(body):
        user = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        if failing and user.startswith(failing[0]) and body["model"] == failing[1]:
            return FakeResponse(body=completion("nothing useful"))
        return FakeResponse(body=completion(f"{body['model']} says {user}"))

    return answer


# -- the suite format ------------------------------------------------------------------------------


def test_prompt_defaults_to_the_first_of_prompts_and_a_plain_suite_is_unchanged():
    suite = matrix_suite()
    assert suite.prompt == "coach.txt" and suite.prompt_names == ["coach.txt", "mentor.txt"]
    plain = parse_suite(
        {
            "version": 1,
            "name": "p",
            "prompt": "x",
            "cases": [{"id": "a", "asserts": [{"type": "equals", "value": "a"}]}],
        }
    )
    assert plain.prompt_names == ["x"] and plain.providers is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"prompts": ["a", "b", "a"]}, "prompts[2]: 'a' is listed twice (first at prompts[0])"),
        ({"providers": ["offline", "nonsense:x"]}, "providers[1]: unknown provider 'nonsense'"),
        ({"providers": ["offline", "offline"]}, "providers[1]: 'offline' is listed twice"),
        ({"prompt": "c", "prompts": ["a", "b"]}, "prompt: 'c' is not one of `prompts`"),
        ({"prompts": None}, "a suite needs `prompt` or `prompts`"),
        ({"providers": []}, "providers: List should have at least 1 item"),
    ],
)
def test_matrix_mistakes_are_suite_errors_with_their_place(change, expected):
    data = {
        "version": 1,
        "name": "m",
        "prompts": ["a", "b"],
        "cases": [{"id": "c", "asserts": [{"type": "equals", "value": "x"}]}],
    }
    data.update(change)
    if data["prompts"] is None:
        del data["prompts"]
    with pytest.raises(SuiteError) as caught:
        parse_suite(data)
    assert expected in str(caught.value)


# -- the runner ------------------------------------------------------------------------------------


async def test_every_case_runs_on_every_combination_and_results_name_it(fake_openai, openai_config):
    fake_openai.answer = answer_by_model()
    report = await run_suite(matrix_suite(), templates=PROMPTS, options=RunOptions(), provider_config=openai_config)
    assert report.summary.status == "passed" and report.summary.counts.runs == 12
    seen = {(r.case_id, r.prompt, r.provider) for r in report.results}
    assert seen == {
        (f"c{i}", prompt, f"openai:{model}") for i in range(3) for prompt in PROMPTS for model in ("model-a", "model-b")
    }
    # each answer came from its combination's model, asked with its combination's prompt
    for result in report.results:
        model = result.provider.removeprefix("openai:")
        word = PROMPTS[result.prompt].split(":")[0]
        assert result.output == f"{model} says {word}: goal {result.case_id[1:]}"
    sent = {(body["model"], body["messages"][-1]["content"].split(":")[0]) for body in fake_openai.requests}
    assert sent == {(m, w) for m in ("model-a", "model-b") for w in ("Coach", "Mentor")}
    assert all(body["temperature"] == 0.1 for body in fake_openai.requests)  # the suite's parameters, on each
    assert [(c.prompt, c.provider, c.pass_rate) for c in report.summary.combinations] == [
        (p, f"openai:{m}", 1.0) for p in PROMPTS for m in ("model-a", "model-b")
    ]
    assert report.summary.provider == "openai:model-a, openai:model-b"
    assert report.summary.totals.provider_calls == 12


async def test_one_failing_combination_fails_the_run_though_the_overall_rate_passes(fake_openai, openai_config):
    fake_openai.answer = answer_by_model(failing=("Mentor", "model-b"))
    report = await run_suite(
        matrix_suite(threshold=0.7), templates=PROMPTS, options=RunOptions(), provider_config=openai_config
    )
    by_combo = {(c.prompt, c.provider): c for c in report.summary.combinations}
    assert report.summary.pass_rate == pytest.approx(0.75)  # over the threshold...
    assert by_combo["mentor.txt", "openai:model-b"].status == "failed"  # ...but this combination is not
    assert by_combo["mentor.txt", "openai:model-b"].pass_rate == 0.0
    assert {c.status for k, c in by_combo.items() if k != ("mentor.txt", "openai:model-b")} == {"passed"}
    assert report.summary.status == "failed"
    assert [c.outcome for c in report.cases] == ["failed"] * 3


async def test_run_options_providers_override_the_suite_and_repeats_are_per_combination(fake_openai, openai_config):
    fake_openai.answer = answer_by_model()
    report = await run_suite(
        matrix_suite(),
        templates=PROMPTS,
        options=RunOptions(providers=("openai:model-c",), repeat=2),
        provider_config=openai_config,
    )
    assert {r.provider for r in report.results} == {"openai:model-c"}
    assert sorted((r.case_id, r.prompt, r.repeat_index) for r in report.results) == sorted(
        (f"c{i}", p, k) for i in range(3) for p in PROMPTS for k in range(2)
    )
    assert len(report.summary.combinations) == 2


def test_a_plain_run_has_no_combinations_and_results_name_none():
    suite = parse_suite(
        {
            "version": 1,
            "name": "p",
            "prompt": "coach.txt",
            "cases": [{"id": "a", "offline_output": "ok", "asserts": [{"type": "equals", "value": "ok"}]}],
        }
    )
    report = run_suite_sync(suite, templates=PROMPTS, options=RunOptions(), provider_config=ProviderConfig())
    assert report.summary.combinations == []
    assert (report.results[0].prompt, report.results[0].provider) == (None, None)


def test_a_provider_given_twice_or_a_missing_prompt_template_stops_the_run():
    from evals import EvalConfigError

    suite = matrix_suite(providers=("offline",))
    with pytest.raises(EvalConfigError, match="listed more than once: offline"):
        run_suite_sync(
            suite,
            templates=PROMPTS,
            options=RunOptions(providers=("offline", "offline")),
            provider_config=ProviderConfig(),
        )
    with pytest.raises(EvalConfigError, match=r"no template for prompt 'mentor\.txt'"):
        run_suite_sync(suite, templates={"coach.txt": "x"}, options=RunOptions(), provider_config=ProviderConfig())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prompts=st.integers(1, 3),
    providers=st.integers(1, 3),
    cases=st.integers(1, 4),
    repeat=st.integers(1, 2),
    concurrency=st.integers(1, 5),
    passing=st.sets(st.integers(0, 3)),
)
def test_the_matrix_is_complete_and_each_combination_is_judged_on_its_own(
    prompts, providers, cases, repeat, concurrency, passing
):
    names = [f"p{i}" for i in range(prompts)]
    suite = parse_suite(
        {
            "version": 1,
            "name": "prop",
            "prompts": names,
            "providers": [f"offline:m{i}" for i in range(providers)],
            "cases": [
                {
                    "id": f"c{i}",
                    "repeat": repeat,
                    "offline_output": "ok" if i in passing else "no",
                    "asserts": [{"type": "equals", "value": "ok"}],
                }
                for i in range(cases)
            ],
        }
    )
    report = run_suite_sync(
        suite,
        templates={name: name for name in names},
        options=RunOptions(concurrency=concurrency),
        provider_config=ProviderConfig(),
    )
    keys = [(r.case_id, r.prompt, r.provider, r.repeat_index) for r in report.results]
    assert len(keys) == len(set(keys)) == prompts * providers * cases * repeat
    matrix = prompts * providers > 1
    assert len(report.summary.combinations) == (prompts * providers if matrix else 0)
    expected_rate = sum(1 for i in range(cases) if i in passing) / cases
    assert report.summary.pass_rate == pytest.approx(expected_rate)
    for combo in report.summary.combinations:
        assert combo.pass_rate == pytest.approx(expected_rate) and combo.runs == cases * repeat
        assert combo.status == ("passed" if expected_rate == 1 else "failed")
    assert report.summary.status == ("passed" if expected_rate == 1 else "failed")


# -- reports ---------------------------------------------------------------------------------------


@pytest.fixture
def failing_matrix(fake_openai, openai_config):
    fake_openai.answer = answer_by_model(failing=("Mentor", "model-b"))
    return run_suite_sync(
        matrix_suite(threshold=0.7), templates=PROMPTS, options=RunOptions(), provider_config=openai_config
    )


def test_markdown_shows_a_pass_rate_per_combination_and_cases_side_by_side(failing_matrix):
    markdown = render_markdown(failing_matrix)
    assert "## Steward eval `matrix`: **FAILED**" in markdown
    assert "| `mentor.txt × openai:model-b` | FAILED | 0.0% | 0 | 3 | 0 | 0 |" in markdown
    assert "| `coach.txt × openai:model-a` | PASSED | 100.0% | 3 | 0 | 0 | 0 |" in markdown
    header = (
        "| case | `coach.txt × openai:model-a` | `coach.txt × openai:model-b` | `mentor.txt × openai:model-a` "
        "| `mentor.txt × openai:model-b` |"
    )
    assert header in markdown
    for i in range(3):
        assert f"| `c{i}` | passed | passed | passed | failed |" in markdown


def test_html_shows_the_same_tables(failing_matrix):
    html = render_html(failing_matrix)
    assert "<h2>Pass rate per combination</h2>" in html and "<h2>Cases side by side</h2>" in html
    assert "<th>mentor.txt × openai:model-b</th>" in html
    row = re.search(r"<tr><td><code>c0</code></td>(.*?)</tr>", html)
    assert row is not None
    assert re.findall(r"<td class='(\w+)'>", row.group(1)) == ["passed", "passed", "passed", "failed"]
    assert "mentor.txt × openai:model-b, repeat 0" in html


def test_junit_has_a_testsuite_per_combination_with_its_own_verdict(failing_matrix):
    root = ET.fromstring(render_junit(failing_matrix))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == [f"matrix [{p} × openai:{m}]" for p in PROMPTS for m in ("model-a", "model-b")]
    bad = suites["matrix [mentor.txt × openai:model-b]"]
    assert (bad.get("tests"), bad.get("failures")) == ("3", "3")
    props = {p.get("name"): p.get("value") for p in bad.iter("property")}
    assert props["combination_status"] == "failed" and props["provider"] == "openai:model-b"
    assert props["prompt"] == "mentor.txt" and props["status"] == "failed"
    assert (root.get("tests"), root.get("failures")) == ("12", "3")


def test_json_round_trips_the_matrix(failing_matrix, tmp_path):
    write_json(failing_matrix, tmp_path / "r.json")
    again = read_report(tmp_path / "r.json")
    assert again.summary.combinations == failing_matrix.summary.combinations
    assert [(r.prompt, r.provider) for r in again.results] == [(r.prompt, r.provider) for r in failing_matrix.results]


# -- the CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path, monkeypatch, fake_openai):
    monkeypatch.setenv("STEWARD_EVAL_CACHE_PATH", str(tmp_path / "cache.sqlite"))
    monkeypatch.setenv("STEWARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("STEWARD_OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("STEWARD_OPENAI_API_KEY", "k")
    get_settings.cache_clear()
    yield fake_openai
    get_settings.cache_clear()


def test_cli_provider_is_repeatable_and_reads_every_prompt_file(tmp_path, cli_env):
    cli_env.answer = answer_by_model(failing=("Mentor", "model-b"))
    for name, text in PROMPTS.items():
        (tmp_path / name).write_text(text)
    suite = {
        "version": 1,
        "name": "cli-matrix",
        "prompts": list(PROMPTS),
        "cases": [{"id": "a", "vars": {"msg": "goal"}, "asserts": [{"type": "icontains", "value": "goal"}]}],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite))
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "run",
            str(tmp_path / "suite.yaml"),
            "--provider",
            "openai:model-a",
            "--provider",
            "openai:model-b",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "mentor.txt × openai:model-b: FAILED, pass rate 0.0%" in result.output
    assert "coach.txt × openai:model-a: PASSED, pass rate 100.0%" in result.output
    assert "FAILED a#0 [mentor.txt × openai:model-b]" in result.output
    report = json.loads(out.read_text())
    assert len(report["results"]) == 4 and len(report["summary"]["combinations"]) == 4


def test_cli_validate_names_a_missing_prompt_of_the_matrix(tmp_path, cli_env):
    (tmp_path / "coach.txt").write_text("Coach: {{ msg }}")
    suite = {
        "version": 1,
        "name": "v",
        "prompts": ["coach.txt", "missing.txt"],
        "cases": [{"id": "a", "vars": {"msg": "x"}, "asserts": [{"type": "icontains", "value": "x"}]}],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite))
    result = CliRunner().invoke(app, ["eval", "validate", str(tmp_path / "suite.yaml")])
    assert result.exit_code == 2
    assert "prompts[1]: prompt template" in result.output and "missing.txt does not exist" in result.output


# -- promptfoo -------------------------------------------------------------------------------------


def test_promptfoo_prompts_and_providers_become_one_suite_with_the_same_number_of_results(
    tmp_path, fake_openai, openai_config
):
    fake_openai.answer = answer_by_model()
    (tmp_path / "promptfooconfig.yaml").write_text(
        """
prompts:
  - "Coach: {{msg}}"
  - file://mentor.txt
providers:
  - openai:chat:model-a
  - id: openai:model-b
    label: second
tests:
  - vars: {msg: [goal one, goal two]}
    assert: [{type: icontains, value: goal}]
  - vars: {msg: another goal}
    assert: [{type: contains, value: says}]
"""
    )
    (tmp_path / "mentor.txt").write_text("Mentor: {{msg}}")
    imported = import_promptfoo_config(tmp_path / "promptfooconfig.yaml", name="pf-matrix")
    assert imported.unsupported == []
    assert imported.suite["prompts"] == ["pf-matrix.prompt.txt", "pf-matrix.prompt-2.txt"]
    assert imported.suite["providers"] == ["openai:model-a", "openai:model-b"]
    written = write_imported_suite(imported, tmp_path / "out" / "suite.yaml")
    assert len(written) == 2
    suite = load_suite(tmp_path / "out" / "suite.yaml")
    templates = {name: (tmp_path / "out" / name).read_text() for name in suite.prompt_names}
    assert templates == {"pf-matrix.prompt.txt": "Coach: {{msg}}", "pf-matrix.prompt-2.txt": "Mentor: {{msg}}"}
    report = run_suite_sync(suite, templates=templates, options=RunOptions(), provider_config=openai_config)
    # promptfoo: 3 test rows (one expands to two) x 2 prompts x 2 providers
    assert len(report.results) == 3 * 2 * 2 and report.summary.status == "passed"


def test_promptfoo_prompts_of_another_form_and_providers_with_other_parameters_are_refused(tmp_path):
    (tmp_path / "chat.json").write_text(
        json.dumps([{"role": "system", "content": "S"}, {"role": "user", "content": "{{q}}"}])
    )
    (tmp_path / "chat2.json").write_text(
        json.dumps([{"role": "system", "content": "S"}, {"role": "user", "content": "Q2 {{q}}"}])
    )
    (tmp_path / "promptfooconfig.yaml").write_text(
        """
prompts: [file://chat.json, file://chat2.json, "plain {{q}}"]
providers:
  - openai:model-a
  - {id: openai:model-b, config: {temperature: 0.9}}
  - openai:model-c
tests:
  - vars: {q: x}
    assert: [{type: contains, value: x}]
"""
    )
    imported = import_promptfoo_config(tmp_path / "promptfooconfig.yaml", name="pf")
    joined = "\n".join(imported.unsupported)
    assert "prompts[2]: a further prompt 'plain {{q}}' of another form than the first" in joined
    assert "providers[1]: provider 'openai:model-b' with other temperature than the suite's" in joined
    assert imported.suite["providers"] == ["openai:model-a", "openai:model-c"]
    assert imported.more_prompts == {"pf.prompt-2.txt": "Q2 {{q}}"}
    assert imported.suite["messages"] == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "{{ prompt }}"},
    ]


def test_promptfoo_reasoning_models_share_a_matrix_as_promptfoo_samples_them(tmp_path):
    # promptfoo sends a reasoning model (o1, o3, o4, gpt-5) no temperature and no max_tokens, defaults or not, and
    # so does Steward's provider: beside a chat model they share the suite's parameters; only the seed must agree
    config = tmp_path / "promptfooconfig.yaml"
    tests = "tests:\n  - vars: {q: x}\n    assert: [{type: contains, value: x}]\n"
    config.write_text(
        "prompts: ['Q {{q}}']\nproviders:\n  - {id: openai:o4-mini, config: {temperature: 0.7, max_tokens: 9}}\n"
        "  - {id: openai:gpt-4.1, config: {temperature: 0.2}}\n  - openai:gpt-5-mini\n" + tests
    )
    imported = import_promptfoo_config(config, name="pf")
    assert imported.unsupported == []
    assert imported.suite["providers"] == ["openai:o4-mini", "openai:gpt-4.1", "openai:gpt-5-mini"]
    # the parameters are the chat model's, promptfoo's default max_tokens included; the first provider is the model
    assert imported.suite["model"] == {"provider": "openai", "name": "o4-mini", "temperature": 0.2, "max_tokens": 1024}
    assert any("no temperature and no max_tokens to the reasoning model 'o4-mini'" in n for n in imported.notes)

    # a second chat model with other parameters, or reasoning models with other seeds, cannot share them
    config.write_text(
        "prompts: ['Q {{q}}']\nproviders:\n  - openai:gpt-4.1\n  - {id: openai:gpt-4o, config: {max_tokens: 9}}\n"
        "  - {id: openai:o3, config: {seed: 4}}\n" + tests
    )
    joined = "\n".join(import_promptfoo_config(config, name="pf").unsupported)
    assert "providers[1]: provider 'openai:gpt-4o' with other max_tokens than the suite's" in joined
    assert "providers[2]: provider 'openai:o3' with other seed than the suite's" in joined

    # reasoning models alone: nothing but the seed is sent, so the suite's model holds nothing else
    config.write_text("prompts: ['Q {{q}}']\nproviders: [openai:o3-mini]\n" + tests)
    assert import_promptfoo_config(config, name="pf").suite["model"] == {"provider": "openai", "name": "o3-mini"}


async def test_a_cancelled_matrix_names_the_unfinished_combinations(fake_openai, openai_config):
    import asyncio

    cancel = asyncio.Event()

    def slow_after_first(body):
        delay = 0.0 if len(fake_openai.requests) <= 2 else 5.0
        return FakeResponse(body=completion(f"{body['model']} says goal"), delay=delay)

    fake_openai.answer = slow_after_first

    def stop_after_first_batch(batch):
        cancel.set()

    report = await run_suite(
        matrix_suite(),
        templates=PROMPTS,
        options=RunOptions(concurrency=2, batch_size=1),
        provider_config=openai_config,
        on_results=stop_after_first_batch,
        cancel=cancel,
    )
    assert report.summary.status == "error" and report.summary.cancelled
    finished = {(r.case_id, r.prompt, r.provider) for r in report.results}
    unfinished = {(ref.case_id, ref.prompt, ref.provider) for ref in report.not_run}
    assert finished and unfinished and not finished & unfinished
    assert len(finished) + len(unfinished) == 12
    assert all(ref.prompt in PROMPTS and ref.provider.startswith("openai:") for ref in report.not_run)
    assert sum(c.not_run for c in report.summary.combinations) == len(report.not_run)
    assert {c.status for c in report.summary.combinations if c.not_run} == {"error"}
