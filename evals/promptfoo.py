"""Importing a promptfoo config (``promptfooconfig.yaml``) as a Steward suite.

Covered: prompts (inline strings, ``file://`` text and chat JSON), the first ``openai`` provider and
its temperature/max_tokens/seed, ``defaultTest`` vars and asserts, ``tests`` inline and from
``file://`` CSV (``__expected``, ``__description``) and YAML/JSON files, list-valued vars expanded
as promptfoo does, and the assertion types both tools share. Everything else is listed by name in
``unsupported`` and left out of the suite: nothing is dropped silently.
"""

from __future__ import annotations

import csv
import glob
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Required, TypedDict

import yaml

from evals.assertions import ArgError, get_assertion
from evals.suite import AssertSpec

# promptfoo type -> ours; identical names map to themselves
_RENAMED = {"is-refusal": "refusal", "not-is-refusal": "not-refusal"}
_SAME = {
    "equals", "not-equals", "contains", "not-contains", "icontains", "not-icontains", "contains-any",
    "not-contains-any", "contains-all", "not-contains-all", "icontains-any", "not-icontains-any",
    "icontains-all", "not-icontains-all", "regex", "not-regex", "starts-with", "not-starts-with", "is-json",
    "not-is-json", "llm-rubric", "similar", "not-similar", "latency", "cost",
}  # fmt: skip
_LIST_VALUED = {"contains-any", "contains-all", "icontains-any", "icontains-all"}
# keys that change nothing about what is tested
_HARMLESS_KEYS = {"description", "outputPath", "sharing", "tags", "writeLatestResults", "evaluateOptions", "$schema"}
_CSV_EXPECTED = re.compile(r"^([a-z][a-z-]*)(?:\((\d*\.?\d+)\))?(?::(.*))?$", re.DOTALL)
_CSV_PREFIXES = (
    "not-icontains", "not-contains", "icontains-any", "icontains-all", "contains-any", "contains-all", "icontains",
    "contains", "not-regex", "regex", "starts-with", "llm-rubric", "grader", "similar", "not-equals", "equals",
    "is-json", "not-is-json", "latency", "cost",
)  # fmt: skip


_ASSERT_OPTIONS: tuple[Literal["threshold", "weight", "metric", "provider"], ...] = (
    "threshold",
    "weight",
    "metric",
    "provider",
)
_MODEL_PARAMETERS: tuple[Literal["temperature", "max_tokens", "seed"], ...] = ("temperature", "max_tokens", "seed")

# The config is YAML as promptfoo documents it, read without a schema: its parts are probed with
# isinstance where their shape decides what happens, and values the suite takes over unchanged
# (vars, assertion values, thresholds) keep whatever type the YAML gave them; the suite loader
# checks them when the imported suite is loaded. Such values are typed ``object``; ``Any`` marks
# the parts the importer uses as promptfoo documents them without checking their type first.
_RawTest = dict[str, Any]
"""A promptfoo test as its YAML or CSV row gave it, plus ``_from`` (where it came from) and
``_converted`` (assertions already converted from CSV ``__expected`` columns)."""


class ChatMessageDocument(TypedDict):
    """A message of a chat prompt, as the prompt's JSON has it (role and content are normally strings)."""

    role: Any
    content: Any


class AssertDocument(TypedDict, total=False):
    """A converted assertion."""

    type: Required[str]
    value: object
    threshold: object
    weight: object
    metric: object
    provider: object


class ModelDocument(TypedDict, total=False):
    """The suite's ``model``."""

    provider: Required[str]
    name: str
    temperature: object
    max_tokens: object
    seed: object


class DefaultsDocument(TypedDict):
    """The suite's ``defaults``."""

    vars: dict[str, object]
    asserts: list[AssertDocument]


class CaseDocument(TypedDict, total=False):
    """A converted case; built key by key in the order the suite file shows them."""

    id: Required[str]
    description: object
    vars: dict[str, object]
    asserts: list[AssertDocument]
    threshold: object


