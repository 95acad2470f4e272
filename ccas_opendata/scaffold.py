"""``init``: create a publication folder from the commented templates in ``defaults/``."""

from __future__ import annotations

import shutil
from pathlib import Path

from .layout import DEFAULTS_DIR, Layout
from .errors import ConfigurationError
from .template import TEMPLATE_NAME, write_template

TEMPLATES = ("organisation.yml", "lieux.csv", "quartiers.csv", "indicateurs.yml")


def create_publication_folder(folder: Path) -> list[Path]:
    """Copy the metadata templates into ``folder/metadata``; never overwrite a file."""
    target = Layout(folder).metadata
    existing = [name for name in TEMPLATES if (target / name).exists()]
    if existing:
        raise ConfigurationError(
            f"{folder} contient déjà {', '.join(existing)} : rien n'a été modifié.",
            advice="Choisissez un dossier vide, ou modifiez directement les fichiers existants.",
        )
    target.mkdir(parents=True, exist_ok=True)
    created = []
    for name in TEMPLATES:
        shutil.copyfile(DEFAULTS_DIR / name, target / name)
        created.append(target / name)
    for sub in ("datapackages",):
        (folder / sub).mkdir(exist_ok=True)
    created.append(write_template(folder / TEMPLATE_NAME))
    gitignore = folder / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# Zone de travail privée : données pseudonymisées, jamais publiées.\n.travail/\n", encoding="utf-8")
        created.append(gitignore)
    return created
