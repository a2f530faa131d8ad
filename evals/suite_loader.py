"""Parsing suites: YAML or JSON in, a checked :class:`Suite` out, or a SuiteError with every problem.

Besides pydantic's shape checks this applies the rules that need the registries: assertion types
and their arguments (regexes compile, schemas are valid, thresholds are in range), provider names,
unique case ids, and offline fixtures that name real cases.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Any, Union, cast, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from evals.assertions import ArgError, assertion_names, get_assertion
from evals.case_spool import SpooledCases
from evals.embedding_methods import missing_local_extra, parse_embedding_method
from evals.fairness.spec import CompareSpec, DimensionSpec, FairnessSpec, FairnessThresholds, OutputSpec, TextSpec
from evals.fairness.variants import plan_variants
from evals.providers import parse_provider_spec, provider_names
from evals.suite import AssertSpec, Case, Defaults, MessageTemplate, ModelSpec, Suite, Threshold
from evals.suite_errors import SuiteError, SuiteErrorDetail
from evals.yaml_stream import SAFE_LOADER, StreamUnusual, load_yaml, stream_cases

Loc = tuple[str | int, ...]
"""Where in a suite document, e.g. ``("cases", 2, "asserts", 0, "value")``."""
Problem = tuple[Loc, str]
"""A place in the document and what is wrong there."""


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The model an annotation is, or holds as one member of a union (``FairnessSpec | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, UnionType):
        for member in get_args(annotation):
            if (model := _model_in(member)) is not None:
                return model
    return None


def _child(annotation: object, part: str | int) -> object | None:
    """The annotation of what ``part`` names inside a value of ``annotation`` (a field, a list item, a dict value)."""
    model = _model_in(annotation)
    if model is not None:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotation_of_field: object = field.annotation if field is not None else None
        return annotation_of_field
    members = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    for member in members:
        origin, args = get_origin(member), get_args(member)
        item: object = None
        if origin in (list, tuple) and isinstance(part, int) and args:
            item = args[0]
        elif origin is dict and isinstance(part, str) and len(args) == 2:
            item = args[1]
        if item is not None:
            return item
    return None


def _unknown_field_hint(loc: Sequence[str | int]) -> str:
    """`` (did you mean ...?)`` among the fields where the unknown key ``loc[-1]`` is, and one level below them.

    A key that belongs one level down is named with its path (``temperature`` at the top: ``model.temperature``).
    """
    key = str(loc[-1])
    annotation: object | None = Suite
    for part in loc[:-1]:
        annotation = _child(annotation, part) if annotation is not None else None
    model = _model_in(annotation)
    if model is None:
        close = difflib.get_close_matches(key, _FIELD_NAMES, n=1, cutoff=0.6)
        return f" (did you mean {close[0]!r}?)" if close else ""
    for name, field in model.model_fields.items():
        nested = _model_in(field.annotation)
        if nested is not None and key in nested.model_fields:
            return f" (did you mean {name + '.' + key!r}?)"
    close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# Every field name of the suite format: the candidates where a location's own model cannot be told.
_FIELD_NAMES = sorted(
    {
        name
        for model in (
            *(Suite, Case, AssertSpec, ModelSpec, Defaults, Threshold, MessageTemplate),
            *(FairnessSpec, DimensionSpec, CompareSpec, TextSpec, OutputSpec, FairnessThresholds),
        )
        for name in model.model_fields
    }
)


def format_path(loc: Sequence[str | int]) -> str:
    """``("cases", 2, "asserts", 0, "value")`` -> ``cases[2].asserts[0].value``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _case_id(data: object, loc: Sequence[str | int]) -> str | None:
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int) and isinstance(data, Mapping):
        cases = data.get("cases")
        if isinstance(cases, list) and 0 <= loc[1] < len(cases) and isinstance(cases[loc[1]], Mapping):
            case_id = cases[loc[1]].get("id")
            return str(case_id) if case_id is not None else None
    return None


def _pydantic_message(err: ErrorDetails) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"unknown field {str(err['loc'][-1])!r}" + _unknown_field_hint(err["loc"])
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error" and err["loc"] == ("version",):
        return f"unsupported suite format version {err.get('input')!r}; this engine reads version 1"
    if kind == "value_error":
        # a model validator's own message, without pydantic's "Value error, " prefix
        return str(err["msg"]).removeprefix("Value error, ")
    return str(err["msg"])


