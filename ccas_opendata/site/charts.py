"""Server-side SVG charts: drawn once at publish time, no script, no network.

Why SVG rendered in Python rather than a chart library in the browser: the pages are
pre-rendered anyway, the charts are simple bars, and an inline SVG works without
JavaScript, prints sharply, loads nothing from anywhere and can carry an accessible
title. Each chart sits next to the table it draws (its text alternative).

Why every chart is ``WIDTH`` units wide with ``FONT``-unit text: an inline SVG scales
with its box, so its text shrinks with it. The site's CSS draws a chart at most at its
natural width (see ``.graphique`` in ``static/site.css``); on a 390 px phone the box is
about 350 px, so the text is drawn at ``FONT × 350 / WIDTH`` ≈ 12 px, above the 11 px
floor the page tests check. Long category labels therefore sit on their own line above
their bar rather than beside it, and twelve months are drawn as horizontal bars: twelve
columns with their figures cannot fit in that width at a readable size.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


BAR = "#1d5a9e"  # 7.0:1 contrast on white
PREVIOUS = "#9bb7d4"  # last year, lighter
SECRET = "#b7b7b7"
TEXT = "#1b1b1b"

WIDTH = 400  # viewBox width of every chart (see the module docstring)
FONT = 14  # text size in viewBox units
CHAR = 8.2  # generous width of one character at FONT (system sans-serif)
SHORT_LABEL = 12  # labels up to this many characters sit beside their bar
SECRET_TEXT = "secret statistique"
LEFT = 2  # glyphs overhang their origin a little: text never starts at 0


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: hidden (secret statistique)
    text: str  # the figure as shown (French format)
    previous: float | None = None


def _scale(bars: list[Bar]) -> float:
    values = [b.value for b in bars if b.value is not None] + [b.previous for b in bars if b.previous is not None]
    return max(values) if values and max(values) > 0 else 1.0


def text_width(text: str) -> float:
    """Room a text needs at ``FONT``: a generous estimate, the page tests measure the real one."""
    return len(text) * CHAR


def _wrap(label: str, width: float) -> list[str]:
    """A label cut into lines that fit ``width``, at spaces."""
    lines: list[str] = []
    for word in label.split(" "):
        if lines and text_width(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _open(chart_id: str, title: str, height: float) -> list[str]:
    return [
        f'<svg class="graphique" id="{chart_id}" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" role="img" '
        f'aria-labelledby="{chart_id}-titre" xmlns="http://www.w3.org/2000/svg" font-family="inherit" font-size="{FONT}">',
        f'<title id="{chart_id}-titre">{escape(title)}</title>',
        f'<defs><pattern id="{chart_id}-hachures" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="6" stroke="{SECRET}" stroke-width="3"/></pattern></defs>',
    ]


def horizontal_bars(chart_id: str, title: str, bars: list[Bar], legend_previous: str | None = None, legend_current: str = "") -> str:
    """One bar per category with its figure at the end; short labels (months, years) to
    the left of their bar, longer ones on their own line above it."""
    beside = max((len(b.label) for b in bars), default=0) <= SHORT_LABEL
    label_width = LEFT + (max((text_width(b.label) for b in bars), default=0) + 8 if beside else 0.0)
    value_room = max([text_width(b.text) for b in bars if b.value is not None] + [text_width("0")]) + 8
    bar_width = WIDTH - label_width - value_room
    label_lines = [[b.label] if beside else _wrap(b.label, WIDTH - LEFT) for b in bars]
    line = FONT + 4
    bar_height = 16
    top = 22.0 if legend_previous else 2.0
    maximum = _scale(bars)
    rows = [(0 if beside else line * len(lines)) + bar_height + 10 for lines in label_lines]
    parts = _open(chart_id, title, top + sum(rows))
    if legend_previous:
        x_previous = text_width(legend_current) + 30
        parts.append(
            f'<rect class="legende" x="{LEFT}" y="4" width="12" height="10" fill="{BAR}"/><text x="{LEFT + 16}" y="14" fill="{TEXT}">{escape(legend_current)}</text>'
            f'<rect class="legende precedente" x="{x_previous:.0f}" y="4" width="12" height="10" fill="{PREVIOUS}"/>'
            f'<text x="{x_previous + 16:.0f}" y="14" fill="{TEXT}">{escape(legend_previous)}</text>'
        )
    y = top
    for bar, lines, row in zip(bars, label_lines, rows):
        if beside:
            bar_y = y + 3
            parts.append(f'<text x="{label_width - 8:.1f}" y="{bar_y + 13}" text-anchor="end" fill="{TEXT}">{escape(bar.label)}</text>')
        else:
            for i, text in enumerate(lines):
                parts.append(f'<text x="{LEFT}" y="{y + FONT + i * line:.0f}" fill="{TEXT}">{escape(text)}</text>')
            bar_y = y + line * len(lines) + 2
        text_y = bar_y + 13
        if bar.value is None:
            parts.append(
                f'<rect class="barre secret" x="{label_width:.1f}" y="{bar_y}" width="24" height="{bar_height}" fill="url(#{chart_id}-hachures)"/>'
                f'<text x="{label_width + 30:.1f}" y="{text_y}" fill="{TEXT}" font-style="italic">{SECRET_TEXT}</text>'
            )
        else:
            width = max(bar.value / maximum * bar_width, 1.0 if bar.value > 0 else 0.0)
            end = width
            if bar.previous is not None:
                previous = bar.previous / maximum * bar_width
                end = max(end, previous)
                parts.append(
                    f'<rect class="barre precedente" x="{label_width:.1f}" y="{bar_y + 11}" width="{previous:.1f}" height="6" fill="{PREVIOUS}"/>'
                )
            parts.append(
                f'<rect class="barre" x="{label_width:.1f}" y="{bar_y}" width="{width:.1f}" height="{11 if bar.previous is not None else bar_height}" fill="{BAR}"/>'
            )
            parts.append(f'<text x="{label_width + end + 6:.1f}" y="{text_y}" fill="{TEXT}">{escape(bar.text)}</text>')
        y += row
    parts.append("</svg>")
    return "".join(parts)


def columns(chart_id: str, title: str, bars: list[Bar]) -> str:
    """Vertical bars (a few years), figure above each bar and label below; horizontal bars
    instead when the columns would be too narrow for their figures or labels."""
    n = max(len(bars), 1)
    column = WIDTH / n
    needed = max([text_width(b.text) for b in bars] + [text_width(b.label) for b in bars] + [text_width("secret")]) + 8
    if needed > column:
        return horizontal_bars(chart_id, title, bars)
    height, bottom, gap, top = 220, 28, 8, 30
    # Evolutions can be negative: bars hang below a zero line, their figure under them.
    values = [b.value for b in bars if b.value is not None]
    low, high = min(values + [0.0]), max(values + [0.0])
    base = height - bottom - (20 if low < 0 else 0)
    span = (high - low) or 1.0
    zero = top + high / span * (base - top)
    parts = _open(chart_id, title, height)
    if low < 0:
        parts.append(f'<rect class="axe" x="0" y="{zero:.1f}" width="{WIDTH}" height="1" fill="#767676"/>')
    for i, bar in enumerate(bars):
        x = i * column + gap / 2
        w = column - gap
        parts.append(f'<text x="{x + w / 2:.1f}" y="{height - 10}" text-anchor="middle" fill="{TEXT}">{escape(bar.label)}</text>')
        if bar.value is None:
            parts.append(
                f'<rect class="barre secret" x="{x:.1f}" y="{zero - 20:.1f}" width="{w:.1f}" height="20" fill="url(#{chart_id}-hachures)"/>'
                f'<text x="{x + w / 2:.1f}" y="{zero - 26:.1f}" text-anchor="middle" fill="{TEXT}" font-style="italic">secret</text>'
            )
            continue
        h = abs(bar.value) / span * (base - top)
        y, text_y = (zero - h, zero - h - 5) if bar.value >= 0 else (zero, zero + h + FONT + 2)
        parts.append(f'<rect class="barre" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{BAR}"/>')
        parts.append(f'<text x="{x + w / 2:.1f}" y="{text_y:.1f}" text-anchor="middle" fill="{TEXT}">{escape(bar.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def standalone(chart_svg: str, title: str, source: str) -> str:
    """A chart as a file of its own (« Image (SVG) »): its title above it and its source line
    below, on white, so that the image says what it shows and where it comes from wherever
    it is pasted. The chart itself is the page's SVG, nested unchanged."""
    height = float(chart_svg.split('height="', 1)[1].split('"', 1)[0])
    pad, line = 12, FONT + 6
    title_lines = _wrap(title, WIDTH - LEFT)
    source_lines = _wrap(source, (WIDTH - LEFT) * FONT / 11)
    top = pad + line * len(title_lines)
    total = top + 8 + height + 8 + 15 * len(source_lines) + pad
    inner = chart_svg.replace("<svg ", f'<svg x="{pad}" y="{top + 8:.0f}" ', 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + 2 * pad}" height="{total:.0f}" viewBox="0 0 {WIDTH + 2 * pad} {total:.0f}" '
        f'font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH + 2 * pad}" height="{total:.0f}" fill="#ffffff"/>',
    ]
    for i, text in enumerate(title_lines):
        parts.append(f'<text x="{pad + LEFT}" y="{pad + FONT + i * line}" font-weight="bold" fill="{TEXT}">{escape(text)}</text>')
    parts.append(inner)
    for i, text in enumerate(source_lines):
        parts.append(
            f'<text x="{pad + LEFT}" y="{top + 8 + height + 8 + 11 + i * 15:.0f}" font-size="11" fill="#444444">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + "".join(parts) + "\n"
