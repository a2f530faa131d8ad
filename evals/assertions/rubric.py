"""``llm-rubric``: a judge model grades the output against a rubric written in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from evals.assertions.registry import ArgError, AssertionContext, Verdict, assertion
from evals.suite import AssertSpec


@dataclass(frozen=True, slots=True)
class RubricArgs:
    """Prepared arguments of ``llm-rubric``.

    Attributes:
        rubric: What a good answer does; a template rendered with the case's vars.
        threshold: Minimum judge score for a pass, on top of the judge's own pass; None to use only that.
        provider: A judge provider for this assertion alone (e.g. ``openai:gpt-4o``), or None.
    """

    rubric: str
    threshold: float | None
    provider: str | None


def _rubric_args(spec: AssertSpec) -> RubricArgs:
    if not isinstance(spec.value, str) or not spec.value.strip():
        raise ArgError("value", "'llm-rubric' needs the rubric text as value")
    return RubricArgs(spec.value, spec.threshold, spec.provider)


@assertion("llm-rubric", prepare=_rubric_args, threshold="unit")
async def llm_rubric(output: str, args: RubricArgs, ctx: AssertionContext) -> Verdict:
    """A judge model grades the output against the rubric and returns {pass, score, reason}."""
    if ctx.judge is None:
        raise ValueError("no judge is configured for llm-rubric")
    verdict = await ctx.judge(rubric=args.rubric, output=output, vars=ctx.vars, spec=args)
    if args.threshold is not None and verdict.passed and verdict.score < args.threshold:
        return Verdict(
            False, verdict.score, f"score {verdict.score:.2f} below threshold {args.threshold:.2f}: {verdict.reason}"
        )
    return verdict
