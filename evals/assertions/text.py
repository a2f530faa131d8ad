"""String assertions: equality, substrings, prefixes, regular expressions, length, edit distance, similarity."""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from evals.assertions.registry import ArgError, AssertionContext, Verdict, assertion
from evals.embedding_methods import EmbeddingMethod, missing_local_extra, parse_embedding_method
from evals.suite import AssertSpec


def quote(text: str, limit: int = 60) -> str:
    """``text`` in quotes, shortened with an ellipsis so reasons stay one line."""
    text = text.replace("\n", " ")
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _string_value(spec: AssertSpec) -> str:
    if not isinstance(spec.value, str) or spec.value == "":
        raise ArgError("value", f"'{spec.type}' needs a non-empty string value")
    return spec.value


def _string_list(spec: AssertSpec) -> list[str]:
    value = spec.value
    if isinstance(value, str) or not isinstance(value, list) or not value:
        raise ArgError("value", f"'{spec.type}' needs a non-empty list of strings as value")
    if not all(isinstance(item, str) and item for item in value):
        raise ArgError("value", f"'{spec.type}' needs every item of value to be a non-empty string")
    return list(value)


def _lower_list(spec: AssertSpec) -> list[str]:
    return [item.lower() for item in _string_list(spec)]


def _equals_value(spec: AssertSpec) -> object:
    if spec.value is None:
        raise ArgError("value", "'equals' needs a value")
    return spec.value


@assertion("equals", prepare=_equals_value, negation="not-equals")
def equals(output: str, expected: object, ctx: AssertionContext) -> Verdict:
    """The output equals the value exactly (a mapping or list value is compared as parsed JSON)."""
    if isinstance(expected, (dict, list)):
        try:
            parsed = json.loads(output)
        except ValueError:
            return Verdict(False, 0.0, "output is not JSON, so it cannot equal the expected object")
        same = parsed == expected
        return Verdict(
            same,
            float(same),
            "output JSON equals the expected object" if same else "output JSON differs from the expected object",
        )
    same = output == str(expected)
    if same:
        return Verdict(True, 1.0, f"output equals {quote(str(expected))}")
    return Verdict(False, 0.0, f"output {quote(output)} differs from {quote(str(expected))}")


@assertion("contains", prepare=_string_value, negation="not-contains")
def contains(output: str, needle: str, ctx: AssertionContext) -> Verdict:
    """The output contains the value (case-sensitive)."""
    if needle in output:
        return Verdict(True, 1.0, f"output contains {quote(needle)}")
    return Verdict(False, 0.0, f"output does not contain {quote(needle)}")


def _lower_value(spec: AssertSpec) -> str:
    return _string_value(spec).lower()


@assertion("icontains", prepare=_lower_value, negation="not-icontains")
def icontains(output: str, needle: str, ctx: AssertionContext) -> Verdict:
    """The output contains the value, ignoring case."""
    if needle in output.lower():
        return Verdict(True, 1.0, f"output contains {quote(needle)} (ignoring case)")
    return Verdict(False, 0.0, f"output does not contain {quote(needle)} (ignoring case)")


def _any_of(haystack: str, needles: list[str], suffix: str) -> Verdict:
    found = [n for n in needles if n in haystack]
    if found:
        return Verdict(True, 1.0, f"output contains {quote(found[0])}{suffix}")
    listed = ", ".join(quote(n, 30) for n in needles)
    return Verdict(False, 0.0, f"output contains none of {listed}{suffix}")


def _all_of(haystack: str, needles: list[str], suffix: str) -> Verdict:
    missing = [n for n in needles if n not in haystack]
    if not missing:
        return Verdict(True, 1.0, f"output contains all {len(needles)} values{suffix}")
    listed = ", ".join(quote(n, 30) for n in missing)
    score = 1.0 - len(missing) / len(needles)
    return Verdict(False, score, f"output lacks {listed}{suffix}")


@assertion("contains-any", prepare=_string_list, negation="not-contains-any")
def contains_any(output: str, needles: list[str], ctx: AssertionContext) -> Verdict:
    """The output contains at least one of the values (case-sensitive)."""
    return _any_of(output, needles, "")


