"""One object owns the publication folder's layout: every path a stage reads or writes in
the folder is named by :class:`ccas_opendata.layout.Layout`, as the output contract
(``../shared/spec/publication.md``) and the private areas describe them."""

from __future__ import annotations

import stat
from pathlib import Path

from ccas_opendata.layout import DEFAULTS_DIR, Layout, private_dir
from ccas_opendata.workarea import OUTPUTS, STAGES, WorkArea, start_stage
from conftest import make_folder


def test_the_layout_names_the_folder_s_paths_as_the_contract_does(tmp_path: Path):
    folder = tmp_path / "ccas"
    layout = Layout(folder)
    named = {
        "metadata": layout.metadata,
        "paquet": layout.package(2024),
        "table": layout.published_table(2024),
        "site": layout.publish,
        "téléchargements": layout.downloads,
        "journal": layout.changelog,
        "travail": layout.year_work(2024),
        "version": layout.snapshot(2024, "1.1.0"),
        "descripteur": layout.descriptor(2024),
        "risque": layout.risk_report(2024),
        "qualité": layout.quality_docs(2024),
    }
    assert {name: path.relative_to(folder).as_posix() for name, path in named.items()} == {
        "metadata": "metadata",
        "paquet": "datapackages/2024",
        "table": "datapackages/2024/indicateurs.csv",
        "site": "publish",
        "téléchargements": "telechargements",
        "journal": "changements.json",
        "travail": ".travail/2024",
        "version": ".versions/2024/1.1.0",
        "descripteur": "datapackages/2024/datapackage.json",
        "risque": "datapackages/2024/risque.json",
        "qualité": "publish/static/qualite/2024",
    }


def test_the_catalogue_is_the_folder_s_own_else_the_tool_s(tmp_path: Path):
    folder = make_folder(tmp_path / "ccas")
    own = folder / "metadata" / "indicateurs.yml"
    assert own.exists()  # the demo CCAS's metadata carries its own catalogue
    assert Layout(folder).catalogue == own
    own.unlink()
    assert Layout(folder).catalogue == DEFAULTS_DIR / "indicateurs.yml"


def test_the_private_paths_of_the_layout_are_owner_only(tmp_path: Path):
    """A kept version and a year's work area hold pseudonymised records: every folder from
    the private area down is 0700, the publication folder itself keeps its mode."""
    folder = tmp_path / "ccas"
    folder.mkdir()
    folder.chmod(0o755)
    layout = Layout(folder)
    for path in (private_dir(layout.snapshot(2024, "1.0.0")), private_dir(layout.year_work(2024))):
        for directory in [path, *path.parents]:
            if directory == folder:
                break
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755


def test_each_stage_clears_every_name_the_work_area_gives_its_outputs(tmp_path: Path):
    """The names a stage writes (:class:`WorkArea`'s properties) and those ``start_stage``
    clears (``OUTPUTS``) are the same constants: after ``aggregate`` starts again, nothing
    of a later stage survives, and the records ``anonymise`` left stay."""
    area = WorkArea(Layout(tmp_path / "ccas").year_work(2024), 2024)
    written = [getattr(area, name) for name, value in vars(WorkArea).items() if isinstance(value, property)]
    assert area.staged_package.relative_to(area.path).as_posix() == "paquet/2024"
    assert area.next_package.relative_to(area.path).as_posix() == "paquet-suivant/2025"
    for path in written:
        if path.suffix:
            private_dir(path.parent)
            path.write_text("x", encoding="utf-8")
        else:
            private_dir(path)
    top = {path.relative_to(area.path).parts[0] for path in written}
    assert top <= {name for names in OUTPUTS.values() for name in names}  # each one is some stage's output
    start_stage(area, STAGES[1])
    assert sorted(p.name for p in area.path.iterdir()) == [area.anonymised.name]
