from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from governance.catalog.content import unified_diff
from governance.catalog.models import ComponentKind
from governance.kernel.canonical import content_sha256

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_hash_ignores_key_order(content):
    reordered = dict(reversed(list(content.items())))
    assert content_sha256(content) == content_sha256(reordered)


def test_hash_sees_any_change():
    assert content_sha256({"template": "a"}) != content_sha256({"template": "a "})


def test_diff_of_text_without_trailing_newline_stays_parseable():
    diff = unified_diff(ComponentKind.prompt, "system", (1, {"template": "a\nb"}), (2, {"template": "a\nc"}))
    assert diff.splitlines() == [
        "--- system@v1",
        "+++ system@v2",
        "@@ -1,2 +1,2 @@",
        " a",
        "-b",
        "\\ No newline at end of file",
        "+c",
        "\\ No newline at end of file",
    ]


def test_suite_diff_is_readable_yaml():
    old = {"spec": {"name": "q", "threshold": {"pass_rate": 0.9}}}
    new = {"spec": {"name": "q", "threshold": {"pass_rate": 0.8}}}
    diff = unified_diff(ComponentKind.suite, "q", (1, old), (2, new))
    assert "-  pass_rate: 0.9" in diff and "+  pass_rate: 0.8" in diff
