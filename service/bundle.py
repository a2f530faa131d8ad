"""The declarative ``steward.yaml``: a product and the files that shape it, as an owner keeps them in git.

Loading is pure (files in, payloads out): ``steward apply`` sends the loaded bundle to the server's plan and
apply endpoints (``bundle_request``), ``steward demo`` applies it in process, and ``steward eval run --bundle``
renders prompts with it (``bundle_context``). Every error names the file and the field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals import SuiteError, load_suite
from governance.catalog.content import VersionedContent, document_content, process_content, template_variables
from governance.catalog.schemas import (
    DocumentPublish,
    LinksUpdate,
    ProcessPublish,
    ProductCreate,
    PromptPublish,
    SuitePublish,
)
from governance.kernel.errors import field_path
from governance.kernel.fields import ComponentName, Slug


class BundleError(Exception):
    """A steward.yaml or a file it names is unusable; ``str()`` says which file and which field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileRef(_Strict):
    file: str = Field(description="Path relative to steward.yaml.")


class PromptRef(FileRef):
    name: ComponentName


class SuiteRef(FileRef):
    name: ComponentName | None = Field(default=None, description="Defaults to the suite's own `name`.")


class DocumentRef(FileRef):
    slug: Slug
    title: str
    content_type: str = "text/markdown"
    owner: str | None = None


class ProcessRef(FileRef):
    slug: Slug
    owner: str | None = None


class BundleFile(_Strict):
    """The shape of steward.yaml."""

    version: int = Field(description="Format version; 1.")
    product: ProductCreate
    message: str = Field(default="", description="Version message used when an entry gives none.")
    prompts: list[PromptRef] = Field(default_factory=list)
    suites: list[SuiteRef] = Field(default_factory=list)
    documents: list[DocumentRef] = Field(default_factory=list)
    processes: list[ProcessRef] = Field(default_factory=list)
    links: LinksUpdate | None = None


class Bundle(BaseModel):
    """A loaded bundle: every payload ready to publish, in the order that satisfies references."""

    source: Path
    product: ProductCreate
    documents: dict[str, DocumentPublish]
    processes: dict[str, ProcessPublish]
    prompts: dict[str, PromptPublish]
    suites: dict[str, SuitePublish]
    links: LinksUpdate | None