@assertion("contains-all", prepare=_string_list, negation="not-contains-all")
def contains_all(output: str, needles: list[str], ctx: AssertionContext) -> Verdict:
    """The output contains every one of the values (case-sensitive)."""
    return _all_of(output, needles, "")


@assertion("icontains-any", prepare=_lower_list, negation="not-icontains-any")
def icontains_any(output: str, needles: list[str], ctx: AssertionContext) -> Verdict:
    """The output contains at least one of the values, ignoring case."""
    return _any_of(output.lower(), needles, " (ignoring case)")


@assertion("icontains-all", prepare=_lower_list, negation="not-icontains-all")
def icontains_all(output: str, needles: list[str], ctx: AssertionContext) -> Verdict:
    """The output contains every one of the values, ignoring case."""
    return _all_of(output.lower(), needles, " (ignoring case)")


@assertion("starts-with", prepare=_string_value, negation="not-starts-with")
def starts_with(output: str, prefix: str, ctx: AssertionContext) -> Verdict:
    """The output starts with the value (leading whitespace ignored)."""
    if output.lstrip().startswith(prefix):
        return Verdict(True, 1.0, f"output starts with {quote(prefix)}")
    return Verdict(False, 0.0, f"output starts with {quote(output.lstrip()[: len(prefix) + 10])}, not {quote(prefix)}")


def _compile_regex(spec: AssertSpec) -> re.Pattern[str]:
    pattern = _string_value(spec)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ArgError("value", f"invalid regular expression {pattern!r}: {exc}") from exc


@assertion("regex", prepare=_compile_regex, negation="not-regex")
def regex(output: str, pattern: re.Pattern[str], ctx: AssertionContext) -> Verdict:
    """The output matches the regular expression (Python syntax, searched anywhere)."""
    match = pattern.search(output)
    if match:
        return Verdict(True, 1.0, f"/{pattern.pattern}/ matches {quote(match.group(0))}")
    return Verdict(False, 0.0, f"/{pattern.pattern}/ matches nowhere in the output")


@dataclass(frozen=True, slots=True)
class LengthBounds:
    """Prepared arguments of ``length``."""

    min: int | None
    max: int | None
    unit: str


def _length_bounds(spec: AssertSpec) -> LengthBounds:
    value = spec.value
    if not isinstance(value, dict):
        raise ArgError("value", "'length' needs value: {min: N, max: N, unit: chars|words}")
    unknown = set(value) - {"min", "max", "unit"}
    if unknown:
        raise ArgError("value", f"'length' does not know {', '.join(sorted(unknown))}")
    low, high, unit = value.get("min"), value.get("max"), value.get("unit", "chars")
    if unit not in ("chars", "words"):
        raise ArgError("value", f"'length' unit must be chars or words, not {unit!r}")
    for bound in (low, high):
        if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool) or bound < 0):
            raise ArgError("value", "'length' min and max must be whole numbers >= 0")
    if low is None and high is None:
        raise ArgError("value", "'length' needs min, max or both")
    if low is not None and high is not None and low > high:
        raise ArgError("value", f"'length' min {low} is above max {high}")
    return LengthBounds(low, high, unit)


@assertion("length", prepare=_length_bounds)
def length(output: str, bounds: LengthBounds, ctx: AssertionContext) -> Verdict:
    """The output's length in chars or words lies within min and max (inclusive)."""
    size = len(output.split()) if bounds.unit == "words" else len(output)
    if bounds.min is not None and size < bounds.min:
        return Verdict(False, 0.0, f"output has {size} {bounds.unit}, fewer than the minimum {bounds.min}")
    if bounds.max is not None and size > bounds.max:
        return Verdict(False, 0.0, f"output has {size} {bounds.unit}, more than the maximum {bounds.max}")
    return Verdict(True, 1.0, f"output has {size} {bounds.unit}, within bounds")


DEFAULT_MAX_EDIT_DISTANCE = 5  # promptfoo's default for its levenshtein assertion


@dataclass(frozen=True, slots=True)
class ReferenceArgs:
    """Prepared arguments of an assertion that scores the output against one reference text: the text and the
    threshold (the largest edit distance for ``levenshtein``, the lowest score for ``rouge-n``)."""

    reference: str
    threshold: float