def check_assert(spec: AssertSpec, loc: Loc) -> list[Problem]:
    definition = get_assertion(spec.type)
    if definition is None:
        names = assertion_names()
        hint = ", ".join(n for n in names if n[:3] == spec.type[:3]) or ", ".join(names[:8]) + ", …"
        return [((*loc, "type"), f"unknown assertion {spec.type!r} (did you mean: {hint})")]
    problems: list[Problem] = []
    if spec.threshold is not None:
        if definition.threshold == "none":
            problems.append(((*loc, "threshold"), f"'{spec.type}' takes no threshold"))
        elif definition.threshold == "unit" and not 0.0 <= spec.threshold <= 1.0:
            problems.append(((*loc, "threshold"), f"threshold {spec.threshold} is out of range 0..1"))
        elif definition.threshold == "positive" and spec.threshold < 0:
            problems.append(((*loc, "threshold"), f"threshold {spec.threshold} must be >= 0"))
    if spec.provider is not None:
        if spec.type != "llm-rubric":
            problems.append(((*loc, "provider"), f"'{spec.type}' takes no provider"))
        else:
            problems.extend(((*loc, "provider"), msg) for msg in _provider_problems(spec.provider))
    if spec.method is not None and spec.type not in ("similar", "not-similar"):
        problems.append(((*loc, "method"), f"'{spec.type}' takes no method"))
    try:
        spec._prepared = definition.prepare(spec)
    except ArgError as exc:
        problems.append(((*loc, exc.field), str(exc)))
    return problems


def _provider_problems(spec: str) -> list[str]:
    try:
        name, _ = parse_provider_spec(spec)
    except ValueError as exc:
        return [str(exc)]
    if name not in provider_names():
        return [f"unknown provider {name!r}; known: {', '.join(provider_names())}"]
    return []


def _matrix_problems(suite: Suite) -> list[Problem]:
    """Unknown or repeated providers and repeated prompts: each would make a column that says nothing new."""
    problems: list[Problem] = []
    for key, names in (("prompts", suite.prompts or []), ("providers", suite.providers or [])):
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in seen:
                problems.append(((key, i), f"{name!r} is listed twice (first at {key}[{seen[name]}])"))
            seen.setdefault(name, i)
            if key == "providers":
                problems.extend(((key, i), msg) for msg in _provider_problems(name))
    if suite.prompts and suite.prompt not in suite.prompts:
        problems.append((("prompt",), f"{suite.prompt!r} is not one of `prompts`; leave `prompt` out or list it there"))
    return problems


def _semantic_problems(suite: Suite) -> list[Problem]:
    problems: list[Problem] = []
    problems.extend((("model", "provider"), msg) for msg in _provider_problems(suite.model.provider))
    problems.extend(_matrix_problems(suite))
    for j, spec in enumerate(suite.defaults.asserts):
        problems.extend(check_assert(spec, ("defaults", "asserts", j)))
    seen: dict[str, int] = {}
    for i, case in enumerate(suite.cases):
        problems.extend(_case_problems(case, i, seen))
        if not case.asserts and not suite.defaults.asserts:
            problems.append((("cases", i, "asserts"), "case has no assertions, so it could never fail"))
    return problems


def _case_problems(case: Case, i: int, seen: dict[str, int]) -> list[Problem]:
    """A repeated id (``seen``: ids so far and where) and the case's assertions' checks (which prepare them)."""
    problems: list[Problem] = []
    if case.id in seen:
        problems.append((("cases", i, "id"), f"duplicate case id {case.id!r} (first at cases[{seen[case.id]}])"))
    else:
        seen[case.id] = i
    for j, spec in enumerate(case.asserts):
        problems.extend(check_assert(spec, ("cases", i, "asserts", j)))
    return problems


def _raw_semantic_problems(data: Mapping[str, object], shape_errors: set[Loc]) -> list[Problem]:
    """The assertion, provider and case-id checks on a document that failed its shape check.

    Only parts with no shape error of their own (nor inside them) are checked, so nothing is reported twice.
    """

    def clean(loc: Loc) -> bool:
        return not any(err[: len(loc)] == loc for err in shape_errors)

    problems: list[Problem] = []
    model = data.get("model")
    if isinstance(model, Mapping) and isinstance(model.get("provider"), str) and clean(("model", "provider")):
        problems.extend((("model", "provider"), msg) for msg in _provider_problems(str(model["provider"])))
    asserts: list[tuple[Loc, object]] = []
    defaults = data.get("defaults")
    if isinstance(defaults, Mapping) and isinstance(defaults.get("asserts"), list):
        asserts += [(("defaults", "asserts", j), a) for j, a in enumerate(defaults["asserts"])]
    cases = data.get("cases")
    seen: dict[str, int] = {}
    for i, case in enumerate(cases if isinstance(cases, list) else []):
        if not isinstance(case, Mapping):
            continue
        case_id = case.get("id")
        if isinstance(case_id, str) and case_id in seen:
            problems.append((("cases", i, "id"), f"duplicate case id {case_id!r} (first at cases[{seen[case_id]}])"))
        elif isinstance(case_id, str):
            seen[case_id] = i
        if isinstance(case.get("asserts"), list):
            asserts += [(("cases", i, "asserts", j), a) for j, a in enumerate(case["asserts"])]
    for loc, raw in asserts:
        if not clean(loc):
            continue
        try:
            spec = AssertSpec.model_validate(raw)
        except ValidationError:
            continue
        problems.extend(check_assert(spec, loc))
    return problems


