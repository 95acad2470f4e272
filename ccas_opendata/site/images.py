"""The PNG image of a chart, drawn at release time from the chart's own SVG.

Why not a browser or cairosvg: the release runs on an agent's computer, where neither
headless Chromium nor the system's Cairo library can be assumed. The charts use a small
part of SVG (``rect``, ``text``, nested ``svg`` placed at ``x``/``y``, a hatching pattern
for hidden figures), so this reads exactly that part and draws it with Pillow. What it
does not know (a path, a transform) is an error, not a silent gap: a new kind of chart
must teach it.

Text needs a font with the French accents: Pillow's built-in font has none, so a common
system sans-serif is used (DejaVu Sans on Debian, Liberation Sans, Arial…). Without one,
:func:`find_font` returns None and the site offers no PNG rather than a wrong one.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SVG = "{http://www.w3.org/2000/svg}"
SCALE = 2  # pixels per SVG unit: sharp on a high-density screen and in a slide
FONT_FILES = {
    "regular": [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/Library/Fonts/Arial.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:/Windows/Fonts/arial.ttf",
    ],
    "bold": [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
        "/Library/Fonts/Arial Bold.ttf",
        "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
        "C:/Windows/Fonts/arialbd.ttf",
    ],
}
HATCH = (200, 200, 200)  # a hidden figure's hatching, drawn flat


class UnsupportedSvg(ValueError):
    """The chart uses an SVG element this drawer does not know."""


def find_font(weight: str = "regular") -> Path | None:
    return next((Path(p) for p in FONT_FILES[weight] if Path(p).is_file()), None)


@cache
def _font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    path = find_font(weight) or find_font("regular")
    assert path is not None  # svg_to_png is only called when a font exists
    return ImageFont.truetype(str(path), size)


def _colour(value: str | None) -> tuple[int, int, int] | None:
    if not value or value == "none":
        return None
    if value.startswith("url("):
        return HATCH
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def svg_to_png(svg: str) -> bytes:
    """The PNG of one of the site's SVG charts (see the module docstring for what it reads)."""
    root = ET.fromstring(svg)
    width, height = float(root.get("width", 0)), float(root.get("height", 0))
    image = Image.new("RGB", (round(width * SCALE), round(height * SCALE)), "white")
    draw = ImageDraw.Draw(image)

    def walk(element: ET.Element, dx: float, dy: float, size: float, weight: str) -> None:
        for child in element:
            tag = child.tag.removeprefix(SVG)
            if tag in ("title", "desc", "defs"):
                continue
            if tag == "svg":
                walk(
                    child,
                    dx + float(child.get("x", 0)),
                    dy + float(child.get("y", 0)),
                    float(child.get("font-size", size)),
                    child.get("font-weight", weight),
                )
            elif tag == "g":
                walk(child, dx, dy, float(child.get("font-size", size)), child.get("font-weight", weight))
            elif tag == "rect":
                fill = _colour(child.get("fill"))
                x, y = dx + float(child.get("x", 0)), dy + float(child.get("y", 0))
                w, h = float(child.get("width", 0)), float(child.get("height", 0))
                if fill and w > 0 and h > 0:
                    draw.rectangle([x * SCALE, y * SCALE, (x + w) * SCALE - 1, (y + h) * SCALE - 1], fill=fill)
            elif tag == "text":
                text = "".join(child.itertext())
                font = _font(
                    "bold" if child.get("font-weight", weight) == "bold" else "regular", round(float(child.get("font-size", size)) * SCALE)
                )
                anchor = {"start": "ls", "middle": "ms", "end": "rs"}[child.get("text-anchor", "start")]
                x, y = dx + float(child.get("x", 0)), dy + float(child.get("y", 0))
                draw.text((x * SCALE, y * SCALE), text, font=font, fill=_colour(child.get("fill")) or (0, 0, 0), anchor=anchor)
            else:
                raise UnsupportedSvg(f"élément SVG non pris en charge pour l'image PNG : {tag}")

    walk(root, 0.0, 0.0, float(root.get("font-size", 14)), root.get("font-weight", "normal"))
    out = io.BytesIO()
    image.save(out, format="PNG")  # optimize=True: 3 times the CPU for 4 % fewer bytes
    return out.getvalue()
