"""A big suite's cases on disk instead of in memory, read back one at a time (``load_suite`` above a size).

At 100,000 cases the validated :class:`Case` objects are ~170 MB (1.3 KB each, and the allocator
keeps what the load's peak took). Spooled, a suite holds a few numbers per case: where its data
starts in a temporary file, and the facts the run's summary and reports need (id, weight, repeat,
required, tags). A case is validated again when it is read (a run reads each case once, when a
worker takes it); it was checked whole when the suite was loaded, so reading it cannot fail.
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, NamedTuple, TypeVar, overload

from evals.assertions import get_assertion
from evals.suite import Case, CaseFacts

T = TypeVar("T")


class CaseHeader(NamedTuple):
    """A spooled case's facts (see :class:`CaseFacts`), made when asked for."""

    id: str
    weight: float
    required: bool
    repeat: int
    tags: list[str]


class _Store:
    """The file and the per-case columns that :class:`SpooledCases` and its selections share."""

    def __init__(self) -> None:
        # open for the life of the suite; the file has no name and goes when closed (or collected)
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="steward-cases-")  # noqa: SIM115
        self.offsets = array("q")
        self.ids: list[str] = []
        self.weights = array("d")
        self.repeats = array("H")
        self.required = bytearray()
        self.tags: dict[int, list[str]] = {}
        self.offline_outputs: dict[str, str] = {}
        self.assertion_types: set[str] = set()
        self.end = 0

    def read(self, row: int) -> Case:
        self.file.seek(self.offsets[row])
        raw = pickle.load(self.file)
        case = Case.model_validate(raw)
        for spec in case.asserts:
            # as the loader left them: arguments prepared (they were checked when the suite was loaded)
            definition = get_assertion(spec.type)
            if definition is not None:
                spec._prepared = definition.prepare(spec)
        return case


class _View(Sequence[T]):
    """A sequence whose items are made on access by ``_at``: indexing, slicing and iterating in one place."""

    def _at(self, index: int) -> T:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("case index out of range")
        return self._at(index)

    def __iter__(self) -> Iterator[T]:
        return (self._at(i) for i in range(len(self)))


class SpooledCases(_View[Case]):
    """A suite's cases in a temporary file; indexing and iterating read (and validate) them again.

    Each case is stored as the plain data it was parsed from (pickled, so what YAML made of it,
    dates included, comes back the same). :attr:`facts` gives the facts of every case without
    reading any; :meth:`select` a subset by position, sharing the file.
    """

    def __init__(self, store: _Store | None = None, rows: Sequence[int] | None = None) -> None:
        self._store = store or _Store()
        # positions in the store: None means every row, in order
        self._rows: array[int] | None = array("q", rows) if rows is not None else None

    def add(self, raw: object, case: Case) -> None:
        """Append a case: ``raw`` is the data ``case`` was validated from."""
        store = self._store
        if self._rows is not None:
            raise TypeError("a selection of spooled cases is read-only")
        store.file.seek(store.end)
        store.offsets.append(store.end)
        pickle.dump(raw, store.file, protocol=pickle.HIGHEST_PROTOCOL)
        store.end = store.file.tell()
        row = len(store.ids)
        store.ids.append(case.id)
        store.weights.append(case.weight)
        store.repeats.append(case.repeat)
        store.required.append(case.required)
        if case.tags:
            store.tags[row] = list(case.tags)
        if case.offline_output is not None:
            store.offline_outputs[case.id] = case.offline_output
        store.assertion_types.update(spec.type for spec in case.asserts)

    def _row(self, index: int) -> int:
        return index if self._rows is None else self._rows[index]

    def __len__(self) -> int:
        return len(self._store.ids) if self._rows is None else len(self._rows)

    def _at(self, index: int) -> Case:
        return self._store.read(self._row(index))

    def header(self, index: int) -> CaseHeader:
        """The facts of the case at ``index``, without reading it."""
        store, row = self._store, self._row(index)
        return CaseHeader(
            store.ids[row], store.weights[row], bool(store.required[row]), store.repeats[row], store.tags.get(row, [])
        )

    @property
    def facts(self) -> CaseFactsView:
        """Every case's facts, in order, made when asked for (nothing is read from the file)."""
        return CaseFactsView(self)

    @property
    def ids(self) -> Iterable[str]:
        store = self._store
        return store.ids if self._rows is None else (store.ids[row] for row in self._rows)

    @property
    def offline_outputs(self) -> dict[str, str]:
        """The cases' own ``offline_output``, by case id (of every case in the file)."""
        return self._store.offline_outputs

    @property
    def assertion_types(self) -> set[str]:
        """Every assertion type some case uses (of every case in the file)."""
        return self._store.assertion_types

    def select(self, positions: Iterable[int]) -> SpooledCases:
        """The cases at ``positions`` (in that order), sharing this file."""
        return SpooledCases(self._store, [self._row(i) for i in positions])

    def close(self) -> None:
        self._store.file.close()

    def __eq__(self, other: object) -> bool:
        # equal to any sequence of the same cases (a suite loaded whole, say); reads every case
        if self is other:
            return True
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SpooledCases({len(self)} cases)"

    # pydantic copies a model's fields when asked to (model_copy(deep=True)); the spool is shared, not copied
    def __deepcopy__(self, memo: dict[int, Any]) -> SpooledCases:
        return self


class CaseFactsView(_View[CaseHeader]):
    """:attr:`SpooledCases.facts`: a spooled suite's case facts, one made per access."""

    def __init__(self, cases: SpooledCases) -> None:
        self._cases = cases

    def __len__(self) -> int:
        return len(self._cases)

    def _at(self, index: int) -> CaseHeader:
        return self._cases.header(index)


def case_facts(cases: Sequence[Case]) -> Sequence[CaseFacts]:
    """The facts of ``cases`` without reading spooled ones: the cases themselves when they are in memory."""
    return cases.facts if isinstance(cases, SpooledCases) else cases
