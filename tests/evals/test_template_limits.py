"""The sandbox bounds what one render may cost: a published template must not stall or exhaust the server."""

from __future__ import annotations

import pytest

from evals import ProviderConfig, RunOptions, run_suite
from evals.templates import PromptRenderer, RenderError, TemplateLimits, check_syntax, render_text
from tests.evals.conftest import make_suite

# doubles a string forty times unless an operator refuses
DOUBLING = "{% set ns = namespace(s='ab') %}{% for i in range(40) %}"
KEPT = "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}"
# a list of 1,000 items, each the same list of 100,000 numbers: short, but 100 million numbers as text
AMPLIFIED = "{% set a = range(100000)|list %}{% set b = [a] * 1000 %}"
APPENDED = (
    "{% set a = range(100000)|list %}{% set b = [] %}{% for i in range(1000) %}{% set _ = b.append(a) %}{% endfor %}"
)


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ (7**(7**9)) % 10 }}", "the result of \\*\\* of [\\d,]+ bits exceeds the limit of 100,000 bits"),
        ("{{ ('a' * 10**8)|length }}", "the result of \\* of 100,000,000 items exceeds the limit of 1,000,000 items"),
        ("{% for i in range(10**9) %}x{% endfor %}", "range\\(\\) of 1,000,000,000 items exceeds the limit of 100,000"),
        ("{% for i in range(20000) %}{{ 'x' * 100 }}{% endfor %}", "rendered output of [\\d,]+ bytes exceeds"),
        ("{{ 'a'|center(10**9) }}", "center filter of 1,000,000,000 items exceeds"),
        ("{{ 'a'.ljust(10**9) }}", "str.ljust of 1,000,000,000 items exceeds"),
        ("{{ '%0999999999d' % 1 }}", "format width of 999,999,999 items exceeds"),
        ("{{ '{:>999999999}'.format(1) }}", "format width of 999,999,999 items exceeds"),
        ("{{ ('a' * 1000000)|replace('a', 'bb') }}", "replace filter of 2,000,000 items exceeds"),
        (
            DOUBLING + "{% set ns.s = ns.s + ns.s %}{% endfor %}",
            "the result of \\+ of [\\d,]+ items exceeds",
        ),
        (
            DOUBLING + "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "the result of ~ of [\\d,]+ items exceeds",
        ),
        (
            DOUBLING + "{% set ns.s = [ns.s, ns.s]|join %}{% endfor %}",
            "the result of the join filter of [\\d,]+ items exceeds",
        ),
        (
            DOUBLING + "{% set ns.s = ''.join([ns.s, ns.s]) %}{% endfor %}",
            "the result of str.join of [\\d,]+ items exceeds",
        ),
        (
            DOUBLING + "{% set ns.s = '{}{}'.format(ns.s, ns.s) %}{% endfor %}",
            "the result of str.format of [\\d,]+ items exceeds",
        ),
        (
            DOUBLING + "{% set ns.s = '%s%s' % (ns.s, ns.s) %}{% endfor %}",
            "the result of a % format of [\\d,]+ items exceeds",
        ),
        ("{{ [1]|batch(10**9, 'x')|list|length }}", "batch filter of 1,000,000,000 items exceeds"),
        ("{{ '%*d' % (10**9, 1) }}", "a % format width of 1,000,000,000 items exceeds"),
        ("{{ '{:{w}}'.format('a', w=10**9) }}", "format width of 1,000,000,000 items exceeds"),
        ("{{ '%.999999999f'|format(1) }}", "a format filter width of 999,999,999 items exceeds"),
        # a short list that holds a long one many times: its text is made in one call no deadline interrupts
        (AMPLIFIED + "{{ b }}", "a value written as text of [\\d,]+ items exceeds"),
        (AMPLIFIED + "{{ b|string|length }}", "a value given to the string filter of [\\d,]+ items exceeds"),
        (AMPLIFIED + "{{ b|tojson }}", "a value given to the tojson filter of [\\d,]+ items exceeds"),
        (AMPLIFIED + "{{ b|dump }}", "a value given to the dump filter of [\\d,]+ items exceeds"),
        (AMPLIFIED + "{{ b|upper }}", "a value given to the upper filter of [\\d,]+ items exceeds"),
        (AMPLIFIED + "{{ 'x' ~ b }}", "a value joined by ~ of [\\d,]+ items exceeds"),
        (AMPLIFIED + "{{ '%s' % (b,) }}", "a value in a % format of [\\d,]+ items exceeds"),
        (AMPLIFIED + "{{ '{}'.format(b) }}", "a value given to str.format of [\\d,]+ items exceeds"),
        (APPENDED + "{{ b }}", "a value written as text of [\\d,]+ items exceeds"),
        (AMPLIFIED + "{{ {'k': b}|items|list }}", "a value written as text of [\\d,]+ items exceeds"),
        # each step under its cap, but a loop keeps what it makes: 10,000 lists of 100,000 numbers, or strings
        (KEPT + "{% set _ = ns.l.append(range(100000)|list) %}{% endfor %}", "made in all \\(at the list filter\\) of"),
        (KEPT + "{% set _ = ns.l.append('x' * 1000000) %}{% endfor %}", "made in all \\(at the result of \\*\\) of"),
    ],
)
def test_a_template_over_a_cap_is_refused_with_its_reason(template: str, reason: str) -> None:
    renderer = PromptRenderer(make_suite(), {"main": template})
    with pytest.raises(RenderError, match=f"^prompt: template: .*{reason}"):
        renderer.render({})


