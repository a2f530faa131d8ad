"""Rendering a suite's prompt into chat messages in a sandboxed Jinja2 environment.

Templates are compiled once per run. Undefined variables raise (StrictUndefined): a prompt rendered
with a silent empty string would be graded as if it were the real one.

Templates are untrusted (any owner, admin or CI token publishes them) and render in threads of the
server process, so the sandbox bounds what one render may cost (:class:`TemplateLimits`): big-integer
``**`` and ``*``, sequence ``*`` and ``+``, ``range()``, string padding, replacing and formatting are
refused *before* they compute a result over the caps, the rendered output is capped, and a render
that runs past its deadline stops at its next operator, call, loop step (every ``{% for %}`` is paced) or
output chunk.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment

from evals.messages import Message, Role
from evals.run_errors import EvalConfigError
from evals.suite import Suite


@dataclass(frozen=True, slots=True)
class TemplateLimits:
    """What one render of a template may cost; every cap is checked before the work it bounds."""

    max_int_bits: int = 100_000
    """Largest integer an arithmetic operator may produce (``**``, ``*``), in bits."""
    max_sequence_length: int = 1_000_000
    """Longest string or list an operator, method or filter may produce (``*``, ``+``, ``center``, ...)."""
    max_range_length: int = 100_000
    """Most items one ``range()`` may have."""
    max_output_bytes: int = 1024 * 1024
    """Largest rendered text, in UTF-8 bytes."""
    max_render_seconds: float = 10.0
    """Longest one render may run before it stops with an error."""
    max_made_items: int = 4_000_000
    """Most string characters and list items one render may make in all (operators, padding, replacing, joining,
    formatting, filters that make lists): each step is capped alone, but a loop may repeat it and keep what it made."""


DEFAULT_LIMITS = TemplateLimits()


class TemplateLimitError(SecurityError):
    """A template tried to do more than its :class:`TemplateLimits` allow."""


_deadline: ContextVar[float | None] = ContextVar("template_deadline", default=None)
_made: ContextVar[list[int] | None] = ContextVar("template_made_items", default=None)

_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
# str methods whose result's size is checked (and counted) before they make it
_SIZED_METHODS = _PADDING_METHODS | {"replace", "format", "format_map", "join"}
# a printf spec's width and precision; a format spec (after the colon of a replacement field), nested fields included
_PERCENT_SPEC = re.compile(r"%[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)(\{?)")
_DIGITS = re.compile(r"\d+")


def _size(value: object) -> int | None:
    """The length of a string, bytes or list operand; None for anything else."""
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_CONTAINERS = (list, tuple, dict, set, frozenset)


def _text_size(value: object, budget: int) -> int:
    """About how many characters ``value`` takes as text, counting a nested item each time it appears; stops past
    ``budget``.

    A list that holds one long list a thousand times is short, but its text is a thousand copies: Python writes it
    in one call that no deadline can interrupt, so its size must be known before.
    """
    total, stack = 0, [value]
    while stack and total <= budget:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1  # ~decimal digits
        elif isinstance(item, dict):
            total += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            total += len(item)
            stack.extend(item)
        else:
            total += 1
    return total


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles ``~`` to :meth:`BoundedSandbox.bounded_concat`, so joining strings is capped like ``+``."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        """Write ``environment.bounded_concat((a, b, ...), markup)``."""
        if frame.eval_ctx.volatile:
            markup = "context.eval_ctx.volatile"
        else:
            markup = "True" if frame.eval_ctx.autoescape else "False"
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(f"), {markup})")


def _dump(value: object, indent: int | None = None) -> str:
    """Nunjucks' ``dump``: the value as JSON, as JavaScript's ``JSON.stringify(value, null, indent)`` writes it."""
    return json.dumps(value, ensure_ascii=False, indent=indent, separators=(",", ": ") if indent else (",", ":"))


def _load(text: str) -> object:
    """promptfoo's ``load``: a JSON text parsed (``JSON.parse``), e.g. a CSV cell holding an object."""
    return json.loads(text)


