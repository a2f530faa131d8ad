"""The product's dependency graph in three columns (product → processes, prompts, suites → documents) for inline SVG.

Server-side layout keeps the page free of scripts and external services; the template draws the boxes and
arrows from these coordinates, and the page also lists the same edges as text for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from governance.catalog.schemas import ComponentView, ProductView, VersionSummary

COLUMN_X = (16, 316, 616)
BOX_WIDTH = 250
# Longer names are cut in the box (the full name is in its tooltip and in the text list under the graph).
LABEL_CHARS = 30
BOX_HEIGHT = 44
ROW_GAP = 20
TOP = 32


@dataclass(frozen=True)
class Node:
    key: str
    kind: str
    label: str
    detail: str
    x: int
    y: int
    href: str = ""
    """The component's history page; the product's node has none."""

    @property
    def short_label(self) -> str:
        text = f"{self.kind}: {self.label}"
        return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"

    @property
    def mid_y(self) -> int:
        return self.y + BOX_HEIGHT // 2


@dataclass(frozen=True)
class Edge:
    source: Node
    target: Node

    @property
    def points(self) -> tuple[int, int, int, int]:
        return self.source.x + BOX_WIDTH, self.source.mid_y, self.target.x - 6, self.target.mid_y


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    width: int = COLUMN_X[2] + BOX_WIDTH + 16
    height: int = TOP + BOX_HEIGHT
    box_width: int = BOX_WIDTH
    box_height: int = BOX_HEIGHT
    headings: tuple[tuple[int, str], ...] = (
        (COLUMN_X[0], "Product"),
        (COLUMN_X[1], "Processes, prompts, suites"),
        (COLUMN_X[2], "Documents"),
    )


def _version(head: VersionSummary | None) -> str:
    return f"v{head.number}" if head else "no version"


def dependency_graph(view: ProductView, reached: list[ComponentView] | None = None) -> Graph:
    """Product in the first column; its processes, then its prompts and suites in the second; every document it
    reads in the third. Each component's box links to its history page.

    ``reached`` holds the documents read only through a process, with their heads, so their boxes show a version.
    """
    graph = Graph()

    def place(column: int, row: int, key: str, kind: str, label: str, detail: str) -> Node:
        href = ""
        if kind in ("prompt", "suite"):
            href = f"/products/{view.slug}/{kind}s/{label}"
        elif kind in ("process", "document"):
            href = f"/{'processes' if kind == 'process' else 'documents'}/{label}"
        node = Node(key, kind, label, detail, COLUMN_X[column], TOP + row * (BOX_HEIGHT + ROW_GAP), href)
        graph.nodes.append(node)
        return node

    product = place(0, 0, f"product:{view.slug}", "product", view.slug, f"{view.risk_tier} risk")
    processes: dict[str, Node] = {}
    for row, process in enumerate(view.processes):
        processes[process.name] = place(
            1, row, f"process:{process.name}", "process", process.name, _version(process.head)
        )
        graph.edges.append(Edge(product, processes[process.name]))
    owned = [*view.prompts, *view.suites]
    for row, component in enumerate(owned, start=len(processes)):
        node = place(
            1, row, f"{component.kind}:{component.name}", component.kind, component.name, _version(component.head)
        )
        graph.edges.append(Edge(product, node))
    documents: dict[str, Node] = {}
    heads = {doc.name: doc.head for doc in view.documents}
    through = {doc.name: doc.head for doc in reached or []}

    def document(name: str) -> Node:
        if name not in documents:
            if name in heads:
                detail = _version(heads[name])
            elif name in through:
                detail = f"{_version(through[name])} via process"
            else:
                detail = "via process"
            documents[name] = place(2, len(documents), f"document:{name}", "document", name, detail)
        return documents[name]

    for doc in view.documents:
        graph.edges.append(Edge(product, document(doc.name)))
    for process in view.processes:
        for name in process.documents:
            graph.edges.append(Edge(processes[process.name], document(name)))
    rows = max(1, len(processes) + len(owned), len(documents))
    graph.height = TOP + rows * (BOX_HEIGHT + ROW_GAP)
    return graph
