"""Report writers: JSON (the versioned format), JUnit XML, Markdown and self-contained HTML."""

from evals.reports.html_report import render_html, write_html
from evals.reports.json_report import read_report, write_json
from evals.reports.junit import render_junit, write_junit
from evals.reports.markdown import render_markdown, write_markdown

__all__ = [
    "read_report",
    "render_html",
    "render_junit",
    "render_markdown",
    "write_html",
    "write_json",
    "write_junit",
    "write_markdown",
]