# Filters whose result's size is checked (and counted) before they make it.
_SIZED_FILTERS = ("center", "indent", "wordwrap", "replace", "format", "join", "batch", "slice")
# Filters that read or rearrange a list or a dict without writing it as text: the rest are checked first
# (BoundedSandbox.check_as_text), as a giant text is made in one call that no deadline interrupts.
_STRUCTURE_FILTERS = frozenset(
    {
        "abs", "attr", "batch", "count", "d", "default", "dictsort", "first", "float", "groupby", "int", "items",
        "last", "length", "list", "load", "map", "max", "min", "random", "reject", "rejectattr", "reverse", "round",
        "select", "selectattr", "slice", "sort", "sum", "unique",
    }
)  # fmt: skip

# ... and of those, the ones that give one value, not a new list or string
_SCALAR_FILTERS = frozenset(
    {"abs", "attr", "count", "d", "default", "first", "float", "int", "last", "length", "load", "max", "min",
     "random", "round", "sum"}
)  # fmt: skip


class BoundedSandbox(SandboxedEnvironment):
    """A sandbox whose operators, ``range()``, string methods and filters refuse results over the caps."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, limits: TemplateLimits) -> None:
        super().__init__(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=self._finalize
        )
        self.limits = limits
        self.globals["range"] = self._range
        # the filters promptfoo's prompts use that Jinja2 lacks: Nunjucks' ``dump`` and promptfoo's own ``load``
        self.filters["dump"] = _dump
        self.filters["load"] = _load
        for name in set(self.filters) - _SCALAR_FILTERS:
            writes_text = name not in _STRUCTURE_FILTERS
            # those of _SIZED_FILTERS count their result themselves, before making it
            counts = name not in _SIZED_FILTERS
            self.filters[name] = self._measured_filter(name, self.filters[name], writes_text, counts)
        # checked before the text of their arguments: their own checks name the result they refuse
        for name in _SIZED_FILTERS:
            self.filters[name] = self._bounded_filter(self.filters[name])

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Parse, then make every ``{% for %}`` iterate through :meth:`paced`.

        Without it, nested loops over a long string or list with an empty body spin without calling an
        operator, a filter or writing output, so nothing would notice the render running past its deadline.
        """
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            paced = nodes.EnvironmentAttribute("paced", lineno=loop.iter.lineno)
            loop.iter = nodes.Call(paced, [loop.iter], [], None, None, lineno=loop.iter.lineno)
        return tree

    # -- the checks ---------------------------------------------------------------------------------
    def refuse(self, what: str, size: int, cap: int, unit: str) -> TemplateLimitError:
        return TemplateLimitError(f"template: {what} of {size:,} {unit} exceeds the limit of {cap:,} {unit}")

    def check_deadline(self) -> None:
        """Raise when the current render has run past its time cap."""
        deadline = _deadline.get()
        if deadline is not None and time.monotonic() > deadline:
            cap = self.limits.max_render_seconds
            raise TemplateLimitError(f"template: render time exceeds the limit of {cap:g} seconds")

    def check_as_text(self, what: str, values: Iterable[Any]) -> None:
        """Refuse a list, tuple, dict or set whose text (nested items counted each time) would exceed the cap."""
        cap = self.limits.max_sequence_length
        for value in values:
            if isinstance(value, _CONTAINERS) and (size := _text_size(value, cap)) > cap:
                raise self.refuse(what, size, cap, "items")

    def _finalize(self, value: Any) -> Any:
        """Every ``{{ ... }}`` value, before it is written as text."""
        self.check_as_text("a value written as text", (value,))
        return value

    def _check_length(self, what: str, length: int) -> None:
        """Refuse a result of ``length`` items over the cap, and count it among what the render has made."""
        if length > self.limits.max_sequence_length:
            raise self.refuse(what, length, self.limits.max_sequence_length, "items")
        self._made(what, length)

    def _made(self, what: str, items: int) -> None:
        made = _made.get()
        if made is None:
            return
        made[0] += max(items, 0)
        if made[0] > self.limits.max_made_items:
            cap = self.limits.max_made_items
            raise self.refuse(f"what the render made in all (at {what})", made[0], cap, "items")

    def _check_bits(self, what: str, bits: int) -> None:
        if bits > self.limits.max_int_bits:
            raise self.refuse(what, bits, self.limits.max_int_bits, "bits")

    def _check_format(self, what: str, fmt: object, args: Any, *, printf: bool) -> None:
        """Refuse widths or precisions over the cap, written in the format or taken from its arguments."""
        if not isinstance(fmt, str):
            return
        numbers: list[str] = []
        dynamic = False
        if printf:
            for width, precision in _PERCENT_SPEC.findall(fmt):
                numbers += [n for n in (width, precision) if n and n != "*"]
                dynamic = dynamic or "*" in (width, precision)
        else:
            for spec, nested in _BRACE_SPEC.findall(fmt):
                numbers += _DIGITS.findall(spec)
                dynamic = dynamic or bool(nested)
        cap = self.limits.max_sequence_length
        widths = [int(n) if len(n) <= 12 else cap * 10 for n in numbers]
        if dynamic:
            widths += [a for a in args if _is_int(a)]
        for width in widths:
            if width > cap:
                raise self.refuse(f"{what} width", width, cap, "items")

    def _check_total(self, what: str, values: Any) -> None:
        self._check_length(what, sum(len(v) if isinstance(v, (str, list, tuple)) else 0 for v in values))

    def bounded_concat(self, parts: tuple[Any, ...], markup: bool) -> str:
        """``~``: refuse a result longer than the cap before joining."""
        self.check_deadline()
        self.check_as_text("a value joined by ~", parts)
        texts = [p if isinstance(p, str) else str(p) for p in parts]
        self._check_total("the result of ~", texts)
        return markup_join(texts) if markup else str_join(texts)

    def _check_replace(self, what: str, text: object, old: object, new: object) -> None:
        if isinstance(text, str) and isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
            count = text.count(old) if old else len(text) + 1
            self._check_length(what, len(text) + count * (len(new) - len(old)))

    # -- the sandbox's hooks ------------------------------------------------------------------------
    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Refuse ``**``, ``*``, ``+`` and ``%`` whose result would exceed the caps, before computing it."""
        self.check_deadline()
        if operator == "**":
            if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
                self._check_bits("the result of **", right * left.bit_length())
        elif operator == "*":
            if _is_int(left) and _is_int(right):
                self._check_bits("the result of *", left.bit_length() + right.bit_length())
            else:
                for seq, times in ((left, right), (right, left)):
                    size = _size(seq)
                    if size is not None and _is_int(times):
                        self._check_length("the result of *", size * max(times, 0))
        elif operator == "+":
            left_size, right_size = _size(left), _size(right)
            if left_size is not None and right_size is not None:
                self._check_length("the result of +", left_size + right_size)
        elif operator == "%":
            self.check_as_text("a value in a % format", right if isinstance(right, tuple) else (right,))
            self._check_format("a % format", left, right if isinstance(right, tuple) else (right,), printf=True)
            if isinstance(left, str):
                self._check_total(
                    "the result of a % format", (left, *(right if isinstance(right, tuple) else (right,)))
                )
        return self.binop_table[operator](left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Refuse string padding, replacing and formatting whose result would exceed the caps."""
        __self.check_deadline()
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        name = getattr(target, "__name__", "")
        if isinstance(owner, str):
            if name in _PADDING_METHODS:
                for arg in (*args, *kwargs.values()):
                    if _is_int(arg):
                        __self._check_length(f"the result of str.{name}", arg)
            elif name == "replace" and len(args) >= 2:
                __self._check_replace("the result of str.replace", owner, args[0], args[1])
            elif name in ("format", "format_map"):
                __self._check_format(f"a str.{name} format", owner, (*args, *kwargs.values()), printf=False)
                __self._check_total(f"the result of str.{name}", (owner, *args, *kwargs.values()))
            elif name == "join" and args and isinstance(args[0], (list, tuple)):
                items = args[0]
                __self._check_total("the result of str.join", (owner * max(len(items) - 1, 0), *items))
            __self.check_as_text(f"a value given to str.{name}", (*args, *kwargs.values()))
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(owner, str) and name not in _SIZED_METHODS and isinstance(result, (str, list, tuple)):
            __self._made(f"str.{name}", len(result))
        return result

    def _range(self, *args: int) -> Iterator[int]:
        """``range()`` capped in length, checking the deadline as it goes."""
        numbers = range(*args)
        if len(numbers) > self.limits.max_range_length:
            raise self.refuse("range()", len(numbers), self.limits.max_range_length, "items")
        return self._paced(numbers)

    def _paced(self, numbers: range) -> Iterator[int]:
        return self.paced(numbers)

    def paced(self, iterable: Any) -> Iterator[Any]:
        """Iterate ``iterable``, checking the render's deadline every 1,024 items."""
        for i, item in enumerate(iterable):
            if i % 1024 == 0:
                self.check_deadline()
            yield item

    def _measured_filter(
        self, name: str, func: Callable[..., Any], writes_text: bool, counts: bool
    ) -> Callable[..., Any]:
        """A filter that refuses, first, arguments whose text would exceed the cap (when it ``writes_text``), and
        counts the list or string it makes among what the render has made (when it ``counts``)."""

        @functools.wraps(func)
        def measured(*args: Any, **kwargs: Any) -> Any:
            if writes_text:
                self.check_as_text(f"a value given to the {name} filter", (*args, *kwargs.values()))
            result = func(*args, **kwargs)
            if counts and isinstance(result, (str, list, tuple)):
                self._made(f"the {name} filter", len(result))
            return result

        return measured

    def _bounded_filter(self, func: Callable[..., Any]) -> Callable[..., Any]:
        name = func.__name__.removeprefix("do_")

        @functools.wraps(func)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            self.check_deadline()
            # the value is the first argument that is not the context or environment the filter asks for
            values = [a for a in args if not isinstance(a, (Context, EvalContext, SandboxedEnvironment))]
            value, rest = (values[0], values[1:]) if values else (None, [])
            if name in ("center", "indent", "wordwrap", "batch", "slice"):
                for arg in (*rest, *kwargs.values()):
                    if _is_int(arg):
                        self._check_length(f"the result of the {name} filter", arg)
                if name == "indent" and isinstance(value, str) and rest and isinstance(rest[0], str):
                    self._check_length("the result of the indent filter", len(value) * (len(rest[0]) + 1))
            elif name == "replace" and len(rest) >= 2:
                self._check_replace("the result of the replace filter", value, rest[0], rest[1])
            elif name == "format":
                self._check_format("a format filter", value, (*rest, *kwargs.values()), printf=True)
                self._check_total("the result of the format filter", (value, *rest, *kwargs.values()))
            elif name == "join" and isinstance(value, (list, tuple)):
                separator = rest[0] if rest and isinstance(rest[0], str) else ""
                self._check_total("the result of the join filter", (separator * max(len(value) - 1, 0), *value))
            return func(*args, **kwargs)

        return bounded


