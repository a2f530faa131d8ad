"""Domain errors and the field paths they name."""

from __future__ import annotations

import pytest

from governance.kernel.errors import field_path


@pytest.mark.parametrize(
    ("location", "path"),
    [
        ((), ""),
        (("name",), "name"),
        (("documents", 2, "title"), "documents[2].title"),
        (("spec", "cases", 0, "asserts", 1), "spec.cases[0].asserts[1]"),
        ((0, "name"), "[0].name"),
    ],
)
def test_a_validation_error_location_reads_as_a_field_path(location, path):
    assert field_path(location) == path
