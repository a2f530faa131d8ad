"""What the architecture says, checked: SQL lives only in repository modules.

The check reads the syntax tree, not the text, so ``dict.update(...)``, ``router.get(...)`` or
``content_as_text(...)`` never trip it: a call counts only when it is sqlalchemy's ``select``, ``insert``,
``update``, ``delete`` or ``text`` (however it was imported or renamed), anything under sqlalchemy's ``func``,
``.with_for_update()``, or ``execute``/``scalars``/``scalar``/``get``/``query`` on a session or connection.

Such calls belong in a package's ``repository.py`` (or a ``repository/`` package, once one grows too big to
stay one file) and in ``governance/kernel/repository.py``. Migrations are exempt, and a ``models.py`` may use
``text()`` for the DDL it declares (partial-index predicates).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from service.settings import PROJECT_ROOT

CHECKED_TREES = ("governance", "service")

# Schema history: migrations build and run DDL and data fixes by design.
EXEMPT_TREES = ("service/migrations",)

ALLOWED_FOR_NOW: tuple[str, ...] = ()

QUERY_BUILDERS = frozenset({"select", "insert", "update", "delete", "text"})
SESSION_QUERIES = frozenset({"execute", "scalars", "scalar", "get", "query"})
LOCKING = frozenset({"with_for_update"})

# A receiver is a session (or a connection) when its parameter is annotated as one, or by its name.
SESSION_TYPES = frozenset({"Session", "UnitOfWork", "DbSession", "Connection"})
SESSION_NAME = re.compile(r"(^|_)session$|^(db|uow|connection|conn)$")

# What service/ may import from sqlalchemy: wiring engines and sessions (and their types), and the errors it handles.
SERVICE_SQLALCHEMY_IMPORTS = frozenset(
    {
        "Engine",
        "Connection",
        "create_engine",
        "event",
        "make_url",
        "sessionmaker",
        "DBAPIConnection",
        "ConnectionPoolEntry",
        "DBAPIError",
        "InterfaceError",
        "OperationalError",
        "TimeoutError",  # a pool with no connection free in time: 503, not a query
    }
)


@dataclass(frozen=True)
class Offence:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _is_sqlalchemy(module: str | None) -> bool:
    return module is not None and (module == "sqlalchemy" or module.startswith("sqlalchemy."))


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; None for anything that is not a plain dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _annotation_names(annotation: ast.expr | None) -> set[str]:
    if annotation is None:
        return set()
    return {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(annotation) if isinstance(n, ast.Attribute)
    }


class _QueryFinder(ast.NodeVisitor):
    """Collects the SQL-building and SQL-running calls of one module."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offences: list[Offence] = []
        self.sqlalchemy_names: dict[str, str] = {}  # local name -> the sqlalchemy name it is bound to
        self.sqlalchemy_modules: set[str] = set()  # local names of ``import sqlalchemy [as sa]``
        self.session_params: list[set[str]] = [set()]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _is_sqlalchemy(alias.name):
                self.sqlalchemy_modules.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if _is_sqlalchemy(node.module):
            for alias in node.names:
                self.sqlalchemy_names[alias.asname or alias.name] = alias.name

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        sessions = {a.arg for a in arguments if _annotation_names(a.annotation) & SESSION_TYPES}
        self.session_params.append(self.session_params[-1] | sessions)
        self.generic_visit(node)
        self.session_params.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def _is_session(self, receiver: ast.expr) -> bool:
        name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", None)
        return name is not None and (name in self.session_params[-1] or SESSION_NAME.search(name) is not None)

    def _offence(self, node: ast.Call) -> str | None:
        dotted = _dotted(node.func)
        if dotted is not None:
            head, rest = dotted[0], dotted[1:]
            if head in self.sqlalchemy_modules:  # sa.select(...), sa.func.count(...)
                head, rest = rest[0] if rest else head, rest[1:]
                if head in QUERY_BUILDERS and not rest:
                    return f"sqlalchemy {head}()"
                if head == "func":
                    return "sqlalchemy func." + ".".join(rest)
            original = self.sqlalchemy_names.get(head)
            if original in QUERY_BUILDERS and not rest:
                return f"sqlalchemy {original}()"
            if original == "func" and rest:
                return "sqlalchemy func." + ".".join(rest)
        if isinstance(node.func, ast.Attribute):
            if node.func.attr in LOCKING:
                return f".{node.func.attr}()"
            if node.func.attr in SESSION_QUERIES and self._is_session(node.func.value):
                return f"{ast.unparse(node.func.value)}.{node.func.attr}()"
        return None

    def visit_Call(self, node: ast.Call) -> None:
        what = self._offence(node)
        if what is not None:
            self.offences.append(Offence(self.path, node.lineno, what))
        self.generic_visit(node)