class SuiteDocument(TypedDict, total=False):
    """The converted suite; built key by key in the order the suite file shows them.

    Always present: ``version``, ``name``, ``prompt``, ``model`` and ``cases``.
    """

    version: Required[int]
    name: Required[str]
    description: str
    prompt: str
    messages: list[ChatMessageDocument]
    model: ModelDocument
    defaults: DefaultsDocument
    cases: list[CaseDocument]


class PromptfooImportError(Exception):
    """The promptfoo config cannot be read at all (missing file, invalid YAML, no prompts or tests)."""


@dataclass
class ImportResult:
    """A converted suite and what could not be converted.

    Attributes:
        suite: The suite document (plain data, ready to dump as YAML).
        prompt_text: The prompt template, written beside the suite.
        prompt_file: The prompt's file name, relative to the suite.
        unsupported: Every item left out, by name and place, e.g. ``tests[3].assert[1]: type 'javascript'``.
        notes: Differences worth knowing that did not drop anything.
    """

    suite: SuiteDocument
    prompt_text: str
    prompt_file: str
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "case"


def _read(base: Path, ref: str) -> str:
    path = base / ref.removeprefix("file://")
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptfooImportError(f"{path}: cannot read: {exc.strerror or exc}") from None


class _Importer:
    def __init__(self, config_path: Path) -> None:
        self.base = config_path.parent
        self.source = str(config_path)
        self.unsupported: list[str] = []
        self.notes: list[str] = []

    def top_level(self, config: Mapping[str, object]) -> None:
        for key in sorted(set(config) - _HARMLESS_KEYS - {"prompts", "providers", "defaultTest", "tests"}):
            self.unsupported.append(f"{key}: top-level key")

    def prompt(self, prompts: object) -> tuple[str, list[ChatMessageDocument] | None]:
        if isinstance(prompts, (str, dict)):
            prompts = [prompts]
        if not isinstance(prompts, list) or not prompts:
            raise PromptfooImportError(f"{self.source}: prompts: at least one prompt is needed")
        for i, extra in enumerate(prompts[1:], start=1):
            self.unsupported.append(
                f"prompts[{i}]: a suite has one prompt; {str(extra)[:60]!r} left out "
                "(import again with that prompt first)"
            )
        first = prompts[0]
        raw = first.get("raw") or first.get("id") if isinstance(first, dict) else first
        if not isinstance(raw, str):
            raise PromptfooImportError(f"{self.source}: prompts[0]: expected a string, file:// path or {{raw: ...}}")
        if raw.startswith("file://"):
            ref = raw.removeprefix("file://")
            if ref.endswith((".js", ".py", ".mjs", ".ts")) or ":" in ref:
                self.unsupported.append(f"prompts[0]: prompt function {raw!r} (code prompts are not supported)")
                return "", None
            raw = _read(self.base, raw)
        if "{%" in raw or "|" in raw:
            self.notes.append("promptfoo renders Nunjucks, Steward Jinja2: check filters and tags in the prompt")
        return raw, _chat_messages(raw)

    def provider(self, providers: Any) -> ModelDocument:
        if providers is None:
            self.notes.append("no providers: the suite defaults to the offline provider")
            return {"provider": "offline"}
        if isinstance(providers, (str, dict)):
            providers = [providers]
        model: ModelDocument | None = None
        for i, item in enumerate(providers):
            spec = item if isinstance(item, str) else item.get("id", "") if isinstance(item, dict) else ""
            config = item.get("config", {}) if isinstance(item, dict) else {}
            match = re.fullmatch(r"openai:(?:chat:)?([\w.\-:/]+)", spec or "")
            if match is None or "embedding" in spec or "assistant" in spec:
                self.unsupported.append(f"providers[{i}]: provider {spec!r}")
                continue
            if model is not None:
                self.unsupported.append(
                    f"providers[{i}]: provider {spec!r} (a suite runs one provider; pass others with --provider)"
                )
                continue
            model = {"provider": "openai", "name": match.group(1)}
            for key in _MODEL_PARAMETERS:
                if key in config:
                    model[key] = config[key]
            for key in sorted(set(config) - {"temperature", "max_tokens", "seed", "apiKeyEnvar", "apiBaseUrl"}):
                self.unsupported.append(f"providers[{i}].config.{key}")
        return model or {"provider": "offline"}

    def assertion(self, raw: object, where: str) -> AssertDocument | None:
        if not isinstance(raw, dict) or "type" not in raw:
            self.unsupported.append(f"{where}: not an assertion: {str(raw)[:60]!r}")
            return None
        kind = str(raw["type"])
        ours = _RENAMED.get(kind, kind if kind in _SAME else None)
        if ours is None:
            self.unsupported.append(f"{where}: assertion type {kind!r}")
            return None
        extra = sorted(set(raw) - {"type", "value", "threshold", "weight", "metric", "provider"})
        if extra:
            self.unsupported.extend(f"{where}: {kind} option {key!r}" for key in extra)
            return None
        value = raw.get("value")
        if isinstance(value, str) and value.startswith("file://"):
            self.unsupported.append(f"{where}: {kind} value from {value!r}")
            return None
        if ours in _LIST_VALUED and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if ours == "similar":
            self.notes.append(f"{where}: promptfoo's 'similar' uses embeddings; Steward's compares strings")
        spec: AssertDocument = {"type": ours}
        if value is not None:
            spec["value"] = value
        for key in _ASSERT_OPTIONS:
            if raw.get(key) is not None:
                spec[key] = raw[key]
        return spec if self._valid(spec, where) else None

    def _valid(self, spec: AssertDocument, where: str) -> bool:
        definition = get_assertion(spec["type"])
        try:
            model = AssertSpec.model_validate(spec)
            if definition is not None:
                definition.prepare(model)
        except (ArgError, ValueError) as exc:
            self.unsupported.append(f"{where}: {spec['type']} with unusable arguments: {exc}")
            return False
        return True

    def asserts(self, raw: object, where: str) -> list[AssertDocument]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.unsupported.append(f"{where}: expected a list of assertions")
            return []
        converted = (self.assertion(item, f"{where}[{i}]") for i, item in enumerate(raw))
        return [spec for spec in converted if spec is not None]

    def csv_expected(self, text: str, where: str) -> AssertDocument | None:
        """A CSV ``__expected`` cell: ``type:value`` or ``type(threshold):value``; a plain value means equals."""
        text = text.strip()
        if not text:
            return None
        match = _CSV_EXPECTED.match(text)
        if match is not None and match.group(1) in _CSV_PREFIXES:
            kind = "llm-rubric" if match.group(1) == "grader" else match.group(1)
            raw: dict[str, object] = {"type": kind}
            threshold, value = match.group(2), match.group(3)
            if threshold is not None:
                raw["threshold"] = float(threshold)
            if kind in ("latency", "cost") and value:
                raw["threshold"] = float(value)
            elif value is not None and value.strip():
                raw["value"] = value.strip()
            return self.assertion(raw, where)
        if re.match(r"^(?:javascript|python|fn|file)\s*:", text) or text.startswith("="):
            self.unsupported.append(f"{where}: expected value {text[:60]!r} (code assertions are not supported)")
            return None
        return self.assertion({"type": "equals", "value": text}, where)

    def defaults(self, default_test: Any) -> DefaultsDocument:
        """``defaultTest``: its vars and assertions; anything else is unsupported."""
        if isinstance(default_test, str):
            self.unsupported.append(f"defaultTest: {default_test!r} (defaultTest from a file)")
            default_test = {}
        for key in sorted(set(default_test) - {"vars", "assert", "options"}):
            self.unsupported.append(f"defaultTest.{key}")
        if default_test.get("options"):
            self.unsupported.extend(f"defaultTest.options.{k}" for k in sorted(default_test["options"]))
        return {
            "vars": dict(default_test.get("vars") or {}),
            "asserts": self.asserts(default_test.get("assert"), "defaultTest.assert"),
        }

    def tests(self, raw_tests: object) -> list[_RawTest]:
        """Every test, inline or from files, each marked with where it came from (``_from``)."""
        if isinstance(raw_tests, str):
            raw_tests = [raw_tests]
        if not isinstance(raw_tests, list) or not raw_tests:
            raise PromptfooImportError(f"{self.source}: tests: at least one test is needed")
        tests: list[_RawTest] = []
        for i, item in enumerate(raw_tests):
            if isinstance(item, str) and item.startswith("file://"):
                tests.extend(self.test_files(item, f"tests[{i}]"))
            elif isinstance(item, dict):
                tests.append({**item, "_from": f"tests[{i}]"})
            else:
                self.unsupported.append(f"tests[{i}]: {str(item)[:60]!r}")
        return tests

    def test_files(self, ref: str, where: str) -> list[_RawTest]:
        pattern = str(self.base / ref.removeprefix("file://"))
        paths = sorted(glob.glob(pattern)) or [pattern]
        tests: list[_RawTest] = []
        for path in map(Path, paths):
            if path.suffix.lower() == ".csv":
                tests.extend(self._csv_tests(path, where))
            elif path.suffix.lower() in (".yaml", ".yml", ".json"):
                data = yaml.safe_load(_read(path.parent, path.name))
                data = data if isinstance(data, list) else [data]
                tests.extend({**t, "_from": f"{path.name}[{i}]"} for i, t in enumerate(data) if isinstance(t, dict))
            else:
                self.unsupported.append(f"{where}: tests from {path.name!r} (only CSV, YAML and JSON files)")
        return tests

    def _csv_tests(self, path: Path, where: str) -> list[_RawTest]:
        rows = list(csv.DictReader(_read(path.parent, path.name).splitlines()))
        tests = []
        for i, row in enumerate(rows):
            place = f"{path.name} row {i + 2}"
            test: _RawTest = {"vars": {}, "assert": [], "_from": place}
            for column, value in row.items():
                if column is None:
                    continue
                if column.startswith("__expected"):
                    spec = self.csv_expected(value or "", f"{place} {column}")
                    if spec is not None:
                        test["_converted"] = [*test.get("_converted", []), spec]
                elif column == "__description":
                    test["description"] = value
                elif column.startswith("__"):
                    self.unsupported.append(f"{place}: column {column!r}")
                else:
                    test["vars"][column] = value
            tests.append(test)
        return tests

    def cases(self, tests: list[_RawTest], defaults: DefaultsDocument) -> list[CaseDocument]:
        """One case per test and combination of its list-valued vars, with ids unique in the suite."""
        cases: list[CaseDocument] = []
        seen: set[str] = set()
        for test in tests:
            where = test.pop("_from")
            for key in sorted(
                set(test) - {"vars", "assert", "description", "threshold", "_converted", "options", "metadata"}
            ):
                self.unsupported.append(f"{where}.{key}")
            if test.get("options"):
                self.unsupported.extend(f"{where}.options.{k}" for k in sorted(test["options"]))
            asserts = test.get("_converted") or self.asserts(test.get("assert"), f"{where}.assert")
            vars_ = test.get("vars") or {}
            if isinstance(vars_, str):
                self.unsupported.append(f"{where}.vars: {vars_!r} (vars from a file)")
                vars_ = {}
            if not asserts and not defaults["asserts"]:
                self.unsupported.append(f"{where}: test left out: none of its assertions could be converted")
                continue
            for variant in _expand(vars_):
                cases.append(_case(test, _unique_id(_slug(test.get("description") or where), seen), variant, asserts))
        if not any(case["asserts"] for case in cases) and not defaults["asserts"]:
            self.notes.append("no assertions were converted: every case would need assertions to be meaningful")
        return cases


