"""The declarative ``steward.yaml``: a product and the files that shape it, as an owner keeps them in git.

Loading is pure (files in, payloads out) so ``steward apply`` (over HTTP) and ``steward demo`` (in process)
publish exactly the same thing. Every error names the file and the field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals import SuiteError, load_suite
from governance.catalog.content import document_content, process_content, template_variables
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


def bundle_context(bundle: Bundle) -> dict[str, Any]:
    """The ``documents`` and ``processes`` template variables, as the server passes them to a run.

    Local files have no version number yet; they are labelled ``local``.
    """
    return template_variables(
        {slug: (document_content(d), "local") for slug, d in bundle.documents.items()},
        {slug: (process_content(p), "local") for slug, p in bundle.processes.items()},
    )