def test_caps_are_parameters_of_the_renderer() -> None:
    limits = TemplateLimits(max_output_bytes=10, max_int_bits=16, max_sequence_length=5, max_range_length=3)
    with pytest.raises(RenderError, match="rendered output of 11 bytes exceeds the limit of 10 bytes"):
        PromptRenderer(make_suite(), {"main": "{{ x }}"}, limits).render({"x": "é" * 5 + "a"})
    for template, reason in [
        ("{{ 2**17 }}", "\\*\\* of [0-9]+ bits exceeds the limit of 16 bits"),
        ("{{ 'ab' * 3 }}", "6 items exceeds the limit of 5 items"),
        ("{% for i in range(4) %}{% endfor %}", "range\\(\\) of 4 items exceeds the limit of 3 items"),
    ]:
        with pytest.raises(RenderError, match=reason):
            render_text(template, {}, "t", limits)


def test_a_render_past_its_deadline_stops() -> None:
    limits = TemplateLimits(max_render_seconds=0.2)
    template = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    with pytest.raises(RenderError, match=r"render time exceeds the limit of 0\.2 seconds"):
        render_text(template, {}, "t", limits)


@pytest.mark.parametrize(
    "template",
    [
        "{% for x in text %}{% for y in text %}{% endfor %}{% endfor %}",
        "{% for x in items %}{% for y in items if y %}{% endfor %}{% endfor %}",
        "{% for x in text %}{% for y in items %}{{ loop.index0 and '' }}{% endfor %}{% endfor %}",
    ],
)
def test_loops_over_a_long_input_stop_at_the_deadline(template: str) -> None:
    # Empty loop bodies call no operator or filter and write nothing: only the paced iterable sees the time.
    limits = TemplateLimits(max_render_seconds=0.2)
    variables = {"text": "a" * 1_000_000, "items": list(range(1_000_000))}
    with pytest.raises(RenderError, match=r"render time exceeds the limit of 0\.2 seconds"):
        render_text(template, variables, "t", limits)


def test_paced_loops_keep_what_jinja_loops_do() -> None:
    template = "{% for x in items if x > 1 %}{{ loop.index }}/{{ loop.length }}:{{ x }} {% else %}none{% endfor %}"
    assert render_text(template, {"items": [1, 2, 3]}, "t") == "1/2:2 2/2:3 "
    assert render_text("{% for x in [] %}a{% else %}empty{% endfor %}", {}, "t") == "empty"
    tree = [{"n": 1, "c": [{"n": 2, "c": []}]}]
    recursive = "{% for item in tree recursive %}{{ item.n }}[{{ loop(item.c) }}]{% endfor %}"
    assert render_text(recursive, {"tree": tree}, "t") == "1[2[]]"
    assert render_text("{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %}", {"d": {"a": 1}}, "t") == "a=1"


