"""Assertions on how the answer was produced: latency and cost of the model call."""

from __future__ import annotations

from evals.assertions.registry import ArgError, AssertionContext, Verdict, assertion
from evals.suite import AssertSpec


def _limit(spec: AssertSpec) -> float:
    if spec.threshold is not None and spec.value is not None and spec.value != spec.threshold:
        raise ArgError("value", f"'{spec.type}' takes its limit once, as threshold (value {spec.value!r} differs)")
    limit = spec.threshold if spec.threshold is not None else spec.value
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0:
        raise ArgError("threshold", f"'{spec.type}' needs a threshold >= 0")
    return float(limit)


@assertion("latency", prepare=_limit, threshold="positive")
def latency(output: str, limit_ms: float, ctx: AssertionContext) -> Verdict:
    """The model call took at most ``threshold`` milliseconds (a cached answer keeps its original latency)."""
    if ctx.latency_ms is None:
        raise ValueError("latency is unknown for this answer")
    if ctx.latency_ms <= limit_ms:
        return Verdict(True, 1.0, f"latency {ctx.latency_ms:.0f} ms <= {limit_ms:.0f} ms")
    return Verdict(False, 0.0, f"latency {ctx.latency_ms:.0f} ms > {limit_ms:.0f} ms")


@assertion("cost", prepare=_limit, threshold="positive")
def cost(output: str, limit_usd: float, ctx: AssertionContext) -> Verdict:
    """The model call cost at most ``threshold`` US dollars."""
    if ctx.cost_usd is None:
        raise ValueError("cost is unknown for this model: add it to the price table")
    if ctx.cost_usd <= limit_usd:
        return Verdict(True, 1.0, f"cost ${ctx.cost_usd:.6f} <= ${limit_usd:.6f}")
    return Verdict(False, 0.0, f"cost ${ctx.cost_usd:.6f} > ${limit_usd:.6f}")