def _chat_messages(raw: str) -> list[ChatMessageDocument] | None:
    """The messages of a chat prompt (a JSON list of role/content objects), or None for a text prompt."""
    stripped = raw.strip()
    if not stripped.startswith("["):
        return None
    try:
        chat = json.loads(stripped)
    except ValueError:
        return None
    if isinstance(chat, list) and all(isinstance(m, dict) and "role" in m and "content" in m for m in chat):
        return [{"role": m["role"], "content": m["content"]} for m in chat]
    return None


def _expand(vars_: dict[str, object]) -> list[dict[str, object]]:
    """promptfoo runs a test once per combination of its list-valued vars."""
    listed = {k: v for k, v in vars_.items() if isinstance(v, list)}
    if not listed:
        return [vars_]
    combos = itertools.product(*listed.values())
    return [{**vars_, **dict(zip(listed, combo, strict=True))} for combo in combos]


def _unique_id(base_id: str, seen: set[str]) -> str:
    """``base_id``, or ``base_id-2``, ``-3``, ... if taken; records it in ``seen``."""
    case_id, n = base_id, 2
    while case_id in seen:
        case_id, n = f"{base_id}-{n}", n + 1
    seen.add(case_id)
    return case_id


def _case(test: _RawTest, case_id: str, variant: dict[str, object], asserts: list[AssertDocument]) -> CaseDocument:
    case: CaseDocument = {"id": case_id}
    if test.get("description"):
        case["description"] = test["description"]
    case["vars"] = variant
    case["asserts"] = asserts
    if test.get("threshold") is not None:
        case["threshold"] = test["threshold"]
    return case


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PromptfooImportError(f"{path}: cannot read promptfoo config: {exc}") from None
    if not isinstance(config, dict):
        raise PromptfooImportError(f"{path}: a promptfoo config is a mapping")
    return config


