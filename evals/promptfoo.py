"""Importing a promptfoo config (``promptfooconfig.yaml``) as a Steward suite that tests what promptfoo would.

The config is read as promptfoo 0.123 reads it: YAML 1.2 scalars, prompt files split at ``---`` lines,
``file://`` vars and globs, CSV ``__expected`` cells by promptfoo's own rules, its list expansion and its
OpenAI defaults; ``similar`` compares embeddings as promptfoo's does. Everything the suite cannot carry
is listed by name and place in ``unsupported`` and left out: nothing is dropped or changed silently.
evals/README.md lists the supported and unsupported features.
"""

from __future__ import annotations

import csv
import glob
import io
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Required, TypedDict

import yaml

from evals.assertions import get_assertion
from evals.embedding_methods import missing_local_extra, parse_embedding_method
from evals.providers.openai_compatible import is_reasoning_model
from evals.run_errors import EvalConfigError
from evals.suite import AssertSpec
from evals.suite_check import render_problems
from evals.suite_errors import SuiteError
from evals.suite_loader import check_assert, parse_suite
from evals.templates import compile_template

# promptfoo type -> ours; identical names map to themselves
_RENAMED = {"is-refusal": "refusal", "not-is-refusal": "not-refusal"}
_SAME = {
    "equals", "not-equals", "contains", "not-contains", "icontains", "not-icontains", "contains-any",
    "not-contains-any", "contains-all", "not-contains-all", "icontains-any", "not-icontains-any",
    "icontains-all", "not-icontains-all", "regex", "not-regex", "starts-with", "not-starts-with", "is-json",
    "not-is-json", "llm-rubric", "similar", "not-similar", "latency", "cost", "levenshtein", "not-levenshtein",
    "rouge-n", "not-rouge-n",
}  # fmt: skip
_LIST_VALUED = {
    f"{negation}{kind}"
    for negation in ("", "not-")
    for kind in ("contains-any", "contains-all", "icontains-any", "icontains-all")
}
# keys that change nothing about what is tested
_HARMLESS_KEYS = {"description", "outputPath", "sharing", "tags", "writeLatestResults", "evaluateOptions", "$schema"}
# promptfoo's own assertion types (BaseAssertionTypesSchema, 0.123): a CSV ``__expected`` cell naming one
# of them is that assertion, supported by Steward or not; anything else is an ``equals`` value
_PROMPTFOO_TYPES = (
    "answer-relevance", "bleu", "classifier", "contains", "contains-all", "contains-any", "contains-html",
    "contains-json", "contains-sql", "contains-xml", "context-faithfulness", "context-recall",
    "context-relevance", "conversation-relevance", "cost", "equals", "factuality", "finish-reason", "g-eval",
    "gleu", "guardrails", "icontains", "icontains-all", "icontains-any", "is-html", "is-json", "is-refusal",
    "is-sql", "is-valid-function-call", "is-valid-openai-function-call", "is-valid-openai-tools-call", "is-xml",
    "javascript", "latency", "levenshtein", "llm-rubric", "pi", "meteor", "model-graded-closedqa",
    "model-graded-factuality", "moderation", "perplexity", "perplexity-score", "python", "regex", "rouge-n",
    "ruby", "similar", "similar:cosine", "similar:dot", "similar:euclidean", "starts-with", "tool-call-f1",
    "trace-error-spans", "trace-span-count", "trace-span-duration", "skill-used", "trajectory:goal-success",
    "trajectory:tool-args-match", "word-count", "webhook", "select-best", "max-score", "human",
)  # fmt: skip
_CSV_EXPECTED = re.compile(
    r"^(not-)?(" + "|".join(map(re.escape, _PROMPTFOO_TYPES)) + r")(?:\((\d+(?:\.\d+)?)\))?(?::([\s\S]*))?$"
)
# CSV cells of these types get a threshold even when the cell gives none (promptfoo's csv.ts)
_CSV_THRESHOLD_TYPES = {
    "answer-relevance", "classifier", "context-faithfulness", "context-recall", "context-relevance", "cost",
    "latency", "levenshtein", "perplexity-score", "perplexity", "rouge-n", "similar", "starts-with",
}  # fmt: skip
_CSV_SIMILAR_THRESHOLD = 0.8
_PROMPTFOO_SIMILAR_THRESHOLD = 0.75  # promptfoo's default outside CSV
_PROMPTFOO_EMBEDDING = "openai:embedding:text-embedding-3-large"  # promptfoo's default embedding provider
_LOCAL_EMBEDDING = "local:all-minilm-l6-v2"  # with embeddings="local": on this machine, no server, no key
EmbeddingsChoice = Literal["openai", "local"]
"""How ``similar`` is imported: promptfoo's embeddings through the run's OpenAI server, or the local model."""
_CSV_DEFAULT_THRESHOLD = 0.75
# promptfoo's OpenAI chat defaults when the config sets none (temperature 0, max_tokens 1024)
_PROMPTFOO_MODEL_DEFAULTS: dict[str, object] = {"temperature": 0, "max_tokens": 1024}
_CODE_SUFFIXES = (".js", ".cjs", ".mjs", ".ts", ".py", ".rb")
_BINARY_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf", ".docx", ".mp3", ".wav", ".mp4")


