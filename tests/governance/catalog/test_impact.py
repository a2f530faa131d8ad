"""Impact analysis: every product that depends on a document or process, directly or through a process, with paths."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.catalog.impact import impacted_products
from governance.catalog.products import get_product
from tests.factories import make_product
from tests.governance.catalog.conftest import link, publish_document, publish_process


def paths_by_slug(session, component) -> dict[str, list[list[str]]]:
    return {item.slug: sorted(item.paths) for item in impacted_products(session, component)}


def test_a_document_referenced_by_a_linked_process_impacts_the_product_with_its_path(session, owner):
    policy = publish_document(session, owner, "policy").component
    publish_process(session, owner, "goal-setting", ["policy"])
    coach = make_product(session, owner, "coach")
    make_product(session, owner, "unrelated")
    link(session, owner, "coach", processes=["goal-setting"])
    (item,) = impacted_products(session, policy)
    assert (item.slug, item.product_id) == ("coach", get_product(session, "coach").id)
    assert item.paths == [[coach, "process:goal-setting", "document:policy"]]


def test_a_product_reaching_a_document_twice_gets_both_paths(session, owner):
    policy = publish_document(session, owner, "policy").component
    publish_process(session, owner, "goal-setting", ["policy"])
    publish_process(session, owner, "appraisal", ["policy"])
    make_product(session, owner, "coach")
    link(session, owner, "coach", documents=["policy"], processes=["goal-setting", "appraisal"])
    assert paths_by_slug(session, policy) == {
        "coach": [
            ["coach", "document:policy"],
            ["coach", "process:appraisal", "document:policy"],
            ["coach", "process:goal-setting", "document:policy"],
        ]
    }


def test_a_process_impacts_the_products_linked_to_it_and_nothing_through_its_documents(session, owner):
    publish_document(session, owner, "policy")
    process = publish_process(session, owner, "goal-setting", ["policy"]).component
    make_product(session, owner, "coach")
    make_product(session, owner, "reader")
    link(session, owner, "coach", processes=["goal-setting"])
    link(session, owner, "reader", documents=["policy"])
    assert paths_by_slug(session, process) == {"coach": [["coach", "process:goal-setting"]]}


def test_a_process_that_drops_a_document_no_longer_carries_its_impact(session, owner):
    policy = publish_document(session, owner, "policy").component
    publish_document(session, owner, "handbook")
    publish_process(session, owner, "goal-setting", ["policy"])
    make_product(session, owner, "coach")
    link(session, owner, "coach", processes=["goal-setting"])
    publish_process(session, owner, "goal-setting", ["handbook"])
    assert impacted_products(session, policy) == []


def test_an_unlinked_document_impacts_nothing(session, owner):
    policy = publish_document(session, owner, "policy").component
    make_product(session, owner, "coach")
    assert impacted_products(session, policy) == []


DOCUMENTS = ["doc-a", "doc-b", "doc-c"]
PROCESSES = ["proc-x", "proc-y"]
PRODUCTS = ["prod-1", "prod-2", "prod-3"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    uses=st.fixed_dictionaries({p: st.sets(st.sampled_from(DOCUMENTS)) for p in PROCESSES}),
    linked=st.fixed_dictionaries(
        {p: st.tuples(st.sets(st.sampled_from(DOCUMENTS)), st.sets(st.sampled_from(PROCESSES))) for p in PRODUCTS}
    ),
)
def test_impact_matches_a_walk_of_the_links(session, owner, uses, linked):
    with session.begin_nested() as savepoint:
        documents = {slug: publish_document(session, owner, slug).component for slug in DOCUMENTS}
        processes = {slug: publish_process(session, owner, slug, sorted(uses[slug])).component for slug in PROCESSES}
        for product, (docs, procs) in linked.items():
            make_product(session, owner, product)
            link(session, owner, product, documents=sorted(docs), processes=sorted(procs))
        for slug, document in documents.items():
            expected: dict[str, list[list[str]]] = {}
            for product, (docs, procs) in linked.items():
                paths = [[product, f"document:{slug}"]] if slug in docs else []
                paths += [[product, f"process:{p}", f"document:{slug}"] for p in procs if slug in uses[p]]
                if paths:
                    expected[product] = sorted(paths)
            assert paths_by_slug(session, document) == expected
        for slug, process in processes.items():
            assert paths_by_slug(session, process) == {
                product: [[product, f"process:{slug}"]] for product, (_, procs) in linked.items() if slug in procs
            }
        savepoint.rollback()