def _read_yaml(path: Path, where: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BundleError([f"{where}: no such file {path}"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise BundleError([f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from exc
    except UnicodeDecodeError as exc:
        raise BundleError([f"{path}: not UTF-8 text"]) from exc


def _read_text(path: Path, where: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BundleError([f"{where}: no such file {path}"]) from exc
    except UnicodeDecodeError as exc:
        raise BundleError([f"{where}: {path} is not UTF-8 text"]) from exc


def load_bundle(path: str | Path) -> Bundle:
    """Read steward.yaml and every file it names; raise ``BundleError`` listing all problems found."""
    source = Path(path)
    raw = _read_yaml(source, "steward.yaml")
    try:
        spec = BundleFile.model_validate(raw)
    except ValidationError as exc:
        raise BundleError([f"{source}: {field_path(e['loc'])}: {e['msg']}" for e in exc.errors()]) from exc
    loader = _BundleLoader(source, spec)
    documents, processes = loader.documents(), loader.processes()
    prompts, suites = loader.prompts(), loader.suites()
    if loader.problems:
        raise BundleError(loader.problems)
    return Bundle(
        source=source,
        product=spec.product,
        documents=documents,
        processes=processes,
        prompts=prompts,
        suites=suites,
        links=spec.links,
    )


T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P")


class _BundleLoader:
    """Builds every payload of a bundle, collecting all problems instead of stopping at the first."""

    def __init__(self, source: Path, spec: BundleFile) -> None:
        self.source = source
        self.base = source.parent
        self.spec = spec
        self.problems: list[str] = []

    def _load(self, build: Callable[[], T], where: str) -> T | None:
        try:
            return build()
        except BundleError as exc:
            self.problems.extend(exc.problems)
        except ValidationError as exc:
            self.problems.extend(f"{where}: {field_path(e['loc'])}: {e['msg']}" for e in exc.errors())
        except SuiteError as exc:
            self.problems.append(str(exc))
        return None

    def _collect(
        self,
        refs: Sequence[R],
        where_of: Callable[[int, R], str],
        build: Callable[[R, int, str], tuple[str, P]],
    ) -> dict[str, P]:
        """Build every entry of one list in steward.yaml, keyed by name; problems are collected, not raised."""
        loaded: dict[str, P] = {}
        for index, ref in enumerate(refs):
            where = where_of(index, ref)
            named = self._load(functools.partial(build, ref, index, where), where)
            if named is not None:
                loaded[named[0]] = named[1]
        return loaded

    def documents(self) -> dict[str, DocumentPublish]:
        return self._collect(
            self.spec.documents, lambda index, ref: f"{self.source}: documents[{index}] ({ref.slug})", self._document
        )

    def _document(self, ref: DocumentRef, index: int, where: str) -> tuple[str, DocumentPublish]:
        return ref.slug, DocumentPublish(
            title=ref.title,
            content=_read_text(self.base / ref.file, where),
            content_type=ref.content_type,
            owner=ref.owner,
            message=self.spec.message,
        )

    def processes(self) -> dict[str, ProcessPublish]:
        return self._collect(self.spec.processes, lambda index, ref: f"{self.base / ref.file}", self._process)

    def _process(self, ref: ProcessRef, index: int, where: str) -> tuple[str, ProcessPublish]:
        data = _read_yaml(self.base / ref.file, f"{self.source}: processes[{index}]")
        if not isinstance(data, dict):
            raise BundleError([f"{where}: must be a mapping with name, description, steps, documents"])
        return ref.slug, ProcessPublish(**{"message": self.spec.message, "owner": ref.owner, **data})

    def prompts(self) -> dict[str, PromptPublish]:
        return self._collect(
            self.spec.prompts, lambda index, ref: f"{self.source}: prompts[{index}] ({ref.name})", self._prompt
        )

    def _prompt(self, ref: PromptRef, index: int, where: str) -> tuple[str, PromptPublish]:
        return ref.name, PromptPublish(template=_read_text(self.base / ref.file, where), message=self.spec.message)

    def suites(self) -> dict[str, SuitePublish]:
        return self._collect(self.spec.suites, lambda index, ref: f"{self.source}: suites[{index}]", self._suite)

    def _suite(self, ref: SuiteRef, index: int, where: str) -> tuple[str, SuitePublish]:
        suite_path = self.base / ref.file
        if not suite_path.is_file():
            raise BundleError([f"{where}: no such file {suite_path}"])
        suite = load_suite(suite_path)  # checks it the way the server will, with line numbers
        data = _read_yaml(suite_path, where)
        name = ref.name or suite.name
        if name != suite.name:
            raise BundleError([f"{where}: name '{name}' differs from the suite's own name '{suite.name}'"])
        return name, SuitePublish(spec=data, message=self.spec.message)


def bundle_request(
    bundle: Bundle, *, force: bool = False, expect_heads: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The body of ``POST /api/v1/bundles/plan`` and ``/bundles/apply``: the bundle with its files' contents.

    ``expect_heads`` maps ``KIND/NAME`` (``document/performance-management-policy``, ``prompt/system``) to the
    sha256 (or a prefix) the caller reviewed; a name the bundle does not hold is an error naming it.
    """
    pins = dict(expect_heads or {})
    sections: dict[str, tuple[str, str, dict[str, Any]]] = {
        "documents": ("document", "slug", dict(bundle.documents)),
        "processes": ("process", "slug", dict(bundle.processes)),
        "prompts": ("prompt", "name", dict(bundle.prompts)),
        "suites": ("suite", "name", dict(bundle.suites)),
    }
    body: dict[str, Any] = {"product": bundle.product.model_dump(mode="json", exclude_none=True), "force": force}
    for section, (kind, key, payloads) in sections.items():
        items = []
        for name, payload in payloads.items():
            item = {key: name, **payload.model_dump(mode="json", exclude_none=True)}
            pin = pins.pop(f"{kind}/{name}", None)
            if pin is not None:
                item["expect_head"] = pin
            items.append(item)
        body[section] = items
    if bundle.links is not None:
        body["links"] = bundle.links.model_dump(mode="json")
    if pins:
        raise BundleError([f"--expect-head {name}: {bundle.source} has no such item" for name in pins])
    return body


SharedFetch = Callable[[str, str], VersionedContent | None]
"""Fetches a document's or process's content and version from elsewhere (a server): ``(kind, slug)``."""


def bundle_context(bundle: Bundle, fetch: SharedFetch | None = None) -> dict[str, Any]:
    """The ``documents`` and ``processes`` template variables, as the server passes them to a run.

    With links, exactly what the server gives a release: the linked processes, and the linked documents plus
    every document those processes reference. A document or process the bundle does not hold comes from
    ``fetch`` (another team's, on the server); without it, or when the server has none either, every missing
    slug is reported at once. Without links, everything the bundle holds. Local files are version ``local``.
    """
    documents: dict[str, VersionedContent] = {
        slug: (document_content(d), "local") for slug, d in bundle.documents.items()
    }
    processes: dict[str, VersionedContent] = {
        slug: (process_content(p), "local") for slug, p in bundle.processes.items()
    }
    if bundle.links is None:
        return template_variables(documents, processes)
    missing: list[str] = []

    def take(kind: str, slug: str, local: dict[str, VersionedContent]) -> VersionedContent | None:
        found = local.get(slug) or (fetch(kind, slug) if fetch is not None else None)
        if found is None:
            missing.append(f"{kind} '{slug}'")
        return found

    linked_processes = {slug: take("process", slug, processes) for slug in bundle.links.processes}
    wanted_documents = list(bundle.links.documents)
    for process in linked_processes.values():
        if process is not None:
            wanted_documents += [slug for slug in process[0]["documents"] if slug not in wanted_documents]
    linked_documents = {slug: take("document", slug, documents) for slug in wanted_documents}
    if missing:
        where = "the server has none" if fetch is not None else "pass --server URL to take them from the server"
        raise BundleError([f"{bundle.source}: links: {', '.join(missing)} not in the bundle ({where})"])
    return template_variables(
        {slug: found for slug, found in linked_documents.items() if found is not None},
        {slug: found for slug, found in linked_processes.items() if found is not None},
    )
