"""Template rendering (sandboxed, strict) and the streaming YAML reader (same data as safe_load)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from evals.templates import PromptRenderer, RenderError
from evals.yaml_stream import load_yaml
from tests.evals.conftest import make_suite


def test_messages_form_and_strict_undefined():
    suite = make_suite(
        messages=[
            {"role": "system", "content": "Policy: {{ documents.leave.content }}"},
            {"role": "user", "content": "{{ prompt }}"},
        ]
    )
    renderer = PromptRenderer(suite, {"main": "Q: {{ msg }}"})
    messages = renderer.render({"msg": "hi", "documents": {"leave": {"content": "30 days"}}})
    assert messages == [{"role": "system", "content": "Policy: 30 days"}, {"role": "user", "content": "Q: hi"}]
    with pytest.raises(RenderError, match="'msg' is undefined"):
        renderer.render({"documents": {"leave": {"content": ""}}})


def test_sandbox_blocks_unsafe_attributes():
    renderer = PromptRenderer(make_suite(), {"main": "{{ msg.__class__.__mro__ }}"})
    with pytest.raises(RenderError):
        renderer.render({"msg": "x"})


scalars = st.one_of(
    st.text(max_size=20), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False, allow_infinity=False)
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)


@given(documents)
def test_streaming_reader_matches_safe_load(data):
    text = yaml.safe_dump(data)
    assert load_yaml(text) == yaml.safe_load(text)


def test_anchors_merge_keys_and_errors():
    text = "base: &b {x: 1, y: [1, 2]}\nuse: *b\nmerged:\n  <<: *b\n  x: 3\nwhen: 2025-01-02\n"
    assert load_yaml(text) == yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [1, 2\n")


@pytest.mark.parametrize("key", ["~", "null", "Null", "''"])
def test_null_and_empty_mapping_keys_read_as_safe_load_reads_them(key):
    text = f"outer:\n  {key}: 1\n  b: 2\nafter: 3\n"
    assert load_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "scalar",
    [
        "yes",
        "Yes",
        "on",
        "OFF",
        "~",
        "null",
        "1_000",
        "0x1f",
        "017",
        "1.5e3",
        ".inf",
        "-.NaN",
        "2025-01-02",
        "12:30",
        "'yes'",
        '"1"',
        "'~'",
        "! yes",
        "! 12",
        "|\n    yes\n",
        ">\n    12\n",
        "plain words",
        "<<x",
    ],
)
def test_every_scalar_style_reads_as_safe_load_reads_it_again_and_again(scalar):
    """Plain scalars' YAML 1.1 types are resolved once per value and reused: the answer stays safe_load's."""
    in_flow = "x" if "\n" in scalar else scalar  # block scalars have no flow form
    text = f"first: {scalar}\nsecond: [{in_flow}]\n"
    for _ in range(2):
        assert repr(load_yaml(text)) == repr(yaml.safe_load(text))
