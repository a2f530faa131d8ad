"""History: a unified diff between any two versions of a component, and its refusals."""

from __future__ import annotations

import pytest

from governance.catalog import components
from governance.catalog.history import diff_versions, list_versions
from governance.catalog.schemas import PromptPublish
from governance.kernel.errors import Invalid, NotFound
from governance.kernel.pagination import decode_cursor
from tests.factories import make_product
from tests.governance.catalog.conftest import publish_document


def test_a_diff_of_two_document_versions_shows_what_changed(session, owner):
    publish_document(session, owner, "policy", "Goals are yearly.\nManagers approve.\n")
    component = publish_document(session, owner, "policy", "Goals are quarterly.\nManagers approve.\n").component
    diff = diff_versions(session, component, 1, 2)
    assert diff.splitlines() == [
        "--- policy@v1",
        "+++ policy@v2",
        "@@ -1,5 +1,5 @@",
        " title: Policy",
        " content_type: text/markdown",
        " ---",
        "-Goals are yearly.",
        "+Goals are quarterly.",
        " Managers approve.",
    ]
    assert diff_versions(session, component, 2, 1).splitlines()[3:] == [
        " title: Policy",
        " content_type: text/markdown",
        " ---",
        "-Goals are quarterly.",
        "+Goals are yearly.",
        " Managers approve.",
    ]
    assert diff_versions(session, component, 2, 2) == ""


def test_a_diff_of_prompt_versions_is_of_the_template(session, owner):
    slug = make_product(session, owner)
    components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Be kind."))
    result = components.publish_prompt(session, owner, slug, "system", PromptPublish(template="Be brief."))
    assert "-Be kind." in diff_versions(session, result.component, 1, 2).splitlines()
    assert "+Be brief." in diff_versions(session, result.component, 1, 2).splitlines()


@pytest.mark.parametrize(
    ("numbers", "error", "field"),
    [((0, 1), Invalid, "from"), ((1, -1), Invalid, "to"), ((1, 3), NotFound, "number"), ((9, 1), NotFound, "number")],
)
def test_a_diff_of_versions_that_do_not_exist_is_refused(session, owner, numbers, error, field):
    publish_document(session, owner, "policy", "v1")
    component = publish_document(session, owner, "policy", "v2").component
    with pytest.raises(error) as refused:
        diff_versions(session, component, *numbers)
    assert refused.value.problems[0].field == field


def test_versions_are_listed_in_order_page_by_page(session, owner):
    for content in ("v1", "v2", "v3", "v4", "v5"):
        component = publish_document(session, owner, "policy", content).component
    numbers, after = [], 0
    while True:
        page = list_versions(session, component, after=after, limit=2)
        numbers.extend(version.number for version in page.items)
        if page.next is None:
            break
        after = decode_cursor(page.next)
    assert numbers == [1, 2, 3, 4, 5]
