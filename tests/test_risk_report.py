"""The published risk report withholds what the secret hides: which breakdowns were
homogeneous, and the size of a group of persons under the threshold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_risk_report_counts_hidden_homogeneous_breakdowns_without_naming_them(published: Path):
    report = json.loads((published / "datapackages" / "2024" / "risque.json").read_text(encoding="utf-8"))
    assert "ventilations_sensibles_masquees" not in report
    assert isinstance(report["nombre_ventilations_sensibles_masquees"], int)
    assert report["nombre_ventilations_sensibles_masquees"] >= 0


def test_smallest_group_is_published_only_at_or_above_the_threshold(published: Path):
    report = json.loads((published / "datapackages" / "2024" / "risque.json").read_text(encoding="utf-8"))
    smallest = report["plus_petit_groupe_quasi_identifiants"]
    assert smallest is None or smallest >= report["seuil_secret"]
    # 1 500 records over months, sites, ages, quartiers, families and situations: some
    # person is alone in her group, which the report must not say.
    assert smallest is None


def test_risk_page_renders_the_withheld_figures(published: Path):
    page = (published / "publish" / "pages" / "risque" / "2024.html").read_text(encoding="utf-8")
    assert "Plus petit groupe de personnes" in page
    row = page.split("Plus petit groupe de personnes", 1)[1].split("</tr>", 1)[0]
    assert "moins de 11 personnes" in row
    assert "Ventilations sensibles masquées en entier" in page
