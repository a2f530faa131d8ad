"""The technical file as print-ready HTML: the web app's autoescaped templates, the print stylesheet inlined.

The API serves this standalone document (``?format=html``); the web page at ``/releases/{id}/technical-file``
shows the same body (``_technical_file.html``) inside the app's layout, with the stylesheet as a static file.
"""

from __future__ import annotations

from markupsafe import Markup

from governance.technical_file.rendering import draft_note, kpi_lines, pct, when, who
from governance.technical_file.schemas import SECTIONS, TechnicalFileDocument
from service.web.routing import STATIC_DIR, templates

PRINT_CSS = "technical-file.css"


def template_helpers() -> dict[str, object]:
    """What the file's templates read besides the document: the sections in order and the formatters."""
    titles = {key: (number, title, ref) for number, (key, title, ref) in enumerate(SECTIONS, start=1)}
    return {
        "section_titles": titles,
        "tf_when": when,
        "tf_pct": pct,
        "tf_who": who,
        "tf_kpis": kpi_lines,
        "tf_draft_note": draft_note,
    }


def technical_file_html(document: TechnicalFileDocument) -> str:
    """A standalone, print-ready HTML document of the file (no script, the stylesheet inlined)."""
    css = Markup((STATIC_DIR / PRINT_CSS).read_text(encoding="utf-8"))  # our own file, never user content
    template = templates.env.get_template("technical_file.html")
    return template.render(document=document, css=css, **template_helpers())