@functools.lru_cache(maxsize=16)
def sandbox(limits: TemplateLimits = DEFAULT_LIMITS) -> BoundedSandbox:
    """The sandboxed environment for ``limits`` (one per distinct set of caps)."""
    return BoundedSandbox(limits)


class RenderError(Exception):
    """A template failed to render for one case (e.g. a missing variable)."""


def check_syntax(source: str) -> str | None:
    """Why ``source`` does not compile (``"syntax error on line N: ..."``), or None when it does."""
    try:
        sandbox().parse(source)
    except TemplateSyntaxError as exc:
        return f"syntax error on line {exc.lineno}: {exc.message}"
    return None


def variables_used(source: str) -> set[str]:
    """The names a template reads from its context (``{{ name }}``, ``{% for x in name %}``), not those it sets."""
    return meta.find_undeclared_variables(sandbox().parse(source)) - set(sandbox().globals)


def compile_template(source: str, name: str, limits: TemplateLimits = DEFAULT_LIMITS) -> Template:
    """Compile a template once.

    Raises:
        EvalConfigError: The template has a syntax error (names the template and line).
    """
    try:
        return sandbox(limits).from_string(source)
    except TemplateSyntaxError as exc:
        raise EvalConfigError(name, f"template syntax error on line {exc.lineno}: {exc.message}") from None