def _order(loc: Loc) -> tuple[tuple[int, str | int], ...]:
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in loc)


def line_finder(text: str | None) -> Callable[[Sequence[str | int]], int | None]:
    """A function from a path to its 1-based line in ``text`` (YAML, or JSON which is YAML too).

    The text is composed on the first call, not before: composing a big suite takes seconds, and a check that
    finds nothing never asks for a line.
    """
    composed: list[yaml.Node | None] = []

    def root() -> yaml.Node | None:
        if not composed:
            try:
                composed.append(yaml.compose(text, Loader=SAFE_LOADER) if text is not None else None)
            except yaml.YAMLError:
                composed.append(None)
        return composed[0]

    def line_of(loc: Sequence[str | int]) -> int | None:
        node = root()
        if node is None:
            return None
        found = node.start_mark.line + 1
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key, val in node.value:
                    if key.value == part:
                        # a scalar's own line is its key's; a nested block's is where it starts
                        child = val
                        found = key.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                child = node.value[part]
                found = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return found

    return line_of


def _error(source: str, data: object, problems: Sequence[Problem], text: str | None) -> SuiteError:
    line_of = line_finder(text)
    details = [
        SuiteErrorDetail(path=format_path(loc), case_id=_case_id(data, loc), message=msg, line=line_of(loc))
        for loc, msg in problems
    ]
    return SuiteError(source, details)


def parse_suite(
    data: object, *, source: str = "<suite>", base_dir: Path | None = None, text: str | None = None
) -> Suite:
    """Check a suite document and build a :class:`Suite`.

    Args:
        data: The document, as parsed from YAML or JSON; anything but a mapping is a SuiteError.
        source: The name errors are reported under (a file name).
        base_dir: Folder that relative paths in the suite (``offline_fixtures``) are resolved against;
            the current folder when None.
        text: The document's source text, used only to give errors line numbers.

    Returns:
        The suite, with every assertion's arguments prepared.

    Raises:
        SuiteError: Every problem found, each with its path, case id and (given ``text``) line.
    """
    if not isinstance(data, Mapping):
        raise SuiteError(source, [SuiteErrorDetail("", None, "a suite must be a mapping at the top level", 1)])
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        problems: list[Problem] = [(tuple(e["loc"]), _pydantic_message(e)) for e in exc.errors()]
        # the parts that are well formed are checked too, so every problem comes in one list
        problems += _raw_semantic_problems(data, {loc for loc, _ in problems})
        raise _error(source, data, sorted(problems, key=lambda p: _order(p[0])), text) from None
    problems = _semantic_problems(suite)
    if suite.offline_fixtures and not problems:
        problems = _load_fixtures(suite, base_dir or Path.cwd())
    if suite.fairness is not None and not problems:
        problems = _fairness_problems(suite.fairness) or _expand_fairness(suite)
    if problems:
        raise _error(source, data, problems, text)
    _share_field_sets(suite.cases)
    return suite


class _Sharing:
    """What :func:`_share_field_sets` shares: one set per list of fields, one assertion per distinct one."""

    def __init__(self) -> None:
        self.fields: dict[frozenset[str], set[str]] = {}
        self.specs: dict[tuple[object, ...], AssertSpec] = {}


def _share_field_sets(cases: Sequence[Case], sharing: _Sharing | None = None) -> None:
    """Make equal assertions of different cases one object, and models that set the same fields share one set.

    pydantic gives every instance its own ``__pydantic_fields_set__``: at 100,000 cases with two
    assertions each, 300,000 small sets, about 65 MB, all holding one of a handful of field lists.
    And a big suite repeats assertions (the same banned phrase in every case): one object each, with
    its prepared arguments, is enough; assertions are never changed after parsing.
    """
    sharing = sharing or _Sharing()
    shared, specs = sharing.fields, sharing.specs
    for case in cases:
        for model in (case, *case.asserts):
            fields = model.__pydantic_fields_set__
            object.__setattr__(model, "__pydantic_fields_set__", shared.setdefault(frozenset(fields), fields))
        for j, spec in enumerate(case.asserts):
            if isinstance(spec.value, (str, int, float, bool, type(None))):
                # the value's type is part of the key: 1, 1.0 and True are equal, but not the same argument
                key = (spec.type, type(spec.value), spec.value, spec.threshold, spec.weight, spec.metric)
                case.asserts[j] = specs.setdefault((*key, spec.provider, spec.method), spec)


