"""Personal data is replaced by the kind it was, using the no-pii assertion's own patterns."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from evals.assertions.safety import find_pii
from governance.feedback.redaction import redact


def test_every_kind_the_no_pii_assertion_finds_is_redacted():
    text = (
        "Mail jane.doe@example.com or call +44 20 7946 0958; SSN 123-45-6789; "
        "IBAN GB82 WEST 1234 5698 7654 32. Goal: ship the Q3 report by 2025-09-30, 20% faster."
    )
    redacted, count = redact(text)
    assert count == 4
    assert "[email]" in redacted and "[phone]" in redacted and "[national-id]" in redacted and "[iban]" in redacted
    assert "jane.doe" not in redacted and "7946" not in redacted and "6789" not in redacted and "WEST" not in redacted
    # What is not personal data stays as it was.
    assert "ship the Q3 report by 2025-09-30, 20% faster." in redacted
    assert find_pii(redacted) == []


def test_text_without_personal_data_is_unchanged():
    assert redact("Set a goal to mentor two juniors.") == ("Set a goal to mentor two juniors.", 0)
    assert redact(None) == (None, 0)


PIECES = st.sampled_from(["a.b@example.org", "+1 415 555 0100", "123-45-6789", "GB82 WEST 1234 5698 7654 32", " ", "x"])


@example("+1 415 555 0100.a.b@example.org")  # the phone number takes the digits, an address is left behind
@given(st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=12).map("".join))
def test_redacted_text_holds_nothing_the_assertion_would_find(text):
    redacted, _count = redact(text)
    assert redacted is not None and find_pii(redacted) == []
