"""How long the client's cached ``live()`` takes: the call a running product makes for every employee message.

Target: under 10 µs. The release is fetched once from an in-memory transport (the hot path never touches the
network), then ``live()`` is timed with ``timeit`` in rounds; the median round's per-call time is reported, next
to a plain dictionary lookup measured the same way for scale.

    .venv/bin/python bench/client_live.py            # prints a Markdown table
"""

from __future__ import annotations

import statistics
import sys
import timeit

import httpx

from steward_client import StewardClient

BODY = {
    "product": "goal-coach",
    "release": 3,
    "release_id": 3,
    "manifest_hash": "0" * 64,
    "went_live_at": "2026-12-01T00:00:00+00:00",
    "signed_off_by": "olivia",
    "approvers": ["ravi", "rita"],
    "model": {"provider": "openai", "name": "gpt-4o-mini"},
    "prompts": {"system": {"version": 1, "sha256": "", "template": "You coach employees at {{ company }}."}},
    "documents": {},
    "processes": {},
    "context": {"documents": [], "processes": [], "variables": ["company"]},
}


def main() -> int:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=BODY, headers={"etag": '"r3-0"'}))
    client = StewardClient("http://steward.invalid", "stw_bench", ttl=3600, verify=False, transport=transport)
    client.live("goal-coach")
    lookup = {"goal-coach": object()}
    calls, rounds = 200_000, 7
    live = [t / calls * 1e6 for t in timeit.repeat(lambda: client.live("goal-coach"), number=calls, repeat=rounds)]
    plain = [t / calls * 1e6 for t in timeit.repeat(lambda: lookup["goal-coach"], number=calls, repeat=rounds)]
    median = statistics.median(live)
    print("| call | median per call | min | rounds x calls |")
    print("| --- | --- | --- | --- |")
    print(f"| `client.live('goal-coach')`, cached | {median:.2f} µs | {min(live):.2f} µs | {rounds} x {calls:,} |")
    print(
        f"| a dictionary lookup in a lambda, for scale | {statistics.median(plain):.2f} µs | {min(plain):.2f} µs | "
        f"{rounds} x {calls:,} |"
    )
    print(f"\ntarget: under 10 µs per cached call: {'met' if median < 10 else 'NOT met'}")
    client.close()
    return 0 if median < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