def _render_bounded(template: Template, variables: Mapping[str, object]) -> str:
    env = cast(BoundedSandbox, template.environment)
    cap = env.limits.max_output_bytes
    token = _deadline.set(time.monotonic() + env.limits.max_render_seconds)
    made = _made.set([0])
    try:
        parts: list[str] = []
        size = 0
        for part in template.generate(variables):
            size += len(part.encode("utf-8", "surrogatepass"))
            if size > cap:
                raise env.refuse("rendered output", size, cap, "bytes")
            parts.append(part)
            env.check_deadline()
        return "".join(parts)
    finally:
        _deadline.reset(token)
        _made.reset(made)


def render(template: Template, variables: Mapping[str, object], name: str) -> str:
    """Render a compiled template; a missing variable, sandbox violation or exceeded cap raises RenderError."""
    try:
        return _render_bounded(template, variables)
    except TemplateError as exc:
        raise RenderError(f"{name}: {exc.message or exc}") from None
    except Exception as exc:  # a filter or attribute error in user templates is a case error
        raise RenderError(f"{name}: {type(exc).__name__}: {exc}") from None


def render_text(
    source: str, variables: Mapping[str, object], name: str, limits: TemplateLimits = DEFAULT_LIMITS
) -> str:
    """Compile and render a template in one go (for rubric texts and judge prompts)."""
    try:
        template = sandbox(limits).from_string(source)
    except TemplateSyntaxError as exc:
        raise RenderError(f"{name}: template syntax error on line {exc.lineno}: {exc.message}") from None
    return render(template, variables, name)