def _modules(root: Path) -> Iterator[tuple[str, Path]]:
    for tree in CHECKED_TREES:
        for path in sorted((root / tree).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if not relative.startswith(EXEMPT_TREES):
                yield relative, path


def _may_hold_queries(relative: str) -> bool:
    parts = relative.split("/")
    return parts[-1] == "repository.py" or "repository" in parts[:-1]


def query_offences(root: Path = PROJECT_ROOT, *, allowed: tuple[str, ...] = ALLOWED_FOR_NOW) -> list[Offence]:
    """Every SQL-building or SQL-running call outside the modules that may hold them."""
    offences: list[Offence] = []
    for relative, path in _modules(root):
        if _may_hold_queries(relative) or relative.startswith(allowed):
            continue
        finder = _QueryFinder(relative)
        finder.visit(ast.parse(path.read_text(encoding="utf-8"), filename=relative))
        for offence in finder.offences:
            # Tables declare partial-index predicates with text(): DDL, not a query.
            if relative.endswith("/models.py") and offence.what == "sqlalchemy text()":
                continue
            offences.append(offence)
    return offences


def service_sqlalchemy_imports(
    root: Path = PROJECT_ROOT, *, allowed: tuple[str, ...] = ALLOWED_FOR_NOW
) -> list[Offence]:
    """Imports of sqlalchemy's query API (``select``, ``aliased``, ``Session``...) anywhere in service/."""
    offences: list[Offence] = []
    for relative, path in _modules(root):
        if not relative.startswith("service/") or relative.startswith(allowed):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=relative)):
            if isinstance(node, ast.Import):
                offences.extend(
                    Offence(relative, node.lineno, f"import {alias.name}")
                    for alias in node.names
                    if _is_sqlalchemy(alias.name)
                )
            elif isinstance(node, ast.ImportFrom) and _is_sqlalchemy(node.module):
                offences.extend(
                    Offence(relative, node.lineno, f"from {node.module} import {alias.name}")
                    for alias in node.names
                    if alias.name not in SERVICE_SQLALCHEMY_IMPORTS
                )
    return offences


def _report(offences: list[Offence], rule: str) -> str:
    return f"{rule} ({len(offences)}):\n" + "\n".join(f"  {offence}" for offence in offences)


def test_sql_lives_only_in_repositories() -> None:
    offences = query_offences()
    assert not offences, _report(offences, "queries outside repository.py; move them into the package's repository")


def test_service_does_not_import_the_query_api() -> None:
    offences = service_sqlalchemy_imports()
    assert not offences, _report(offences, "service/ wires engines and sessions only; call a domain function to query")


def _offences_in(source: str, relative: str = "governance/catalog/products.py") -> list[str]:
    finder = _QueryFinder(relative)
    finder.visit(ast.parse(source))
    return [offence.what for offence in finder.offences]


def test_the_check_sees_every_way_of_writing_a_query() -> None:
    source = """
import sqlalchemy as sa
from sqlalchemy import func, select as choose, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

def f(s: Session, db, self_like):
    choose(1)
    sa.select(2)
    sa.func.count()
    func.max(3)
    pg_insert(4)
    text("SELECT 1")
    s.execute(5)
    db.scalars(6)
    self_like.session.get(7, 8)
    query.with_for_update()
"""
    assert _offences_in(source) == [
        "sqlalchemy select()",
        "sqlalchemy select()",
        "sqlalchemy func.count",
        "sqlalchemy func.max",
        "sqlalchemy insert()",
        "sqlalchemy text()",
        "s.execute()",
        "db.scalars()",
        "self_like.session.get()",
        ".with_for_update()",
    ]


def test_the_check_ignores_what_only_looks_like_a_query() -> None:
    source = """
from governance.catalog.content import content_as_text

def f(data: dict, router, client):
    data.update(x=1)
    data.get("key")
    router.get("/path")
    client.get("/api")
    content_as_text(kind, content)
    select = lambda: None
    select()
"""
    assert _offences_in(source) == []


def test_repositories_models_and_migrations_are_where_sql_may_be(tmp_path: Path) -> None:
    files = {
        "governance/things/repository.py": "from sqlalchemy import select\n\ndef f():\n    return select(1)\n",
        "governance/things/repository/locks.py": "from sqlalchemy import text\n\ndef f():\n    return text('')\n",
        "governance/things/models.py": "from sqlalchemy import select, text\n\nA = text('x')\nB = select(1)\n",
        "governance/things/domain.py": "from sqlalchemy import select\n\n\ndef f():\n    return select(1)\n",
        "governance/review/facts.py": "from sqlalchemy import select\n\nA = select(1)\n",
        "service/migrations/versions/0001.py": "from sqlalchemy import text\n\nA = text('x')\n",
        "service/api/routes/things.py": "from sqlalchemy import func, select\n\nA = func.count()\n",
    }
    for relative, source in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(source)
    assert [str(o) for o in query_offences(tmp_path, allowed=("governance/review",))] == [
        "governance/things/domain.py:5: sqlalchemy select()",
        "governance/things/models.py:4: sqlalchemy select()",
        "service/api/routes/things.py:3: sqlalchemy func.count",
    ]
    assert [str(o) for o in service_sqlalchemy_imports(tmp_path, allowed=())] == [
        "service/api/routes/things.py:1: from sqlalchemy import func",
        "service/api/routes/things.py:1: from sqlalchemy import select",
    ]


def _module_name(relative: str) -> str:
    name = relative.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def import_cycles(root: Path = PROJECT_ROOT) -> list[list[str]]:
    """Groups of our modules that import each other, directly or round about; imports inside functions count."""
    paths = {_module_name(relative): path for relative, path in _modules(root)}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    imported.add(target if target in paths else node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
        graph[name] = imported & paths.keys()
    # Tarjan's strongly connected components: any with more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = [stack.pop()]
            while component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def test_no_module_imports_itself_round_about() -> None:
    # A lazy import inside a function hides a cycle from Python, not from readers: it counts here too.
    cycles = import_cycles()
    assert not cycles, "modules that import each other:\n" + "\n".join("  " + " <-> ".join(c) for c in cycles)


def test_the_cycle_check_sees_a_lazy_import(tmp_path: Path) -> None:
    (tmp_path / "service/workers").mkdir(parents=True)
    (tmp_path / "service/workers/a.py").write_text("from service.workers.b import B\n")
    (tmp_path / "service/workers/b.py").write_text("def f():\n    from service.workers import a\n")
    assert import_cycles(tmp_path) == [["service.workers.a", "service.workers.b"]]