def _fairness_problems(spec: FairnessSpec) -> list[Problem]:
    problems: list[Problem] = []
    text = spec.compare.text
    if text is not None and text.method != "string":
        try:
            problem = missing_local_extra(parse_embedding_method(text.method))
        except ValueError as exc:
            problem = str(exc)
        if problem is not None:
            problems.append((("fairness", "compare", "text", "method"), problem))
    for i, out in enumerate(spec.compare.outputs):
        loc: Loc = ("fairness", "compare", "outputs", i)
        try:
            re.compile(out.regex)
        except re.error as exc:
            problems.append(((*loc, "regex"), f"invalid regular expression: {exc}"))
        if out.kind == "number" and out.selected is not None:
            problems.append(((*loc, "selected"), "a number output takes selected_at, not selected"))
        if out.kind == "category" and (out.selected_at is not None or out.selected_below):
            problems.append(((*loc, "selected_at"), "a category output takes selected, not selected_at"))
    return problems


def _expand_fairness(suite: Suite) -> list[Problem]:
    """Replace each perturbed base case by its variants (offline fixtures of the base apply to each)."""
    assert suite.fairness is not None
    plan, cases, problems = plan_variants(suite.fairness, suite.cases, {**suite.vars, **suite.defaults.vars})
    if problems:
        return problems
    fixtures = suite.fixture_outputs
    for variant in plan.variants if plan is not None else []:
        if variant.base in fixtures:
            fixtures[variant.case_id] = fixtures[variant.base]
    suite.cases = cases
    suite._fairness_plan = plan
    return []


def _load_fixtures(suite: Suite, base_dir: Path) -> list[Problem]:
    path = base_dir / str(suite.offline_fixtures)
    loc: Loc = ("offline_fixtures",)
    try:
        fixtures = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return [(loc, f"cannot read offline fixtures {path}: {exc}")]
    if not isinstance(fixtures, Mapping) or not all(isinstance(v, str) for v in fixtures.values()):
        return [(loc, f"offline fixtures {path} must map case ids to output strings")]
    known = set(suite.cases.ids) if isinstance(suite.cases, SpooledCases) else {case.id for case in suite.cases}
    unknown = sorted(str(k) for k in fixtures if str(k) not in known)
    if unknown:
        return [(loc, f"offline fixtures {path} name unknown cases: {', '.join(unknown)}")]
    suite._fixture_outputs = {str(k): v for k, v in fixtures.items()}
    return []


