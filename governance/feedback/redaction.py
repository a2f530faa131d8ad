"""Personal data out of feedback texts before they are stored, by the same patterns the `no-pii` assertion uses."""

from __future__ import annotations

from evals.assertions.safety import find_pii


def redact(text: str | None) -> tuple[str | None, int]:
    """``text`` with every email, phone number, IBAN and national ID replaced by ``[kind]``; and how many.

    Overlapping matches are replaced by the first; what a replacement leaves may still hold personal data
    (``+1 415 555 0100.a.b@example.org``: the phone number takes the digits, an address is left), so passes
    repeat until the assertion's patterns find nothing.
    """
    if not text:
        return text, 0
    total = 0
    for _ in range(_MAX_PASSES):
        text, count = _redact_once(text)
        total += count
        if count == 0:
            break
    return text, total


_MAX_PASSES = 8


def _redact_once(text: str) -> tuple[str, int]:
    found = sorted(find_pii(text), key=lambda item: item[1].start())
    parts: list[str] = []
    position = count = 0
    for kind, match in found:
        if match.start() < position:
            continue  # overlaps a piece already replaced (a phone-like run inside an IBAN, say)
        parts += [text[position : match.start()], f"[{kind}]"]
        position, count = match.end(), count + 1
    parts.append(text[position:])
    return "".join(parts), count