class _Yaml12Loader(yaml.SafeLoader):
    """YAML as promptfoo (js-yaml, YAML 1.2) reads it: only true/false are booleans, ``Yes``/``on`` stay strings."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _load_yaml12(text: str) -> object:
    return yaml.load(text, Loader=_Yaml12Loader)


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
"""A promptfoo test as its YAML or CSV row gave it, plus ``_from`` (where it came from), ``_converted``
(assertions already converted from CSV ``__expected`` columns) and ``_expected`` (how many such cells it had)."""


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
    method: str


def _sent(params: Mapping[str, object], model: str) -> dict[str, object]:
    """The model parameters a request to ``model`` carries: a reasoning model takes no temperature or max_tokens."""
    keys = ("seed",) if is_reasoning_model(model) else _MODEL_PARAMETERS
    return {key: params[key] for key in keys if params.get(key) is not None}


def _jinja_problem(text: str, messages: list[ChatMessageDocument] | None) -> str | None:
    """Why a prompt (a text, or a chat's messages) does not compile as a Steward template, or None."""
    sources = [("", text)] if messages is None else [(f"message {i}", m["content"]) for i, m in enumerate(messages)]
    for name, source in sources:
        if not isinstance(source, str):
            continue
        try:
            compile_template(source, name)
        except EvalConfigError as exc:
            return str(exc).removeprefix(": ")
    return None


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
    prompts: list[str]
    messages: list[ChatMessageDocument]
    model: ModelDocument
    providers: list[str]
    defaults: DefaultsDocument
    cases: list[CaseDocument]


class PromptfooImportError(Exception):
    """The promptfoo config cannot be read at all (missing file, invalid YAML, no prompts or tests)."""


@dataclass
class ImportResult:
    """A converted suite and what could not be converted.

    Attributes:
        suite: The suite document (plain data, ready to dump as YAML).
        prompt_text: The (first) prompt template, written beside the suite.
        prompt_file: The (first) prompt's file name, relative to the suite.
        unsupported: Every item left out, by name and place, e.g. ``tests[3].assert[1]: type 'javascript'``.
        notes: Differences worth knowing that did not drop anything.
        more_prompts: The further prompts of a matrix, file name -> template, written beside the suite.
    """

    suite: SuiteDocument
    prompt_text: str
    prompt_file: str
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    more_prompts: dict[str, str] = field(default_factory=dict)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "case"


def _read(base: Path, ref: str) -> str:
    path = base / ref.removeprefix("file://")
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptfooImportError(f"{path}: cannot read: {exc.strerror or exc}") from None


class _Importer:
    def __init__(self, config_path: Path, embeddings: EmbeddingsChoice = "openai") -> None:
        self.embeddings = embeddings
        self.base = config_path.parent
        self.source = str(config_path)
        self.config_name = config_path.name
        self.unsupported: list[str] = []
        self.notes: list[str] = []

    def refuse(self, where: str, what: str) -> None:
        """Record an unsupported item; places in the config itself are prefixed with its file name."""
        if not re.match(r"^[^\s\[\]:]+\.(?:csv|ya?ml|json|txt|md|j2)\b", where):
            where = f"{self.config_name}: {where}"
        self.unsupported.append(f"{where}: {what}")

    def top_level(self, config: Mapping[str, object]) -> None:
        for key in sorted(set(config) - _HARMLESS_KEYS - {"prompts", "providers", "defaultTest", "tests"}):
            if key == "scenarios":
                scenarios = config[key]
                count = len(scenarios) if isinstance(scenarios, list) else 1
                self.refuse("scenarios", f"{count} scenario(s) (promptfoo's scenarios are not supported)")
            else:
                self.refuse(key, "top-level key")

    def prompt(self, prompts: object) -> list[tuple[str, list[ChatMessageDocument] | None]]:
        """The suite's prompts (text, chat messages): every prompt of the list, its globs and ``---`` sections.

        A suite's prompts share its chat messages but for the last user message, so a further prompt of
        another form than the first (a text prompt beside a chat, or chats that differ elsewhere) is
        refused by name.
        """
        if isinstance(prompts, (str, dict)):
            prompts = [prompts]
        if not isinstance(prompts, list) or not prompts:
            raise PromptfooImportError(f"{self.source}: prompts: at least one prompt is needed")
        found: list[tuple[str, str]] = []  # (place, template text)
        for i, item in enumerate(prompts):
            raw = (item.get("raw") or item.get("id")) if isinstance(item, dict) else item
            for key in sorted(set(item) - {"raw", "id", "label"}) if isinstance(item, dict) else []:
                self.refuse(f"prompts[{i}].{key}", "prompt key")
            if not isinstance(raw, str):
                self.refuse(f"prompts[{i}]", f"not a prompt: {str(item)[:60]!r}")
                continue
            found.extend(self._prompt_texts(raw, f"prompts[{i}]"))
        if not found:
            raise PromptfooImportError(f"{self.source}: prompts: no prompt could be read")
        accepted: list[tuple[str, list[ChatMessageDocument] | None]] = []
        refused_before = len(self.unsupported)
        first_frame: object = None
        for place, text in found:
            messages = _chat_messages(text)
            if messages is None and text.lstrip().startswith("[") and "{%" in text:
                self.refuse(place, "a chat prompt built by a template loop (Steward's chat messages are fixed)")
                if accepted:
                    continue
            unrenderable = _jinja_problem(text, messages)
            if unrenderable is not None:
                self.refuse(place, f"{unrenderable} (promptfoo renders Nunjucks, Steward Jinja2)")
                continue
            frame = _frame(messages)
            if accepted and frame != first_frame:
                self.refuse(
                    place,
                    f"a further prompt {text.strip()[:50]!r} of another form than the first (a suite's prompts "
                    "share its chat messages, all but the last user message)",
                )
                continue
            first_frame = first_frame if accepted else frame
            accepted.append((text, messages))
        if not accepted:
            raise PromptfooImportError(
                f"{self.source}: prompts: none can be used: " + "; ".join(self.unsupported[refused_before:])
            )
        if any("{%" in text or "|" in text for text, _ in accepted):
            self.notes.append("promptfoo renders Nunjucks, Steward Jinja2: check filters and tags in the prompt")
        return accepted

    def drop_unrenderable_cases(self, suite: SuiteDocument, templates: Mapping[str, str]) -> None:
        """Leave out the cases whose messages Steward cannot render, as ``steward eval validate`` renders them.

        Nunjucks renders a variable a test does not define as empty text; Steward's templates refuse it (a
        misspelt variable is a case error, not an empty string), so such a case would test something else.
        """
        try:
            loaded = parse_suite(suite)
        except SuiteError:
            return  # the suite's own problems are reported when it is written
        refused = set()
        for problem in render_problems(loaded, templates):
            if problem.case_id is None:
                continue
            refused.add(problem.case_id)
            self.refuse(
                f"case {problem.case_id}",
                f"left out: {problem.message} (promptfoo renders an undefined variable as empty text, "
                "Steward refuses it)",
            )
        if refused:
            suite["cases"] = [case for case in suite["cases"] if case["id"] not in refused]

    def _prompt_texts(self, raw: str, where: str) -> list[tuple[str, str]]:
        if not raw.startswith("file://"):
            return [(where, raw)]
        ref = raw.removeprefix("file://")
        if ref.endswith(_CODE_SUFFIXES) or re.search(r"\.\w+:\w+$", ref):
            self.refuse(where, f"prompt function {raw!r} (code prompts are not supported)")
            return []
        paths = sorted(glob.glob(str(self.base / ref))) if glob.has_magic(ref) else [str(self.base / ref)]
        if not paths:
            self.refuse(where, f"{raw!r} matches no file")
        texts: list[tuple[str, str]] = []
        for path in map(Path, paths):
            content = _read(path.parent, path.name)
            if path.suffix.lower() == ".json":
                texts.append((path.name, content))
                continue
            if path.suffix.lower() in (".yaml", ".yml"):
                # a YAML prompt file is a chat: the same messages as its JSON form
                chat = _load_yaml12(content)
                if isinstance(chat, list) and all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in chat):
                    texts.append((path.name, json.dumps(chat, ensure_ascii=False)))
                else:
                    self.refuse(path.name, "a YAML prompt that is not a list of chat messages")
                continue
            if path.suffix.lower() not in (".txt", ".md", ".prompt", ""):
                self.refuse(path.name, f"prompt file type {path.suffix!r} (only text, JSON and YAML chat files)")
                continue
            # promptfoo splits a text prompt file into several prompts at lines that are only ---,
            # trims each and drops empty ones
            sections = [part.strip() for part in re.split(r"(?m)^[ \t]*---[ \t]*\r?$", content)]
            sections = [part for part in sections if part]
            texts.extend(
                (path.name if len(sections) == 1 else f"{path.name} prompt {n + 1}", section)
                for n, section in enumerate(sections)
            )
        return texts

    def provider(self, providers: object) -> tuple[ModelDocument, list[str]]:
        """The suite's model (the first provider's) and, for several providers, their specs.

        A suite's providers share its model parameters, so a further provider that promptfoo would send other
        parameters (temperature, max_tokens, seed) than the suite sends it is refused by name. A reasoning model
        (o1, o3, o4, gpt-5) is sent no temperature and no max_tokens, by promptfoo and by Steward alike, so the
        parameters come from the first other provider and only the seed must agree.
        """
        if providers is None:
            self.notes.append("no providers: the suite defaults to the offline provider")
            return {"provider": "offline"}, []
        if isinstance(providers, (str, dict)):
            providers = [providers]
        if not isinstance(providers, list):
            self.refuse("providers", f"expected a list of providers, not {type(providers).__name__}")
            return {"provider": "offline"}, []
        converted: list[tuple[int, str, ModelDocument]] = []
        for i, item in enumerate(providers):
            spec = item if isinstance(item, str) else item.get("id", "") if isinstance(item, dict) else ""
            config = item.get("config") if isinstance(item, dict) else None
            if config is not None and not isinstance(config, dict):
                self.refuse(f"providers[{i}].config", f"expected a mapping, not {type(config).__name__}")
            config = config if isinstance(config, dict) else {}
            match = re.fullmatch(r"openai:(?:chat:)?([\w.\-:/]+)", spec if isinstance(spec, str) else "")
            if match is None or "embedding" in spec or "assistant" in spec:
                self.refuse(f"providers[{i}]", f"provider {spec!r}")
                continue
            this: ModelDocument = {"provider": "openai", "name": match.group(1)}
            for key in _MODEL_PARAMETERS:
                value = config.get(key, _PROMPTFOO_MODEL_DEFAULTS.get(key))
                if value is not None:
                    this[key] = value
            unsent = [key for key in ("temperature", "max_tokens") if key in config]
            if is_reasoning_model(match.group(1)) and unsent:
                self.notes.append(
                    f"providers[{i}]: promptfoo sends no {' and no '.join(unsent)} to the reasoning model "
                    f"{match.group(1)!r}, and neither does Steward"
                )
            self._provider_settings(i, item, config)
            converted.append((i, str(spec), this))
        if not converted:
            return {"provider": "offline"}, []
        # the parameters the suite shares: those of the first provider that takes them all
        shared = next((this for _, _, this in converted if not is_reasoning_model(str(this["name"]))), converted[0][2])
        model: ModelDocument = {"provider": "openai", "name": converted[0][2]["name"]}
        sent = _sent(shared, str(shared["name"]))  # (all reasoning models: the seed alone, as nothing else is sent)
        for parameter in _MODEL_PARAMETERS:
            if parameter in sent:
                model[parameter] = sent[parameter]
        specs: list[str] = []
        for i, spec, this in converted:
            name = str(this["name"])
            theirs, ours = _sent(this, name), _sent(model, name)
            differ = [k for k in _MODEL_PARAMETERS if theirs.get(k) != ours.get(k)]
            if differ:
                self.refuse(
                    f"providers[{i}]",
                    f"provider {spec!r} with other {', '.join(differ)} than the suite's "
                    "(a suite's providers share its model parameters)",
                )
                continue
            if f"openai:{name}" in specs:
                self.refuse(f"providers[{i}]", f"provider {spec!r} a second time")
                continue
            specs.append(f"openai:{name}")
        return model, (specs if len(specs) > 1 else [])

    def _provider_settings(self, i: int, item: object, config: Mapping[str, object]) -> None:
        """Name a provider's keys and settings that a suite cannot hold."""
        for key in sorted(set(item) - {"id", "label", "config"}) if isinstance(item, dict) else []:
            self.refuse(f"providers[{i}].{key}", "provider key")
        for setting in ("apiBaseUrl", "apiKeyEnvar", "apiHost", "apiKey"):
            if setting in config:
                self.refuse(
                    f"providers[{i}].config.{setting}",
                    "endpoint and key are run settings in Steward "
                    "(STEWARD_OPENAI_BASE_URL, STEWARD_OPENAI_API_KEY), "
                    "not part of a suite",
                )
        for setting in sorted(set(config) - {*_MODEL_PARAMETERS, "apiKeyEnvar", "apiBaseUrl", "apiHost", "apiKey"}):
            self.refuse(f"providers[{i}].config.{setting}", "provider setting")

    def assertion(self, raw: object, where: str) -> AssertDocument | None:
        if not isinstance(raw, dict) or "type" not in raw:
            self.refuse(where, f"not an assertion: {str(raw)[:60]!r}")
            return None
        kind = str(raw["type"])
        ours = _RENAMED.get(kind, kind if kind in _SAME else None)
        if kind in ("similar:cosine", "not-similar:cosine"):
            ours = kind.removesuffix(":cosine")  # promptfoo's default metric, named
        method = None
        if ours in ("similar", "not-similar"):
            method = self._embedding_method(raw, where)
            if method is None:
                return None
            raw = {k: v for k, v in raw.items() if k != "provider"}
        if ours is None:
            self.refuse(where, f"assertion type {kind!r}")
            return None
        extra = sorted(set(raw) - {"type", "value", "threshold", "weight", "metric", "provider"})
        if extra:
            for key in extra:
                self.refuse(where, f"{kind} option {key!r}")
            return None
        value = raw.get("value")
        if isinstance(value, str) and value.startswith("file://"):
            self.refuse(where, f"{kind} value from {value!r}")
            return None
        if ours in _LIST_VALUED and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        spec: AssertDocument = {"type": ours}
        if value is not None:
            spec["value"] = value
        for key in _ASSERT_OPTIONS:
            if raw.get(key) is not None:
                spec[key] = raw[key]
        if method is not None:
            spec.setdefault("threshold", _PROMPTFOO_SIMILAR_THRESHOLD)
            spec["method"] = method
        return spec if self._valid(spec, where) else None

    def _embedding_method(self, raw: Mapping[str, object], where: str) -> str | None:
        """promptfoo's ``similar`` compares embeddings (its default model, or the assertion's provider).

        With ``embeddings="local"`` every ``similar`` compares the local model's embeddings instead, whatever
        embedding provider promptfoo would have asked, and the note says which it replaces.
        """
        provider = raw.get("provider")
        if self.embeddings == "local":
            if provider is not None and not isinstance(provider, str):
                self.refuse(where, f"{raw['type']} with embedding provider {provider!r} (not a provider name)")
                return None
            missing = missing_local_extra(parse_embedding_method(_LOCAL_EMBEDDING))
            if missing is not None:
                raise PromptfooImportError(f"--embeddings local: {missing}")
            replaced = provider or f"promptfoo's default {_PROMPTFOO_EMBEDDING}"
            self.notes.append(
                f"{where}: {raw['type']} compares embeddings as in promptfoo, but of the local model: method "
                f"{_LOCAL_EMBEDDING} (no network) instead of {replaced}; scores differ between models, so "
                "check the threshold"
            )
            return _LOCAL_EMBEDDING
        if provider is None:
            method = _PROMPTFOO_EMBEDDING
        elif isinstance(provider, str) and re.fullmatch(r"openai:embeddings?:\S+", provider):
            method = provider
        else:
            self.refuse(where, f"{raw['type']} with embedding provider {provider!r} (only openai:embedding:<model>)")
            return None
        note = f"{where}: {raw['type']} compares embeddings, as in promptfoo: method {method} (the run's OpenAI server)"
        self.notes.append(note)
        return method

    def _valid(self, spec: AssertDocument, where: str) -> bool:
        """Whether the suite loader accepts ``spec``; options promptfoo ignores for this type are dropped first."""
        definition = get_assertion(spec["type"])
        if definition is not None and definition.threshold == "none":
            spec.pop("threshold", None)  # promptfoo reads a threshold only on scored assertions
        if spec["type"] != "llm-rubric":
            spec.pop("provider", None)  # a grading provider matters only to model-graded assertions
        try:
            problems = check_assert(AssertSpec.model_validate(spec), ())
        except ValueError as exc:
            problems = [((), str(exc))]
        if problems:
            reasons = "; ".join(message for _, message in problems)
            self.refuse(where, f"{spec['type']} with unusable arguments: {reasons}")
            return False
        return True

    def asserts(self, raw: object, where: str) -> list[AssertDocument]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.refuse(where, "expected a list of assertions")
            return []
        converted = (self.assertion(item, f"{where}[{i}]") for i, item in enumerate(raw))
        return [spec for spec in converted if spec is not None]

    def csv_expected(self, text: str, where: str) -> AssertDocument | None:
        """A CSV ``__expected`` cell, read as promptfoo reads it; a cell naming no assertion type means equals."""
        text = text.strip()
        if not text:
            return None
        if text.startswith(("javascript:", "fn:", "eval:", "python:", "file://")):
            self.refuse(where, f"expected value {text[:60]!r} (code assertions are not supported)")
            return None
        if text.startswith(("grade:", "llm-rubric:")):
            return self.assertion({"type": "llm-rubric", "value": text.split(":", 1)[1]}, where)
        match = _CSV_EXPECTED.match(text)
        if match is None:
            return self.assertion({"type": "equals", "value": text}, where)
        negated, kind, threshold, value = match.groups()
        raw: dict[str, object] = {"type": f"not-{kind}" if negated else kind}
        if value is not None:
            raw["value"] = value if kind in ("contains-json", "is-json") else value.strip()
        if kind in _CSV_THRESHOLD_TYPES and kind != "starts-with":  # promptfoo ignores it on starts-with
            default = _CSV_SIMILAR_THRESHOLD if kind == "similar" else _CSV_DEFAULT_THRESHOLD
            raw["threshold"] = float(threshold) if threshold is not None else default
        elif threshold is not None and kind != "starts-with":
            raw["threshold"] = float(threshold)
        if kind in ("latency", "cost") and "value" in raw:
            raw.pop("value")  # promptfoo reads only the threshold of these
        return self.assertion(raw, where)

    def defaults(self, default_test: object) -> tuple[DefaultsDocument, dict[str, object]]:
        """``defaultTest``: its fixed vars and assertions, and the vars that expand into several cases."""
        if isinstance(default_test, str):
            self.refuse("defaultTest", f"{default_test!r} (defaultTest from a file)")
            default_test = {}
        if not isinstance(default_test, dict):
            self.refuse("defaultTest", f"expected a mapping, not {type(default_test).__name__}")
            default_test = {}
        for key in sorted(set(default_test) - {"vars", "assert", "options"}):
            self.refuse(f"defaultTest.{key}", "defaultTest key")
        options = default_test.get("options")
        if options:
            for key in sorted(options) if isinstance(options, dict) else ["(not a mapping)"]:
                self.refuse(f"defaultTest.options.{key}", "test option")
        vars_ = self.vars(default_test.get("vars"), "defaultTest.vars")
        fixed = {k: v for k, v in vars_.items() if not _expands(v)}
        document: DefaultsDocument = {
            "vars": fixed,
            "asserts": self.asserts(default_test.get("assert"), "defaultTest.assert"),
        }
        return document, {k: v for k, v in vars_.items() if k not in fixed}

    def vars(self, raw: object, where: str) -> dict[str, object]:
        """Vars with ``file://`` values read as promptfoo reads them (a glob becomes one value per file)."""
        if raw is None:
            return {}
        if isinstance(raw, str):
            self.refuse(where, f"{raw!r} (vars from a file)")
            return {}
        if not isinstance(raw, dict):
            self.refuse(where, f"expected a mapping, not {type(raw).__name__}")
            return {}
        out: dict[str, object] = {}
        for key, value in raw.items():
            if isinstance(value, str) and value.startswith("file://"):
                loaded = self.var_file(value, f"{where}.{key}")
                if loaded is None:
                    continue
                value = loaded
            out[str(key)] = value
        return out

    def var_file(self, ref: str, where: str) -> object:
        pattern = ref.removeprefix("file://")
        paths = sorted(glob.glob(str(self.base / pattern))) if glob.has_magic(pattern) else [str(self.base / pattern)]
        if not paths:
            self.refuse(where, f"{ref!r} matches no file")
            return None
        contents: list[str] = []
        for path in map(Path, paths):
            if path.suffix.lower() in _CODE_SUFFIXES or path.suffix.lower() in _BINARY_SUFFIXES:
                self.refuse(where, f"{ref!r}: {path.name} is not a text file (code, images and documents are not read)")
                return None
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                self.refuse(where, f"{ref!r}: cannot read {path.name}: {exc}")
                return None
            if path.suffix.lower() in (".yaml", ".yml"):
                # promptfoo passes a YAML file's data as JSON text, any other text file trimmed
                text = json.dumps(_load_yaml12(text), separators=(",", ":"), ensure_ascii=False)
            contents.append(text.strip())
        # a glob is one test per file, like a list of strings
        return contents if glob.has_magic(pattern) else contents[0]

    def tests(self, raw_tests: object) -> list[_RawTest]:
        """Every test, inline or from files, each marked with where it came from (``_from``)."""
        if raw_tests is None:
            return []
        if isinstance(raw_tests, str):
            raw_tests = [raw_tests]
        if not isinstance(raw_tests, list):
            self.refuse("tests", f"expected a list of tests, not {type(raw_tests).__name__}")
            return []
        tests: list[_RawTest] = []
        for i, item in enumerate(raw_tests):
            if isinstance(item, str) and item.startswith("file://"):
                tests.extend(self.test_files(item, f"tests[{i}]"))
            elif isinstance(item, dict):
                tests.append({**item, "_from": f"tests[{i}]"})
            else:
                self.refuse(f"tests[{i}]", f"not a test: {str(item)[:60]!r}")
        return tests

    def test_files(self, ref: str, where: str) -> list[_RawTest]:
        pattern = ref.removeprefix("file://")
        paths = sorted(glob.glob(str(self.base / pattern))) if glob.has_magic(pattern) else [str(self.base / pattern)]
        if not paths:
            self.refuse(where, f"{ref!r} matches no file")
        tests: list[_RawTest] = []
        for path in map(Path, paths):
            if path.suffix.lower() == ".csv":
                tests.extend(self._csv_tests(path, where))
            elif path.suffix.lower() in (".yaml", ".yml", ".json"):
                try:
                    data = _load_yaml12(_read(path.parent, path.name))
                except yaml.YAMLError as exc:
                    raise PromptfooImportError(f"{path}: invalid YAML: {exc}") from None
                data = data if isinstance(data, list) else [data]
                for i, test in enumerate(data):
                    if isinstance(test, dict):
                        tests.append({**test, "_from": f"{path.name}[{i}]"})
                    else:
                        self.refuse(f"{path.name}[{i}]", f"not a test: {str(test)[:60]!r}")
            else:
                self.refuse(where, f"tests from {path.name!r} (only CSV, YAML and JSON files)")
        return tests

    def _csv_tests(self, path: Path, where: str) -> list[_RawTest]:
        # newline="" keeps the newlines inside quoted cells, as promptfoo's CSV reader does
        rows = list(csv.DictReader(io.StringIO(_read(path.parent, path.name), newline="")))
        tests = []
        for i, row in enumerate(rows):
            place = f"{path.name} row {i + 2}"
            test: _RawTest = {"vars": {}, "assert": [], "_from": place}
            metric = None
            for column, value in row.items():
                if column is None:
                    continue
                column = column.strip()
                if column.startswith("__expected"):
                    test["_expected"] = test.get("_expected", 0) + bool((value or "").strip())
                    spec = self.csv_expected(value or "", f"{place} {column}")
                    if spec is not None:
                        test["_converted"] = [*test.get("_converted", []), spec]
                elif column == "__description":
                    test["description"] = value
                elif column == "__metric":
                    metric = value or None
                elif column == "__threshold" and (value or "").strip():
                    test["threshold"] = float(value)
                elif column.startswith("__metadata"):
                    continue  # labels only; nothing is tested differently
                elif column.startswith("__"):
                    self.refuse(place, f"column {column!r}")
                else:
                    test["vars"][column] = value
            if metric:
                for spec in test.get("_converted", []):
                    spec["metric"] = metric
            tests.append(test)
        return tests

    def cases(
        self, tests: list[_RawTest], defaults: DefaultsDocument, expanding: dict[str, object]
    ) -> list[CaseDocument]:
        """One case per test and combination of its expanding vars, with ids unique in the suite."""
        cases: list[CaseDocument] = []
        seen: set[str] = set()
        for test in tests:
            where = test.pop("_from")
            for key in sorted(
                set(test)
                - {"vars", "assert", "description", "threshold", "_converted", "_expected", "options", "metadata"}
            ):
                self.refuse(f"{where}.{key}", "test key")
            options = test.get("options")
            if options:
                for key in sorted(options) if isinstance(options, dict) else ["(not a mapping)"]:
                    self.refuse(f"{where}.options.{key}", "test option")
            asserts = test.get("_converted") or self.asserts(test.get("assert"), f"{where}.assert")
            vars_ = {**expanding, **self.vars(test.get("vars"), f"{where}.vars")}
            if not asserts and not defaults["asserts"]:
                given = test.get("_expected") or test.get("assert")
                self.refuse(
                    where,
                    "test left out: none of its assertions could be converted"
                    if given
                    else "test left out: it has no assertions (promptfoo passes it whatever the answer; a Steward "
                    "case must be able to fail)",
                )
                continue
            description = test.get("description")
            base_id = _slug(description if isinstance(description, str) and description else where)
            for variant in _expand(vars_):
                cases.append(_case(test, _unique_id(base_id, seen), variant, asserts))
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


