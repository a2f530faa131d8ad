"""Errors that stop a run before it starts: configuration the caller must fix."""

from __future__ import annotations


class EvalConfigError(Exception):
    """The run cannot start: a missing template, an unknown provider or case id, a template syntax error.

    Attributes:
        field: What is wrong, as a path the user recognises (``prompt``, ``--provider``, ``case_ids``).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")
