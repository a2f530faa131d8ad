"""Small KPI charts over time, drawn on the server by pygal as SVG and embedded as images.

No script and no external asset: pygal's interactive script is switched off, and the SVG is inlined as a
``data:`` image, which the pages' Content-Security-Policy allows (``img-src 'self' data:``) while it forbids
inline styles in the page itself.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import date
from typing import Any

import pygal
from pygal.etree import etree
from pygal.style import Style

CHART_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#333333",
    foreground_strong="#111111",
    foreground_subtle="#dddddd",
    colors=("#1f5f99",),
    font_family="system-ui, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
)


def line_chart(title: str, days: Sequence[date], values: Sequence[float | None], *, percent: bool) -> str:
    """One KPI per day as an SVG line chart; days without a value are gaps, not zeros."""
    known = [value for value in values if value is not None]
    top = 1.0 if percent else float(max(1.0, *known) if known else 1.0)
    # Counts get whole-number ticks (pygal would label fractions of one); shares run from 0 to 100%.
    ticks = [i / 4 for i in range(5)] if percent else sorted({round(top * i / 4) for i in range(5)})
    chart = pygal.Line(
        style=CHART_STYLE,
        width=420,
        height=180,
        explicit_size=True,
        show_legend=False,
        show_dots=True,
        dots_size=2,
        js=[],
        disable_xml_declaration=True,
        x_label_rotation=0,
        show_minor_x_labels=False,
        truncate_label=-1,
        margin=8,
        range=(0, top),
        y_labels=ticks,
        value_formatter=(lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:.0f}"),
        title=title,
    )
    chart.x_labels = [day.strftime("%d %b") for day in days]
    chart.x_labels_major = [label for i, label in enumerate(chart.x_labels) if i % 7 == 0]
    chart.add(title, list(values))
    return _without_scripts(chart.render_tree())


def _without_scripts(root: Any) -> str:
    # pygal always writes its configuration as a <script>, even with js=[]: an image never runs it, but a chart
    # that is only a picture should carry no code at all.
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return str(etree.tostring(root, encoding="unicode"))


def as_image_source(svg: str) -> str:
    """The SVG as a ``data:`` URL for an ``<img src>``."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
