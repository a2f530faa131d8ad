"""``rouge-n``: ROUGE-1 as promptfoo scores it, so an imported threshold means the same.

promptfoo lowercases both texts, splits them with js-rouge's Penn Treebank tokenizer (``treeBankTokenize``,
js-rouge 3.2) and takes the F1 of clipped unigram counts (Lin, 2004). The tokenizer is ported here rule for
rule; its Unicode classes (``\\p{Ps}``, ``\\p{ID_Continue}``, ...) need the ``regex`` package, imported on first
use. JavaScript indexes strings in UTF-16 code units; the two rules that look one unit back see half of a
character outside the Basic Multilingual Plane there, which matches nothing, and :func:`_unit_before` says so.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from typing import Any

from evals.assertions.registry import AssertionContext, Verdict, assertion
from evals.assertions.text import ReferenceArgs, reference_args
from evals.suite import AssertSpec

DEFAULT_ROUGE_THRESHOLD = 0.75  # promptfoo's default for rouge-n

# JavaScript's \s (WhiteSpace and LineTerminator): not Python's, which adds U+001C-U+001F and lacks U+FEFF
_JS_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_NOTHING = "\udc00"  # a lone low surrogate: what JavaScript sees one unit before a character outside the BMP


@functools.cache
def _patterns() -> dict[str, Any]:
    import regex

    word = r"[\p{ID_Continue}\u200c\u200d]"
    contractions = [
        "(can)(not)", "(d)('ye)", "(gim)(me)", "(gon)(na)", "(got)(ta)", "(lem)(me)", "(more)('n)",
        "(wan)(na)(?= )", "('t)(is)", "('t)(was)",
    ]  # fmt: skip
    return {
        "spaces": regex.compile(f"[{_JS_SPACE}\\u0085]+"),
        "quotes": regex.compile(r"``|''|\""),
        "opening_before": regex.compile(rf"[{_JS_SPACE}\p{{Ps}}<]"),
        "punctuation_before": regex.compile(rf"[{_JS_SPACE}\p{{P}}<]"),
        "word_after_quote": regex.compile(r"[\p{L}\p{N}\p{Sc}\p{Ps}]"),
        "footnote_after": regex.compile(rf"[{_JS_SPACE}.,;:!?\"'\u201c\u2018\u201d\u2019\])}}>]"),
        "modifier": regex.compile(r"\p{Lm}"),
        "number": regex.compile(r"\p{N}"),
        "steps": [
            (regex.compile(r"\.{3}"), " ... "),
            (regex.compile(r"[:,](?!\p{Nd})"), r" \g<0> "),
            (regex.compile(r"[;@#$%&]"), r" \g<0> "),
            # JavaScript without the u flag: \b is ASCII's, $ only the very end
            (regex.compile(r"([^.])(?<!\b[A-Za-z]\.[A-Za-z])(\.)([\])}>'\s]*)\Z", regex.ASCII), r"\1 \2\3 "),
            (regex.compile(r"[?!]"), r" \g<0> "),
            (regex.compile(r"[\][(){}<>]"), r" \g<0> "),
            (regex.compile(r"--"), " -- "),
        ],
        "splits": [
            (regex.compile(r"([^'])' "), r"\1 ' "),
            (regex.compile(r"'([sSmMdD]) "), r" '\1 "),
            (regex.compile(r"('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r" \1 "),
            *[(regex.compile(f"(?<!{word}){c}(?!{word})", regex.IGNORECASE), r" \1 \2 ") for c in contractions],
        ],
        "runs_of_spaces": regex.compile(" {2,}"),
    }


def _unit_before(text: str, index: int) -> str:
    """The UTF-16 code unit JavaScript's ``text[index - 1]`` reads, as far as any pattern here can tell."""
    char = text[index - 1]
    return char if ord(char) <= 0xFFFF else _NOTHING


