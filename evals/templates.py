"""Rendering a suite's prompt into chat messages in a sandboxed Jinja2 environment.

Templates are compiled once per run. Undefined variables raise (StrictUndefined): a prompt rendered
with a silent empty string would be graded as if it were the real one.
"""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from evals.messages import Message, Role
from evals.run_errors import EvalConfigError
from evals.suite import Suite

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class RenderError(Exception):
    """A template failed to render for one case (e.g. a missing variable)."""


def compile_template(source: str, name: str) -> Template:
    """Compile a template once.

    Raises:
        EvalConfigError: The template has a syntax error (names the template and line).
    """
    try:
        return _ENV.from_string(source)
    except TemplateSyntaxError as exc:
        raise EvalConfigError(name, f"template syntax error on line {exc.lineno}: {exc.message}") from None


def render(template: Template, variables: Mapping[str, object], name: str) -> str:
    """Render a compiled template; a missing variable or sandbox violation raises RenderError."""
    try:
        return template.render(variables)
    except TemplateError as exc:
        raise RenderError(f"{name}: {exc.message or exc}") from None
    except Exception as exc:  # a filter or attribute error in user templates is a case error
        raise RenderError(f"{name}: {type(exc).__name__}: {exc}") from None


def render_text(source: str, variables: Mapping[str, object], name: str) -> str:
    """Compile and render a template in one go (for rubric texts and judge prompts)."""
    try:
        template = _ENV.from_string(source)
    except TemplateSyntaxError as exc:
        raise RenderError(f"{name}: template syntax error on line {exc.lineno}: {exc.message}") from None
    return render(template, variables, name)


class PromptRenderer:
    """Turns a case's variables into the chat messages of a suite, with templates compiled once."""

    def __init__(self, suite: Suite, templates: Mapping[str, str]) -> None:
        """Compile the suite's templates.

        Args:
            suite: The suite whose ``prompt``, ``system`` and ``messages`` to compile.
            templates: Prompt texts by name; must contain ``suite.prompt``.

        Raises:
            EvalConfigError: The prompt is missing or a template does not compile.
        """
        if suite.prompt not in templates:
            known = ", ".join(sorted(templates)) or "none"
            raise EvalConfigError("prompt", f"no template for prompt {suite.prompt!r} (templates given: {known})")
        self._prompt = compile_template(templates[suite.prompt], f"prompt {suite.prompt!r}")
        self._system = compile_template(suite.system, "system") if suite.system is not None else None
        self._messages: list[tuple[Role, Template]] | None = (
            [(m.role, compile_template(m.content, f"messages[{i}].content")) for i, m in enumerate(suite.messages)]
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
