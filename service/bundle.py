"""The declarative ``steward.yaml``: a product and the files that shape it, as an owner keeps them in git.

Loading is pure (files in, payloads out) so ``steward apply`` (over HTTP) and ``steward demo`` (in process)
publish exactly the same thing. Every error names the file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

    def __init__(self, problems: list[str]):
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
    base = source.parent
    problems: list[str] = []

    def load(build, where: str):
        try:
            return build()
        except BundleError as exc:
            problems.extend(exc.problems)
        except ValidationError as exc:
            problems.extend(f"{where}: {field_path(e['loc'])}: {e['msg']}" for e in exc.errors())
        except SuiteError as exc:
            problems.append(str(exc))
        return None

    default_message = spec.message
    documents, processes, prompts, suites = {}, {}, {}, {}
    for index, ref in enumerate(spec.documents):
        where = f"{source}: documents[{index}] ({ref.slug})"
        payload = load(
            lambda ref=ref, where=where: DocumentPublish(
                title=ref.title,
                content=_read_text(base / ref.file, where),
                content_type=ref.content_type,
                owner=ref.owner,
                message=default_message,
            ),
            where,
        )
        if payload is not None:
            documents[ref.slug] = payload
    for index, ref in enumerate(spec.processes):
        where = f"{base / ref.file}"

        def build_process(ref=ref, where=where, index=index):
            data = _read_yaml(base / ref.file, f"{source}: processes[{index}]")
            if not isinstance(data, dict):
                raise BundleError([f"{where}: must be a mapping with name, description, steps, documents"])
            return ProcessPublish(**{"message": default_message, "owner": ref.owner, **data})

        payload = load(build_process, where)
        if payload is not None:
            processes[ref.slug] = payload
    for index, ref in enumerate(spec.prompts):
        where = f"{source}: prompts[{index}] ({ref.name})"
        payload = load(
            lambda ref=ref, where=where: PromptPublish(
                template=_read_text(base / ref.file, where), message=default_message
            ),
            where,
        )
        if payload is not None:
            prompts[ref.name] = payload
    for index, ref in enumerate(spec.suites):
        where = f"{source}: suites[{index}]"

        def build_suite(ref=ref, where=where):
            suite_path = base / ref.file
            if not suite_path.is_file():
                raise BundleError([f"{where}: no such file {suite_path}"])
            suite = load_suite(suite_path)  # checks it the way the server will, with line numbers
            data = _read_yaml(suite_path, where)
            name = ref.name or suite.name
            if name != suite.name:
                raise BundleError([f"{where}: name '{name}' differs from the suite's own name '{suite.name}'"])
            return name, SuitePublish(spec=data, message=default_message)

        loaded = load(build_suite, where)
        if loaded is not None:
            suites[loaded[0]] = loaded[1]
    if problems:
        raise BundleError(problems)
    return Bundle(
        source=source,
        product=spec.product,
        documents=documents,
        processes=processes,
        prompts=prompts,
        suites=suites,
        links=spec.links,
    )


def bundle_context(bundle: Bundle) -> dict[str, Any]:
    """The ``documents`` and ``processes`` template variables, as the server passes them to a run.

    Local files have no version number yet; they are labelled ``local``.
    """
    return template_variables(
        {slug: (document_content(d), "local") for slug, d in bundle.documents.items()},
        {slug: (process_content(p), "local") for slug, p in bundle.processes.items()},
    )
