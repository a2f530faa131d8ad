"""Judges for ``llm-rubric``: a model that grades against a rubric, or the labelled offline heuristic.

The judge prompt is a template file (``llm_rubric.md``) in the judge prompts folder the caller
passes, by default the repository's ``prompts/judges``. The judge must answer JSON
``{"pass": bool, "score": 0..1, "reason": str}``; anything else is an assertion *error*, never a pass.

With the offline provider as judge there is no model to ask. Rather than error on every rubric (the
demo and offline CI would then never pass), the offline judge gives a deterministic verdict from a
word-overlap heuristic and says so in every reason ("offline judge: heuristic, not a model's verdict"),
and the report's summary marks ``judge_offline``. It is a stand-in to exercise the pipeline, never
evidence of quality.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from evals.assertions import JudgeOptions, Verdict
from evals.assertions.structured import parse_json_output
from evals.calls import ModelCaller
from evals.templates import render_text

JUDGE_PROMPT_FILE = "llm_rubric.md"


def default_judge_prompts_dir() -> Path:
    """The repository's ``prompts/judges`` folder, found relative to the evals package."""
    return Path(__file__).resolve().parent.parent / "prompts" / "judges"


def load_judge_prompt(prompts_dir: Path | None) -> str:
    """Read the llm-rubric judge prompt template.

    Raises:
        OSError: The file is missing or unreadable.
    """
    return ((prompts_dir or default_judge_prompts_dir()) / JUDGE_PROMPT_FILE).read_text(encoding="utf-8")


def parse_verdict(text: str) -> Verdict:
    """Read a judge's JSON answer.

    Raises:
        ValueError: The answer is not a JSON object with a boolean ``pass``, a 0..1 ``score`` and a ``reason``.
    """
    try:
        data = parse_json_output(text)
    except ValueError:
        raise ValueError(f"malformed judge output (not JSON): {text[:200]!r}") from None
    if not isinstance(data, dict):
        raise ValueError(f"malformed judge output (not a JSON object): {text[:200]!r}")
    passed = data.get("pass")
    score = data.get("score", 1.0 if passed is True else 0.0)
    reason = data.get("reason")
    if not isinstance(passed, bool):
        raise ValueError(f'malformed judge output ("pass" must be true or false): {text[:200]!r}')
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0.0 <= score <= 1.0:
        raise ValueError(f'malformed judge output ("score" must be a number 0..1): {text[:200]!r}')
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f'malformed judge output ("reason" missing): {text[:200]!r}')
    return Verdict(passed, float(score), f"judge: {reason.strip()}")


class ModelJudge:
    """Asks a model (through the runner's cached, rate-limited, retried caller) to grade a rubric."""

    offline = False

    def __init__(self, caller: ModelCaller, prompt_template: str) -> None:
        """Set up a judge.

        Args:
            caller: How to call the judge's provider.
            prompt_template: The judge prompt template text (``{{ rubric }}``, ``{{ output }}``).
        """
        self._caller = caller
        self._template = prompt_template

    async def __call__(self, *, rubric: str, output: str, vars: Mapping[str, object], spec: JudgeOptions) -> Verdict:
        """Grade ``output`` against ``rubric`` (a template rendered with the case's vars)."""
        rendered_rubric = render_text(rubric, vars, "llm-rubric value")
        prompt = render_text(self._template, {"rubric": rendered_rubric, "output": output}, JUDGE_PROMPT_FILE)
        answer = await self._caller.call([{"role": "user", "content": prompt}], case_id=None)
        return parse_verdict(answer.text)


_WORD = re.compile(r"[a-z][a-z'-]{3,}")
_STOPWORDS = frozenset(
    {
        "that", "this", "with", "from", "have", "should", "must", "will", "would", "their", "there",
        "about", "which", "what", "when", "where", "into", "than", "then", "them", "they", "your",
        "yours", "does", "doesn't", "answer", "response", "output", "reply", "ensure", "makes", "make",
    }
)  # fmt: skip
OFFLINE_LABEL = "offline judge: deterministic word-overlap heuristic, not a model's verdict"


class OfflineJudge:
    """A deterministic, clearly labelled stand-in verdict: the share of rubric terms the output mentions."""

    offline = True

    def __init__(self, pass_at: float = 0.5) -> None:
        self._pass_at = pass_at

    async def __call__(self, *, rubric: str, output: str, vars: Mapping[str, object], spec: JudgeOptions) -> Verdict:
        """Score = share of the rubric's content words (first five letters) found in the output."""
        rendered_rubric = render_text(rubric, vars, "llm-rubric value")
        terms = sorted({w[:5] for w in _WORD.findall(rendered_rubric.lower()) if w not in _STOPWORDS})
        if not terms:
            raise ValueError(f"{OFFLINE_LABEL}: the rubric has no content words to look for")
        text = output.lower()
        found = [t for t in terms if t in text]
        score = len(found) / len(terms)
        return Verdict(score >= self._pass_at, score, f"[{OFFLINE_LABEL}] {len(found)}/{len(terms)} rubric terms found")
