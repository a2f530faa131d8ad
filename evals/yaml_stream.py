"""A streaming YAML reader for big suites: builds plain data from parser events, never a node graph.

PyYAML's loaders compose the whole document into node objects before constructing Python values:
for a 10,000-case suite that is ~3 s and ~100 MB of peak memory that the allocator never returns.
Building values straight from libyaml's events takes a third of the time and a third of the memory.
Anything unusual (custom tags, complex keys) falls back to the standard safe loader, which also
produces the error messages with line numbers.

:func:`stream_cases` goes further for the biggest suites: it hands each item of the top-level
``cases`` list to a callback as soon as the item is complete, and keeps none of them, so a suite of
100,000 cases is never whole in memory as data (see :mod:`evals.suite_loader`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import IO

import yaml
from yaml import events

SAFE_LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_STANDARD = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "merge")
)

_Container = dict[object, object] | list[object]


class _Unusual(Exception):
    """The document uses something the streaming reader leaves to the standard loader."""


class StreamUnusual(Exception):
    """What :func:`stream_cases` cannot stream (anything :func:`load_yaml` leaves to the standard loader,
    a ``cases`` key given twice); the caller reads the document whole instead."""


class _MergeKey:
    """Stands for a ``<<`` key until its value arrives."""


_MERGE_KEY = _MergeKey()


class _NoKey:
    """Marks a mapping whose next scalar is a key (``None`` cannot: ``~:`` is a valid null key)."""


_NO_KEY = _NoKey()


@functools.lru_cache(maxsize=4096)
def _plain_tag(value: str) -> str:
    """The tag YAML 1.1 gives a plain (unquoted) scalar; a suite repeats its keys and most values in every case."""
    # types-PyYAML leaves Resolver.resolve unannotated; it returns the resolved tag (a str)
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag


def _scalar(event: events.ScalarEvent) -> object:
    tag = event.tag
    if tag is None or tag == "!":
        # a quoted scalar is a string whatever it reads (the resolver's answer without path resolvers)
        tag = _plain_tag(event.value) if event.implicit[0] else _STR
    if tag == _STR:
        return event.value
    if tag == _MERGE:
        return _MERGE_KEY
    if tag not in _STANDARD:
        raise _Unusual(tag)
    # types-PyYAML types node marks as yaml.error.Mark only, but libyaml's events carry yaml._yaml.Mark,
    # which nodes take as well (the constructor only reads their line and column for errors)
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)  # type: ignore[arg-type]
    return _CONSTRUCTOR.construct_object(node, deep=True)


CaseCallback = Callable[[object], None]
"""Receives one item of the top-level ``cases`` list."""


def _stream_load(text: str | IO[str], on_case: CaseCallback | None = None) -> object:
    """The document as plain data; with ``on_case``, the top-level ``cases`` items go to it and the list stays empty."""
    stack: list[_Container] = []
    keys: list[object] = []
    anchors: dict[str, object] = {}
    # one object per distinct string: a big suite repeats its keys, assertion types and values in every case
    strings: dict[str, str] = {}
    root: object = None
    # streaming: the top-level ``cases`` list, whose items go to ``on_case``
    cases_list: list[object] | None = None
    for event in yaml.parse(text, Loader=SAFE_LOADER):
        value: object
        if isinstance(event, events.ScalarEvent):
            value = _scalar(event)
            if isinstance(value, str):
                value = strings.setdefault(value, value)
            if event.anchor:
                anchors[event.anchor] = value
        elif isinstance(event, events.CollectionStartEvent):
            if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                raise _Unusual(event.tag)
            container: _Container = {} if isinstance(event, events.MappingStartEvent) else []
            if on_case is not None and len(stack) == 1 and isinstance(stack[0], dict) and keys[0] == "cases":
                if cases_list is not None or "cases" in stack[0]:
                    raise StreamUnusual("`cases` is given twice")
                if isinstance(container, list):
                    cases_list = container
            if event.anchor:
                anchors[event.anchor] = container
            stack.append(container)
            keys.append(_NO_KEY)
            continue
        elif isinstance(event, events.CollectionEndEvent):
            value = stack.pop()
            keys.pop()
        elif isinstance(event, events.AliasEvent):
            if event.anchor is None:
                raise _Unusual("alias without an anchor")
            value = anchors[event.anchor]
        else:
            continue
        if not stack:
            root = value
            continue
        top = stack[-1]
        if top is cases_list and on_case is not None:
            on_case(value)
            # a case's own strings are not shared with the rest of the document: the case is not kept
            strings.clear()
        elif isinstance(top, list):
            top.append(value)
        elif keys[-1] is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise _Unusual("complex key")
            keys[-1] = value
        else:
            key, keys[-1] = keys[-1], _NO_KEY
            if key is _MERGE_KEY:
                _merge(top, value)
            else:
                top[key] = value
    return root


def _merge(target: dict[object, object], value: object) -> None:
    """A ``<<`` merge key: the keys of a mapping (or of each in a list) that ``target`` lacks."""
    for source in value if isinstance(value, list) else [value]:
        if not isinstance(source, dict):
            raise _Unusual("merge of something other than a mapping")
        for k, v in source.items():
            target.setdefault(k, v)


def stream_cases(stream: IO[str], on_case: CaseCallback) -> object:
    """Parse a suite document, handing each item of its top-level ``cases`` list to ``on_case`` as it completes.

    Returns the document without its cases (``cases`` is an empty list; absent if the document has
    none). Only the current case is ever held, besides what anchors name.

    Raises:
        yaml.YAMLError: The text is not valid YAML.
        StreamUnusual: The document needs the standard loader (custom tags, complex keys, ...) or
            gives ``cases`` twice; ``on_case`` may have had some of the cases by then.
    """
    try:
        return _stream_load(stream, on_case)
    except (_Unusual, KeyError, AttributeError, TypeError) as exc:
        raise StreamUnusual(str(exc)) from None


def load_yaml(text: str) -> object:
    """Parse YAML text into plain Python data, as ``yaml.safe_load`` would.

    Raises:
        yaml.YAMLError: The text is not valid YAML (with the line in ``problem_mark``).
    """
    try:
        return _stream_load(text)
    except (_Unusual, KeyError, AttributeError, TypeError):
        return yaml.load(text, Loader=SAFE_LOADER)