def _last_user_message(messages: list[ChatMessageDocument]) -> int:
    """The index of the chat's last user message (the last message if none is the user's)."""
    if any(m["role"] == "user" for m in messages):
        return max(i for i, m in enumerate(messages) if m["role"] == "user")
    return len(messages) - 1


def import_promptfoo_config(path: str | Path, *, name: str | None = None) -> ImportResult:
    """Convert a promptfoo config file into a suite document.

    Args:
        path: ``promptfooconfig.yaml``; ``file://`` references are resolved against its folder.
        name: Suite name; default: a slug of the config's description or file name.

    Raises:
        PromptfooImportError: The config is unreadable or has no prompt or no tests.
    """
    path = Path(path)
    config = _read_config(path)
    imp = _Importer(path)
    imp.top_level(config)
    prompt_text, messages = imp.prompt(config.get("prompts"))
    model = imp.provider(config.get("providers"))
    defaults = imp.defaults(config.get("defaultTest") or {})
    cases = imp.cases(imp.tests(config.get("tests")), defaults)

    suite_name = name or _slug(str(config.get("description") or path.stem))
    prompt_file = f"{suite_name}.prompt.txt"
    suite: SuiteDocument = {"version": 1, "name": suite_name}
    if config.get("description"):
        suite["description"] = str(config["description"])
    suite["prompt"] = prompt_file
    if messages is not None:
        # the last user message becomes the prompt file; the others stay inline in messages
        last_user = _last_user_message(messages)
        prompt_text = messages[last_user]["content"]
        suite["messages"] = [
            {"role": m["role"], "content": "{{ prompt }}" if i == last_user else m["content"]}
            for i, m in enumerate(messages)
        ]
    suite["model"] = model
    if defaults["vars"] or defaults["asserts"]:
        suite["defaults"] = defaults
    suite["cases"] = cases
    return ImportResult(suite, prompt_text, prompt_file, imp.unsupported, imp.notes)


def write_imported_suite(result: ImportResult, output: str | Path) -> list[str]:
    """Write the suite YAML and its prompt file beside it; returns the extra files written."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    (output.parent / result.prompt_file).write_text(result.prompt_text, encoding="utf-8")
    output.write_text(yaml.safe_dump(result.suite, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return [str(output.parent / result.prompt_file)]
