"""What lets a chart leave its page (« Données (CSV) », « Image (PNG) », « Image (SVG) »,
« Intégrer »), written at release time next to the pages under ``/graphique/``.

Why files rather than an endpoint: the figures change once a year, the site is served
from memory, and a journalist's link to a chart's CSV must give tomorrow what it gives
today. The CSV holds exactly the rows of the table under the chart (same order, same
categories), with the published numbers rather than their French text; a hidden figure
is an empty cell with « oui » in ``secret``.
"""

from __future__ import annotations

import csv
import io
import shutil
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from .charts import standalone
from .images import find_font, svg_to_png

if TYPE_CHECKING:
    from .render import Block

EXPORT_DIR = "graphique"


def column_name(label: str) -> str:
    """``Catégorie`` → ``categorie``; ``Année et lieu`` → ``annee_et_lieu``."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return "_".join(ascii_text.lower().split())


def number(value: float | None, unit: str) -> str:
    """As published: a whole count without decimals, anything else to 0.1."""
    if value is None:
        return ""
    if unit == "nombre" and float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.1f}"


def chart_csv(block: Block, year: int | None) -> str:
    has_share = "Part" in block.columns
    has_previous = any(c.startswith("En ") for c in block.columns)
    header = (
        [column_name(block.columns[0]), "valeur"]
        + (["part"] if has_share else [])
        + ([f"valeur_{year - 1}"] if has_previous and year else [])
    )
    header += ["unite", "secret"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for r in block.rows:
        row = [r.label, number(r.value, r.unit)]
        if has_share:
            row.append(number(r.share_value, "pourcentage"))
        if has_previous and year:
            row.append(number(r.previous_value, r.unit))
        writer.writerow(row + [r.unit, "oui" if r.secret else ""])
    return out.getvalue()


def write_chart_files(directory: Path, block: Block, year: int | None, drawn: Path | None = None) -> None:
    """``<stem>.csv``, ``<stem>.svg`` and, when a font with accents exists, ``<stem>.png``;
    the PNG copied from ``drawn`` (the previous build's chart files) when that build drew
    it from the very same SVG."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{block.stem}.csv").write_text(chart_csv(block, year), encoding="utf-8")
    image = standalone(str(block.chart), block.title, block.source)
    (directory / f"{block.stem}.svg").write_text(image, encoding="utf-8")
    block.png = find_font() is not None
    if block.png and not _copy_drawn(drawn, block.stem, image, directory / f"{block.stem}.png"):
        (directory / f"{block.stem}.png").write_bytes(svg_to_png(image.split("\n", 1)[1]))


def _copy_drawn(drawn: Path | None, stem: str, image: str, target: Path) -> bool:
    """Copy the PNG the previous build drew from this very SVG (compared byte for byte).

    Drawing and compressing a PNG is most of a site build's CPU (~20 ms a chart, 58
    charts for two years), and a new year or a revision leaves most charts of the other
    years as they were: the PNG is a function of its SVG alone, so the copy is the same
    file a new drawing would give on this machine (same fonts, same Pillow)."""
    if drawn is None:
        return False
    try:
        if (drawn / f"{stem}.svg").read_bytes() != image.encode("utf-8"):
            return False
        shutil.copyfile(drawn / f"{stem}.png", target)
    except FileNotFoundError:
        return False
    return True