def reference_args(spec: AssertSpec, default_threshold: float) -> ReferenceArgs:
    """``spec``'s reference text (its string value) and its threshold, or ``default_threshold`` when it has none."""
    if not isinstance(spec.value, str):
        raise ArgError("value", f"'{spec.type}' needs the reference text as a string value")
    return ReferenceArgs(spec.value, default_threshold if spec.threshold is None else spec.threshold)


def _edit_distance_args(spec: AssertSpec) -> ReferenceArgs:
    args = reference_args(spec, DEFAULT_MAX_EDIT_DISTANCE)
    if args.threshold < 0:
        raise ArgError("threshold", f"'{spec.type}' needs a threshold >= 0 (the largest edit distance that passes)")
    return args


def _utf16_units(text: str) -> array[int]:
    return array("H", text.encode("utf-16-le", "surrogatepass"))


@assertion("levenshtein", prepare=_edit_distance_args, negation="not-levenshtein", threshold="positive")
def levenshtein(output: str, args: ReferenceArgs, ctx: AssertionContext) -> Verdict:
    """The output is at most ``threshold`` (5) single-character edits from the value (Levenshtein distance)."""
    from rapidfuzz.distance import Levenshtein  # here, not at the top: most runs never compare strings

    # Counted in UTF-16 code units, as promptfoo (JavaScript) counts, so an imported threshold means the same:
    # the same as characters, but for those outside the Basic Multilingual Plane (most emoji), which count two.
    distance = Levenshtein.distance(_utf16_units(output), _utf16_units(args.reference))
    passed = distance <= args.threshold
    return Verdict(
        passed,
        float(passed),
        f"edit distance {distance} to {quote(args.reference)} (at most {args.threshold:g} passes)",
    )


_SPACES = re.compile(r"\s+")
DEFAULT_SIMILARITY = 0.75


def normalise(text: str) -> str:
    return _SPACES.sub(" ", text.lower()).strip()


@dataclass(frozen=True, slots=True)
class SimilarArgs:
    """Prepared arguments of ``similar``: references as given, the threshold and the embedding method (or None)."""

    references: list[str]
    threshold: float
    embedding: EmbeddingMethod | None = None


def _references(spec: AssertSpec) -> SimilarArgs:
    value = spec.value
    refs = [value] if isinstance(value, str) else value
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) and r for r in refs):
        raise ArgError("value", "'similar' needs a reference string (or a list of them) as value")
    threshold = DEFAULT_SIMILARITY if spec.threshold is None else spec.threshold
    if spec.method is None or spec.method == "string":
        return SimilarArgs([normalise(r) for r in refs], threshold)
    try:
        method = parse_embedding_method(spec.method)
    except ValueError as exc:
        raise ArgError("method", str(exc)) from None
    # a local model that cannot load here is a suite error now, not an error in every case of the run
    missing = missing_local_extra(method)
    if missing is not None:
        raise ArgError("method", missing)
    return SimilarArgs(list(refs), threshold, method)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


@assertion("similar", prepare=_references, negation="not-similar", threshold="unit")
async def similar(output: str, args: SimilarArgs, ctx: AssertionContext) -> Verdict:
    """The output is similar to a reference: string ratio, or embeddings' cosine by ``method``, >= threshold (0.75)."""
    if args.embedding is None:
        from rapidfuzz import fuzz  # here, not at the top: most runs never compare strings (~18 ms of start-up)

        text = normalise(output)
        best = max(fuzz.ratio(text, ref) / 100.0 for ref in args.references)
        what = "similarity"
    else:
        if ctx.embed is None:
            raise ValueError(f"no embeddings endpoint is configured for {args.embedding.spec}")
        vectors = await ctx.embed(args.embedding, [output, *args.references])
        best = max(cosine(vectors[0], ref) for ref in vectors[1:])
        what = f"cosine similarity ({args.embedding.label})"
    passed = best >= args.threshold
    return Verdict(passed, best, f"{what} {best:.2f} to the closest reference (threshold {args.threshold:.2f})")
