"""Cache keys are stable and sensitive; the SQLite cache persists across instances."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from evals import SQLiteResponseCache, cache_key

messages = st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "user"]), "content": st.text(max_size=40)}),
    min_size=1,
    max_size=4,
)
params = st.dictionaries(st.sampled_from(["temperature", "max_tokens", "seed"]), st.integers(0, 9), max_size=3)


@given(messages, params)
def test_key_is_stable_for_equal_inputs_in_any_key_order(msgs, parameters):
    reordered = dict(reversed(list(parameters.items())))
    assert cache_key("openai", "m", parameters, msgs) == cache_key("openai", "m", reordered, [dict(m) for m in msgs])


@given(messages, params, st.text(min_size=1, max_size=5))
def test_key_changes_with_any_input(msgs, parameters, extra):
    base = cache_key("openai", "m", parameters, msgs)
    assert cache_key("openai", "m2", parameters, msgs) != base
    assert cache_key("other", "m", parameters, msgs) != base
    assert cache_key("openai", "m", {**parameters, "sample": 1}, msgs) != base
    changed = [*msgs[:-1], {**msgs[-1], "content": msgs[-1]["content"] + extra}]
    assert cache_key("openai", "m", parameters, changed) != base


def test_sqlite_cache_persists_and_batches(tmp_path):
    path = tmp_path / "sub" / "cache.sqlite"
    cache = SQLiteResponseCache(path, batch_size=2)
    cache.put("k1", {"text": "a", "latency_ms": 1.0})
    assert cache.get("k1")["text"] == "a"  # visible before commit
    cache.put("k2", {"text": "b"})
    cache.put("k3", {"text": "ç"})
    cache.close()
    reopened = SQLiteResponseCache(path)
    assert reopened.get("k3") == {"text": "ç"} and reopened.get("missing") is None
    assert len(reopened) == 3
    reopened.close()
