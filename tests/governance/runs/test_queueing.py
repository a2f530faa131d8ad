"""Queueing: a cut queues one run per suite, in chunks of the unit of work's size, handed over after commit."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.audit.reading import export_events
from governance.catalog.products import get_product
from governance.releases.cutting import cut_release_by_hand, cut_releases
from governance.releases.models import ReleaseState
from governance.runs.models import ChunkState, RunState
from tests.factories import suite_spec
from tests.governance.runs.conftest import chunks_of, publish_suite, runs_of


def test_a_cut_queues_one_run_per_suite_in_chunks_of_the_unit_of_works_size(session, owner, product):
    session.chunk_size = 2
    publish_suite(session, owner, product, "quality", cases=5)
    session.take_queued_chunks()
    release = publish_suite(session, owner, product, "safety", cases=3)
    assert release.state == ReleaseState.testing.value
    quality, safety = runs_of(session, release)
    assert [(r.suite_name, r.suite_version, r.planned, r.state) for r in (quality, safety)] == [
        ("quality", 1, 5, RunState.queued.value),
        ("safety", 1, 3, RunState.queued.value),
    ]
    assert all(r.manifest_hash == release.manifest_hash and r.attempt == 1 for r in (quality, safety))
    assert quality.provider == "offline:m" and quality.offline and quality.created_by == owner.name
    assert [c.case_ids for c in chunks_of(session, quality)] == [["case-0", "case-1"], ["case-2", "case-3"], ["case-4"]]
    assert [c.case_ids for c in chunks_of(session, safety)] == [["case-0", "case-1"], ["case-2"]]
    new_chunks = [c.id for run in (quality, safety) for c in chunks_of(session, run)]
    assert all(
        c.state == ChunkState.queued.value and c.attempts == 0
        for run in (quality, safety)
        for c in chunks_of(session, run)
    )
    # The chunk ids wait in the unit of work for the edge to hand over once it has committed.
    queued = session.take_queued_chunks()
    assert queued == new_chunks
    assert session.take_queued_chunks() == []


def test_an_explicit_chunk_size_wins_over_the_unit_of_works(session, owner, product):
    publish_suite(session, owner, product, "quality", cases=4)
    session.chunk_size = 3
    cut = cut_releases(session, owner, [get_product(session, product)], {"kind": "manual"}, force=True, chunk_size=1)
    (run,) = runs_of(session, cut[0])
    assert [c.case_ids for c in chunks_of(session, run)] == [["case-0"], ["case-1"], ["case-2"], ["case-3"]]


def test_repeats_count_in_the_plan_but_a_case_is_chunked_once(session, owner, product):
    spec = suite_spec("quality", cases=3)
    spec["cases"][1]["repeat"] = 4
    release = publish_suite(session, owner, product, "quality", spec=spec)
    (run,) = runs_of(session, release)
    assert run.planned == 6
    assert [case for c in chunks_of(session, run) for case in c.case_ids] == ["case-0", "case-1", "case-2"]


def test_a_release_without_suites_fails_at_once_with_a_reason(session, owner, product):
    session.take_queued_chunks()
    release = cut_release_by_hand(session, owner, product, "first")
    assert release.state == ReleaseState.failed.value
    assert release.error == "the product has no eval suites: publish one, or sign off with a written waiver"
    assert runs_of(session, release) == []
    assert session.take_queued_chunks() == []
    failed = [r for r in export_events(session, product=product) if r["action"] == "release.failed"]
    assert [(r["actor"], r["reason"], r["before"]) for r in failed] == [("system", release.error, {"state": "testing"})]


def test_a_rolled_back_cut_hands_over_nothing(session, owner, product):
    session.take_queued_chunks()
    publish_suite(session, owner, product, "quality", cases=3)
    assert session.queued_chunks
    session.rollback()
    assert session.take_queued_chunks() == []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.integers(min_value=1, max_value=9), size=st.integers(min_value=1, max_value=5))
def test_chunks_split_the_cases_in_order_without_gaps_or_overlaps(session, owner, product, cases, size):
    with session.begin_nested() as savepoint:
        session.chunk_size = size
        release = publish_suite(session, owner, product, "quality", cases=cases)
        (run,) = runs_of(session, release)
        chunks = chunks_of(session, run)
        assert len(chunks) == math.ceil(cases / size)
        assert [c.index for c in chunks] == list(range(len(chunks)))
        assert all(0 < len(c.case_ids) <= size for c in chunks)
        assert [case for c in chunks for case in c.case_ids] == [f"case-{i}" for i in range(cases)]
        savepoint.rollback()
    session.take_queued_chunks()


def test_superseding_a_release_cancels_its_queued_runs_and_chunks(session, owner, product):
    older = publish_suite(session, owner, product, "quality", cases=2)
    newer = publish_suite(session, owner, product, "safety", cases=2)
    assert older.state == ReleaseState.superseded.value
    assert {r.state for r in runs_of(session, older)} == {RunState.cancelled.value}
    assert {c.state for run in runs_of(session, older) for c in chunks_of(session, run)} == {ChunkState.cancelled.value}
    assert {r.state for r in runs_of(session, newer)} == {RunState.queued.value}
    assert {c.state for run in runs_of(session, newer) for c in chunks_of(session, run)} == {ChunkState.queued.value}
