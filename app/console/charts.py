"""Horizontal bar charts drawn on the server as inline SVG (no script, no framework), with a
title and a text label per bar so the figures are readable without the picture
(``role="img"`` and ``aria-label``). Negative values (a change) draw to the left of the axis."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, ROW, LABEL, VALUE = 640, 26, 150, 130


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


def bar_chart(title: str, bars: Sequence[Bar], fmt: Callable[[int], str] = str) -> Markup:
    if not bars:
        return Markup(f'<p class="muted">{escape(title)}:无数据</p>')
    plot = WIDTH - LABEL - VALUE
    most = max(abs(b.value) for b in bars) or 1
    has_negative = any(b.value < 0 for b in bars)
    zero = LABEL + (plot // 2 if has_negative else 0)
    scale = (plot // 2 if has_negative else plot) / most
    height = ROW * len(bars) + 8
    parts = [f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
             f'<svg class="chart" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} '
             f'{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for row, bar in enumerate(bars):
        y = 4 + row * ROW
        length = round(abs(bar.value) * scale)
        x = zero - length if bar.value < 0 else zero
        colour = "#b3261e" if bar.value < 0 else "#174ea6"
        parts.append(
            f'<text x="{LABEL - 6}" y="{y + 17}" text-anchor="end" font-size="13">'
            f'{escape(bar.label)}</text>'
            f'<rect x="{x}" y="{y + 3}" width="{max(length, 1)}" height="{ROW - 8}" '
            f'fill="{colour}"/>'
            f'<text x="{WIDTH - VALUE + 6}" y="{y + 17}" font-size="13">'
            f'{escape(fmt(bar.value))}</text>')
    parts.append(f'<line x1="{zero}" y1="0" x2="{zero}" y2="{height}" stroke="#5a6270"/>'
                 '</svg></figure>')
    return Markup("".join(parts))