def _follows_quoted_modifier(text: str, index: int, p: dict[str, Any]) -> bool:
    """A modifier letter closing a quoted sentence (``."ᵃ``, a footnote mark), numbers after it allowed."""
    at = index - 1
    if at < 0 or not p["modifier"].fullmatch(text[at]):
        return False
    modifier = text[at]
    if unicodedata.normalize("NFKC", modifier) == modifier:
        return False
    if at + 1 < len(text) and not p["footnote_after"].fullmatch(text[at + 1]):
        return False
    start = at
    while start > 0 and p["number"].fullmatch(text[start - 1]):
        start -= 1
    return start >= 2 and text[start - 2] in ".!?" and text[start - 1] in "\"'\u201d\u2019"


def _opens_quote_context(text: str, index: int, p: dict[str, Any]) -> bool:
    return (
        index == 0
        or bool(p["punctuation_before"].fullmatch(_unit_before(text, index)))
        or text[max(0, index - 2) : index] == "``"
        or _follows_quoted_modifier(text, index, p)
    )


def _opens_before_word(text: str, index: int, p: dict[str, Any]) -> bool:
    """A ``''`` at ``index`` followed by a word (or currency, or bracket), with the next quote a ``''``."""
    after = text[index + 2 : index + 3]
    if not after or not p["word_after_quote"].fullmatch(after):
        return False
    following = p["quotes"].search(text, index + 2)  # looked up last: it scans ahead
    return following is not None and following.group() == "''"


def tree_bank_tokens(sentence: str) -> list[str]:
    """js-rouge's ``treeBankTokenize``: Penn Treebank word tokens of one sentence."""
    p = _patterns()
    text = p["spaces"].sub(" ", sentence).strip(" ")
    if not text:
        return []
    inside = False

    def classify(match: Any) -> str:
        nonlocal inside
        quote, index = match.group(), match.start()
        inside = quote == "``" or (
            (
                index + len(quote) < len(text)
                or index == 0
                or bool(p["opening_before"].fullmatch(_unit_before(text, index)))
            )
            and (not inside and _opens_quote_context(text, index, p))
            and not (index > 0 and text[index - 1] in ".!?")
            and (quote == '"' or (index > 0 and _opens_before_word(text, index, p)))
        )
        return " `` " if inside else " '' "

    parse: str = p["quotes"].sub(classify, text)
    for pattern, replacement in p["steps"]:
        parse = pattern.sub(replacement, parse)
    parse = f" {parse} "
    for pattern, replacement in p["splits"]:
        parse = pattern.sub(replacement, parse)
    parse = p["runs_of_spaces"].sub(" ", parse)
    parse = parse.removeprefix(" ").removesuffix(" ")
    return parse.split(" ")


def f_measure(precision: float, recall: float) -> float:
    """js-rouge's ``fMeasure`` with beta 1, operation for operation (so a score at a threshold rounds the same)."""
    if precision == recall:
        return precision
    if precision == 0 or recall == 0:
        return 0.0
    if precision > recall:
        return min(precision, recall * ((1 + 1.0) / (1 + 1.0 * (recall / precision))))
    return min(recall, precision * ((1 + 1.0) / (1 + 1.0 * (precision / recall))))


def rouge_1(candidate: str, reference: str) -> float:
    """promptfoo's ``rougeNScore`` (n=1): F1 of the clipped unigram overlap of the lowercased texts."""
    candidate_tokens = tree_bank_tokens(candidate.lower())
    reference_tokens = tree_bank_tokens(reference.lower())
    if not candidate_tokens or not reference_tokens:
        return 0.0
    overlap = sum((Counter(candidate_tokens) & Counter(reference_tokens)).values())
    if overlap == 0:
        return 0.0
    return f_measure(overlap / len(candidate_tokens), overlap / len(reference_tokens))


def _rouge_args(spec: AssertSpec) -> ReferenceArgs:
    return reference_args(spec, DEFAULT_ROUGE_THRESHOLD)


@assertion("rouge-n", prepare=_rouge_args, negation="not-rouge-n", threshold="unit")
def rouge_n(output: str, args: ReferenceArgs, ctx: AssertionContext) -> Verdict:
    """The output's ROUGE-1 F1 against the value is at least ``threshold`` (0.75), as promptfoo scores it."""
    score = rouge_1(output, args.reference)
    passed = score >= args.threshold
    side = "at least" if passed else "below"
    return Verdict(passed, score, f"ROUGE-1 score {score:.2f} is {side} the threshold {args.threshold:g}")