def test_ordinary_templates_render_under_the_caps() -> None:
    template = "{{ 2**10 }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ '%05d' % 3 }} {{ 'a'|center(5) }}|{{ x * 2 }}"
    assert render_text(template, {"x": 21}, "t") == "1024 ababab [1, 2] 00003   a  |42"
    template = "{{ 'a' ~ x ~ 'b' }} {{ [1, 2]|join(',') }} {{ '%s-%s' % (1, 2) }} {{ '{}!'.format(x) }}"
    assert render_text(template, {"x": 1}, "t") == "a1b 1,2 1-2 1!"
    template = "{{ 'Order 123456789: %s' % x }} {{ 'Order 123456789: {:>3}'.format(x) }}"
    assert render_text(template, {"x": 1}, "t") == "Order 123456789: 1 Order 123456789:   1"
    assert render_text("{% autoescape true %}{{ '<' ~ x }}{% endautoescape %}", {"x": 1}, "t") == "&lt;1"
    # lists and dicts are still written as text, read and rearranged
    template = "{{ xs }} {{ d|tojson }} {{ xs|join('/') }} {{ '%s' % (xs,) }} {{ big|length }} {{ big|sum }}"
    assert render_text(template, {"xs": [1, "a"], "d": {"k": [1]}, "big": list(range(10**6))}, "t") == (
        "[1, 'a'] {\"k\": [1]} 1/a [1, 'a'] 1000000 499999500000"
    )


def test_check_syntax_names_the_line() -> None:
    assert check_syntax("Hello {{ name }}") is None
    reason = check_syntax("line one\n{{ oops")
    assert reason is not None and reason.startswith("syntax error on line 2:")


async def test_a_big_int_prompt_is_the_case_error_never_a_pass() -> None:
    report = await run_suite(
        make_suite(),
        templates={"main": "{{ (7**(7**9)) % 10 }}"},
        options=RunOptions(),
        provider_config=ProviderConfig(),
    )
    assert report.summary.status == "error"
    errors = [r.error for r in report.results]
    assert errors and all(e is not None and "exceeds the limit of 100,000 bits" in e for e in errors)


def test_promptfoos_dump_and_load_filters_write_and_read_json_as_javascript_does() -> None:
    variables = {"style": '{"tone": "formal", "n": [1, 2]}', "items": ["a", "é"], "obj": {"a": [1]}}
    assert render_text("{{ (style | load).tone }} {{ (style | load).n[1] }}", variables, "t") == "formal 2"
    # JSON.stringify: no spaces but with an indent, and text as it is (no \\u escapes)
    assert render_text("{{ items | dump }} {{ style | load | dump }}", variables, "t") == (
        '["a","é"] {"tone":"formal","n":[1,2]}'
    )
    assert render_text("{{ obj | dump(2) }}", variables, "t") == '{\n  "a": [\n    1\n  ]\n}'
    with pytest.raises(RenderError, match="JSONDecodeError"):
        render_text("{{ items[0] | load }}", variables, "t")


def test_a_loop_that_keeps_lists_made_from_a_long_variable_stops_at_the_render_total() -> None:
    template = "{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set _ = ns.l.append(doc|list) %}{% endfor %}"
    with pytest.raises(RenderError, match="made in all \\(at the list filter\\) of 5,000,000 items exceeds"):
        render_text(template, {"doc": "x" * 1_000_000}, "t")
    assert render_text("{{ (doc|list)|length }} {{ doc|reverse|length }}", {"doc": "x" * 1_000_000}, "t") == (
        "1000000 1000000"
    )


def test_a_loop_that_keeps_filtered_copies_of_a_long_variable_stops_at_the_render_total() -> None:
    template = (
        "{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set _ = ns.l.append(doc|upper) %}{% endfor %}"
    )
    with pytest.raises(RenderError, match="made in all \\(at the upper filter\\) of 5,000,000 items exceeds"):
        render_text(template, {"doc": "x" * 1_000_000}, "t")
    with pytest.raises(RenderError, match=r"made in all \(at str\.upper\) of 5,000,000 items exceeds"):
        render_text(template.replace("doc|upper", "doc.upper()"), {"doc": "x" * 1_000_000}, "t")
    # a document through a few filters and methods, as prompts use them, is far below it
    assert render_text("{{ (doc|trim|upper|replace('X', 'y'))|length }}", {"doc": "x" * 1_000_000}, "t") == "1000000"
    assert render_text("{{ doc.strip().replace('a', 'b').replace('c', 'd')|length }}", {"doc": "x" * 10**6}, "t") == (
        "1000000"
    )