class PromptRenderer:
    """Turns a case's variables into the chat messages of a suite, with templates compiled once."""

    def __init__(
        self,
        suite: Suite,
        templates: Mapping[str, str],
        limits: TemplateLimits = DEFAULT_LIMITS,
        *,
        prompt: str | None = None,
    ) -> None:
        """Compile the suite's templates.

        Args:
            suite: The suite whose ``prompt``, ``system`` and ``messages`` to compile.
            templates: Prompt texts by name; must contain the prompt.
            limits: What one render may cost.
            prompt: Which of the suite's prompts (a matrix has several); default ``suite.prompt``.

        Raises:
            EvalConfigError: The prompt is missing or a template does not compile.
        """
        name = suite.prompt if prompt is None else prompt
        if name not in templates:
            known = ", ".join(sorted(templates)) or "none"
            raise EvalConfigError("prompt", f"no template for prompt {name!r} (templates given: {known})")
        self._prompt = compile_template(templates[name], f"prompt {name!r}", limits)
        self._system = compile_template(suite.system, "system", limits) if suite.system is not None else None
        self._messages: list[tuple[Role, Template]] | None = (
            [
                (m.role, compile_template(m.content, f"messages[{i}].content", limits))
                for i, m in enumerate(suite.messages)
            ]
            if suite.messages
            else None
        )
        # identical message texts across thousands of cases share one string object
        self._seen: dict[str, str] = {}

    def _share(self, text: str) -> str:
        if len(self._seen) > 10_000:
            return text
        return self._seen.setdefault(text, text)

    def render(self, variables: Mapping[str, object]) -> list[Message]:
        """The chat messages for one case.

        Raises:
            RenderError: A template needs a variable the case lacks, or fails otherwise.
        """
        prompt_text = render(self._prompt, variables, "prompt")
        if self._messages is None:
            messages: list[Message] = []
            if self._system is not None:
                messages.append({"role": "system", "content": self._share(render(self._system, variables, "system"))})
            messages.append({"role": "user", "content": self._share(prompt_text)})
            return messages
        scope = {**variables, "prompt": prompt_text}
        return [
            {"role": role, "content": self._share(render(template, scope, f"messages[{i}].content"))}
            for i, (role, template) in enumerate(self._messages)
        ]
