"""A chart's PNG is drawn once: a new build copies the one the build it replaces drew from
the very same SVG, and draws again as soon as the SVG differs by a byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import Markup

from ccas_opendata.site.charts import Bar, columns
from ccas_opendata.site.exports import write_chart_files
from ccas_opendata.site.images import find_font, svg_to_png
from ccas_opendata.site.render import Block

pytestmark = pytest.mark.skipif(find_font() is None, reason="no system font with French accents: no PNG is drawn")


def chart(title: str) -> Block:
    bars = [Bar("janvier", 12.0, "12"), Bar("février", None, "secret"), Bar("mars", 30.0, "30")]
    return Block(
        id="essai",
        title=title,
        chart=Markup(columns("essai", title, bars)),
        rows=[],
        columns=("Mois", "Nombre"),
        has_secret=True,
        stem="essai-2024",
        source="Source : CCAS de Test, 2024",
    )


def png_of(directory: Path) -> bytes:
    return (directory / "essai-2024.png").read_bytes()


def drawing_of(directory: Path) -> bytes:
    """What a drawing of the SVG written there gives (its first line is the XML declaration)."""
    return svg_to_png((directory / "essai-2024.svg").read_text(encoding="utf-8").split("\n", 1)[1])


def test_a_png_drawn_from_the_same_svg_is_copied_and_redrawn_when_the_svg_changes(tmp_path):
    first = tmp_path / "premiere"
    write_chart_files(first, chart("Accompagnements par mois, 2024"), 2024)
    assert png_of(first) == drawing_of(first) and png_of(first)[:8] == b"\x89PNG\r\n\x1a\n"

    # Told apart from a drawing: the previous build's file, marked.
    (first / "essai-2024.png").write_bytes(b"dessin de la construction precedente")
    same = tmp_path / "meme-svg"
    write_chart_files(same, chart("Accompagnements par mois, 2024"), 2024, drawn=first)
    assert png_of(same) == b"dessin de la construction precedente"

    changed = tmp_path / "autre-svg"
    write_chart_files(changed, chart("Accompagnements par mois, 2024 (révisé)"), 2024, drawn=first)
    assert png_of(changed) == drawing_of(changed) and png_of(changed)[:8] == b"\x89PNG\r\n\x1a\n"

    # A previous build without the chart (a first publication, a new chart): drawn.
    new = tmp_path / "nouveau"
    write_chart_files(new, chart("Accompagnements par mois, 2024"), 2024, drawn=tmp_path / "absent")
    assert png_of(new) == drawing_of(new)
