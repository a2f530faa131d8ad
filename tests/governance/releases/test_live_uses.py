"""Which version of a component each product's live release holds, read from the live manifests."""

from __future__ import annotations

from governance.catalog import components, links
from governance.catalog.components import find_owned, find_shared
from governance.catalog.models import ComponentKind
from governance.catalog.products import get_product
from governance.catalog.schemas import DocumentPublish, LinksUpdate, ProcessPublish
from governance.releases.reading import live_uses
from tests.factories import make_product
from tests.governance.releases.conftest import change, make_live


def process(documents: list[str]) -> ProcessPublish:
    return ProcessPublish(name="Goal setting", steps=[{"name": "Draft", "actor": "employee"}], documents=documents)


def test_a_document_read_through_a_process_is_live_in_every_product_that_went_live_with_it(session, owner):
    components.publish_document(session, owner, "lu-policy", DocumentPublish(title="Policy", content="One."))
    components.publish_process(session, owner, "lu-goals", process(["lu-policy"]))
    first, second, never = (make_product(session, owner) for _ in range(3))
    for slug in (first, second, never):
        links.set_product_links(session, owner, slug, LinksUpdate(processes=["lu-goals"]))
    change(session, owner, first, "Help.")
    make_live(session, owner, first)
    components.publish_document(session, owner, "lu-policy", DocumentPublish(title="Policy", content="Two."))
    change(session, owner, second, "Help.")
    make_live(session, owner, second)

    policy = find_shared(session, ComponentKind.document, "lu-policy")
    uses = {use.product: (use.release_number, use.version) for use in live_uses(session, policy)}
    assert set(uses) == {first, second}
    assert uses[first][1] == 1 and uses[second][1] == 2
    assert [use.version for use in live_uses(session, find_shared(session, ComponentKind.process, "lu-goals"))] == [
        1,
        1,
    ]


def test_unlinking_does_not_hide_what_the_live_release_still_serves(session, owner):
    components.publish_document(session, owner, "lu-guide", DocumentPublish(title="Guide", content="One."))
    slug = make_product(session, owner)
    links.set_product_links(session, owner, slug, LinksUpdate(documents=["lu-guide"]))
    change(session, owner, slug, "Help.")
    live = make_live(session, owner, slug)
    links.set_product_links(session, owner, slug, LinksUpdate(documents=[]))
    guide = find_shared(session, ComponentKind.document, "lu-guide")
    assert [(use.product, use.release_id, use.version) for use in live_uses(session, guide)] == [(slug, live.id, 1)]


def test_a_prompt_is_live_only_in_its_own_product(session, owner):
    slug = make_product(session, owner)
    change(session, owner, slug, "Help.")
    make_live(session, owner, slug)
    change(session, owner, slug, "Help more.")
    prompt = find_owned(session, get_product(session, slug), ComponentKind.prompt, "system")
    assert [(use.product, use.version) for use in live_uses(session, prompt)] == [(slug, 1)]
