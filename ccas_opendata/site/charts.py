"""Server-side SVG charts: drawn once at publish time, no script, no network.

Why SVG rendered in Python rather than a chart library in the browser: the pages are
pre-rendered anyway, the charts are simple bars, and an inline SVG works without
JavaScript, prints sharply, loads nothing from anywhere and can carry an accessible
title. Each chart sits next to the table it draws (its text alternative).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


BAR = "#1d5a9e"        # 7.0:1 contrast on white
PREVIOUS = "#9bb7d4"   # last year, lighter
SECRET = "#b7b7b7"
TEXT = "#1b1b1b"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None          # None: hidden (secret statistique)
    text: str                    # the figure as shown (French format)
    previous: float | None = None


def _scale(bars: list[Bar]) -> float:
    values = [b.value for b in bars if b.value is not None] + [b.previous for b in bars if b.previous is not None]
    return max(values) if values and max(values) > 0 else 1.0


def horizontal_bars(chart_id: str, title: str, bars: list[Bar], legend_previous: str | None = None, legend_current: str = "") -> str:
    """One bar per category, label on the left, figure at the end of the bar."""
    # Room for the longest label (about 7 px a character at 13 px), within reason.
    label_width = min(max([len(b.label) for b in bars] + [10]) * 7 + 12, 330)
    bar_width, row = 330, 26
    height = row * len(bars) + (24 if legend_previous else 8)
    top = 20 if legend_previous else 4
    maximum = _scale(bars)
    parts = [
        f'<svg class="graphique" id="{chart_id}" viewBox="0 0 {label_width + bar_width + 90} {height + top}" role="img" '
        f'aria-labelledby="{chart_id}-titre" xmlns="http://www.w3.org/2000/svg" font-family="inherit" font-size="13">',
        f'<title id="{chart_id}-titre">{escape(title)}</title>',
        '<defs><pattern id="hachures" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="6" stroke="{SECRET}" stroke-width="3"/></pattern></defs>',
    ]
    if legend_previous:
        parts.append(f'<rect x="{label_width}" y="2" width="12" height="10" fill="{BAR}"/><text x="{label_width + 16}" y="11" fill="{TEXT}">{escape(legend_current)}</text>'
                     f'<rect x="{label_width + 70}" y="2" width="12" height="10" fill="{PREVIOUS}"/><text x="{label_width + 86}" y="11" fill="{TEXT}">{escape(legend_previous)}</text>')
    for i, bar in enumerate(bars):
        y = top + i * row
        parts.append(f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" fill="{TEXT}">{escape(bar.label)}</text>')
        if bar.value is None:
            parts.append(f'<rect class="barre secret" x="{label_width}" y="{y + 4}" width="{bar_width * 0.12:.1f}" height="16" fill="url(#hachures)"/>'
                         f'<text x="{label_width + bar_width * 0.12 + 6:.1f}" y="{y + 16}" fill="{TEXT}" font-style="italic">secret statistique</text>')
            continue
        width = max(bar.value / maximum * bar_width, 1.0 if bar.value > 0 else 0.0)
        if bar.previous is not None:
            parts.append(f'<rect class="barre precedente" x="{label_width}" y="{y + 15}" width="{bar.previous / maximum * bar_width:.1f}" height="6" fill="{PREVIOUS}"/>')
        parts.append(f'<rect class="barre" x="{label_width}" y="{y + 4}" width="{width:.1f}" height="{11 if bar.previous is not None else 16}" fill="{BAR}"/>')
        end = max(width, bar.previous / maximum * bar_width if bar.previous is not None else 0.0)
        parts.append(f'<text x="{label_width + end + 6:.1f}" y="{y + 16}" fill="{TEXT}">{escape(bar.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def columns(chart_id: str, title: str, bars: list[Bar]) -> str:
    """Vertical bars (months of a year), figure above each bar."""
    width, height, gap, left, bottom = 640, 220, 8, 8, 28
    n = max(len(bars), 1)
    column = (width - left) / n
    maximum = _scale(bars)
    parts = [
        f'<svg class="graphique" id="{chart_id}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-titre" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="inherit" font-size="12">',
        f'<title id="{chart_id}-titre">{escape(title)}</title>',
    ]
    for i, bar in enumerate(bars):
        x = left + i * column + gap / 2
        w = column - gap
        parts.append(f'<text x="{x + w / 2:.1f}" y="{height - 10}" text-anchor="middle" fill="{TEXT}">{escape(bar.label)}</text>')
        if bar.value is None:
            parts.append(f'<rect class="barre secret" x="{x:.1f}" y="{height - bottom - 20}" width="{w:.1f}" height="20" fill="{SECRET}"/>'
                         f'<text x="{x + w / 2:.1f}" y="{height - bottom - 26}" text-anchor="middle" fill="{TEXT}" font-style="italic">secret</text>')
            continue
        h = bar.value / maximum * (height - bottom - 30)
        parts.append(f'<rect class="barre" x="{x:.1f}" y="{height - bottom - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{BAR}"/>')
        parts.append(f'<text x="{x + w / 2:.1f}" y="{height - bottom - h - 5:.1f}" text-anchor="middle" fill="{TEXT}">{escape(bar.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)