def _frame(messages: list[ChatMessageDocument] | None) -> object:
    """What prompts must share to be one suite's: the chat but for its last user message (None: a text prompt)."""
    if messages is None:
        return None
    last_user = _last_user_message(messages)
    return [(m["role"], None if i == last_user else m["content"]) for i, m in enumerate(messages)]


def _expands(value: object) -> bool:
    """promptfoo runs a test once per item of a list var whose first item is a string; other lists stay whole."""
    return isinstance(value, list) and bool(value) and isinstance(value[0], str)


def _expand(vars_: dict[str, object]) -> list[dict[str, object]]:
    """promptfoo runs a test once per combination of its expanding vars (see :func:`_expands`)."""
    listed = {k: v for k, v in vars_.items() if isinstance(v, list) and _expands(v)}
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
        config = _load_yaml12(path.read_text(encoding="utf-8"))
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


def import_promptfoo_config(
    path: str | Path, *, name: str | None = None, embeddings: EmbeddingsChoice = "openai"
) -> ImportResult:
    """Convert a promptfoo config file into a suite document.

    Args:
        path: ``promptfooconfig.yaml``; ``file://`` references are resolved against its folder.
        name: Suite name; default: a slug of the config's description or file name.
        embeddings: What ``similar`` compares: ``openai`` (promptfoo's embedding model, through the run's
            OpenAI-compatible server: what promptfoo measures) or ``local`` (``local:all-minilm-l6-v2``, on
            this machine with no network; another model, so other scores).

    Raises:
        PromptfooImportError: The config is unreadable or has no prompt or no tests; or ``embeddings="local"``
            for a config with ``similar`` where the local-embeddings extra is not installed.
    """
    path = Path(path)
    config = _read_config(path)
    imp = _Importer(path, embeddings)
    imp.top_level(config)
    prompts = imp.prompt(config.get("prompts"))
    messages = prompts[0][1]
    model, providers = imp.provider(config.get("providers"))
    defaults, expanding = imp.defaults(config.get("defaultTest") or {})
    tests = imp.tests(config.get("tests"))
    if not tests and "scenarios" not in config:
        raise PromptfooImportError(f"{path}: tests: at least one test is needed")
    cases = imp.cases(tests, defaults, expanding)

    suite_name = name or _slug(str(config.get("description") or path.stem))
    prompt_file = f"{suite_name}.prompt.txt"
    suite: SuiteDocument = {"version": 1, "name": suite_name}
    if config.get("description"):
        suite["description"] = str(config["description"])
    # the last user message of a chat becomes the prompt file; the others stay inline in messages
    texts = [text if chat is None else chat[_last_user_message(chat)]["content"] for text, chat in prompts]
    files = [prompt_file] + [f"{suite_name}.prompt-{n}.txt" for n in range(2, len(prompts) + 1)]
    if len(prompts) == 1:
        suite["prompt"] = prompt_file
    else:
        # promptfoo runs every test on every prompt: so does a suite with prompts
        suite["prompts"] = files
    if messages is not None:
        last_user = _last_user_message(messages)
        suite["messages"] = [
            {"role": m["role"], "content": "{{ prompt }}" if i == last_user else m["content"]}
            for i, m in enumerate(messages)
        ]
    suite["model"] = model
    if providers:
        # ... and on every provider
        suite["providers"] = providers
    if defaults["vars"] or defaults["asserts"]:
        suite["defaults"] = defaults
    suite["cases"] = cases
    more = dict(zip(files[1:], texts[1:], strict=True))
    imp.drop_unrenderable_cases(suite, {prompt_file: texts[0], **more})
    return ImportResult(suite, texts[0], prompt_file, imp.unsupported, imp.notes, more)


def write_imported_suite(result: ImportResult, output: str | Path) -> list[str]:
    """Write the suite YAML and its prompt file beside it; returns the extra files written.

    The suite is checked as ``steward eval validate`` would check it first: an import that left too
    little to make a valid suite (no case with an assertion) writes nothing. Unsupported items are
    listed as comments at the top of the suite.

    Raises:
        PromptfooImportError: The suite would be invalid; the message lists why.
    """
    output = Path(output)
    try:
        parse_suite(result.suite, source=str(output))
    except SuiteError as exc:
        raise PromptfooImportError(f"nothing written: the imported suite would be invalid:\n{exc}") from None
    header = ""
    if result.unsupported:
        lines = ["promptfoo import: partial; left out (unsupported):"]
        lines += [f"- {item}".replace("\n", " ") for item in result.unsupported]
        header = "".join(f"# {line}\n" for line in lines)
    output.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in {result.prompt_file: result.prompt_text, **result.more_prompts}.items():
        (output.parent / name).write_text(text, encoding="utf-8")
        written.append(str(output.parent / name))
    body = yaml.safe_dump(result.suite, sort_keys=False, allow_unicode=True)
    output.write_text(header + body, encoding="utf-8")
    return written