def read_document(path: Path) -> tuple[object, str]:
    """Read a YAML or JSON file; returns the data and its text.

    Raises:
        SuiteError: The file cannot be read or is not valid YAML/JSON (with the line of the problem).
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(source, [SuiteErrorDetail("", None, f"cannot read file: {exc.strerror or exc}")]) from None
    return _parse_text(path, text), text


def _parse_text(path: Path, text: str) -> object:
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return load_yaml(text)
    except json.JSONDecodeError as exc:
        raise SuiteError(str(path), [SuiteErrorDetail("", None, f"invalid JSON: {exc.msg}", exc.lineno)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SuiteError(str(path), [SuiteErrorDetail("", None, f"invalid YAML: {problem}", line)]) from None


_CASES: TypeAdapter[list[Case]] = TypeAdapter(list[Case])
_CHUNK = 1000


def _validate_cases_in_place(data: object) -> bool:
    """Replace the document's cases by validated :class:`Case` objects, a thousand at a time.

    The whole document and the whole validated suite then never exist at once (for 100,000 cases
    each is a few hundred megabytes); :meth:`Suite.model_validate` takes the ``Case`` objects as they
    are. False at the first invalid case: the document is then partly converted, and only good for
    reading again.
    """
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, list):
        return True
    sharing = _Sharing()
    for start in range(0, len(cases), _CHUNK):
        try:
            chunk = _CASES.validate_python(cases[start : start + _CHUNK])
        except ValidationError:
            return False
        # shared as they come, so the suite never holds every case's own copies at once
        _share_field_sets(chunk, sharing)
        cases[start : start + _CHUNK] = chunk
    return True


SPOOL_CASES_ABOVE = 2000
"""A YAML suite with more cases than this is loaded with its cases spooled to disk (see :func:`load_suite`)."""


class _CaseProblem(Exception):
    """A streamed case is not valid: the document is read again whole, for every problem with its line."""


class _CaseIntake:
    """Takes a YAML suite's cases as the streaming reader finishes each: held while few, then spooled.

    Spooled cases are checked as they come (shape, assertions, unique ids), so the first problem
    stops the stream; what needs the rest of the document (the default asserts) is settled after it.
    """

    def __init__(self, spool_above: int) -> None:
        self.spool_above = spool_above
        self.held: list[object] = []
        self.spool: SpooledCases | None = None
        self.seen: dict[str, int] = {}
        self.without_asserts = False

    def __call__(self, raw: object) -> None:
        if self.spool is None:
            self.held.append(raw)
            if len(self.held) <= self.spool_above:
                return
            self.spool = SpooledCases()
            held, self.held = self.held, []
            for item in held:
                self._add(item)
        else:
            self._add(raw)

    def _add(self, raw: object) -> None:
        assert self.spool is not None
        try:
            case = Case.model_validate(raw)
        except ValidationError:
            raise _CaseProblem from None
        if _case_problems(case, len(self.spool), self.seen):
            raise _CaseProblem
        self.without_asserts = self.without_asserts or not case.asserts
        self.spool.add(raw, case)

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()


def _load_streamed(path: Path, spool_above: int) -> Suite | None:
    """A YAML suite read case by case, its cases spooled to disk when there are more than ``spool_above``.

    None when the suite has a problem (or is something the stream does not take: a fairness block,
    unusual YAML, ``cases`` that is not a list): :func:`load_suite` then reads it whole, which finds
    and locates every problem.
    """
    intake = _CaseIntake(spool_above)
    try:
        with path.open(encoding="utf-8") as stream:
            data = stream_cases(stream, intake)
        if not isinstance(data, dict) or data.get("cases") != [] or data.get("fairness") is not None:
            raise _CaseProblem
        if intake.spool is None:
            # few cases: validated together, as a document read whole would be
            data["cases"] = intake.held
            if not _validate_cases_in_place(data):
                raise _CaseProblem
            return parse_suite(data, source=str(path), base_dir=path.parent)
        spool = intake.spool
        suite = Suite.model_validate({**data, "cases": [spool[0]]})
        problems = _semantic_problems(suite)
        if intake.without_asserts and not suite.defaults.asserts:
            raise _CaseProblem
        # the checks above saw the first case only; every case passed its own as it was spooled
        suite.cases = cast(list[Case], spool)
        if suite.offline_fixtures and not problems:
            problems = _load_fixtures(suite, path.parent)
        if problems:
            raise _CaseProblem
        return suite
    except (_CaseProblem, StreamUnusual, ValidationError, SuiteError, OSError, ValueError, yaml.YAMLError):
        intake.close()
        return None


def load_suite(path: str | Path, *, spool_cases_above: int = SPOOL_CASES_ABOVE) -> Suite:
    """Load and check a suite file (YAML, or JSON by its ``.json`` suffix).

    A YAML suite is read as a stream, one case at a time: with more than ``spool_cases_above``
    cases, each is checked as it is read and written to a temporary file, and ``suite.cases`` is a
    :class:`~evals.case_spool.SpooledCases` that reads them back one at a time (a run then holds
    only the cases in flight). JSON suites, suites with a fairness block and YAML the streaming
    reader leaves to PyYAML are read whole, their cases a list. Any problem and the document is read
    again whole and checked, so every problem is reported at once, with its line.

    Args:
        path: The suite file; relative paths inside it are resolved against its folder.
        spool_cases_above: Spool the cases of a YAML suite that has more than this many.

    Raises:
        SuiteError: The file is unreadable or invalid; errors carry line numbers.
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        suite = _load_streamed(path, spool_cases_above)
        if suite is not None:
            return suite
    data, text = read_document(path)
    try:
        if _validate_cases_in_place(data):
            return parse_suite(data, source=str(path), base_dir=path.parent, text=text)
    except SuiteError:
        pass
    # a problem: the document is read again and checked whole, so every problem is found and located
    del data
    return parse_suite(_parse_text(path, text), source=str(path), base_dir=path.parent, text=text)


def suite_json_schema() -> dict[str, Any]:
    """The JSON Schema of the suite format, for editors; assertion types and providers are enumerated."""
    schema = Suite.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Steward eval suite"
    assert_type = schema["$defs"]["AssertSpec"]["properties"]["type"]
    assert_type["enum"] = assertion_names()
    return schema
