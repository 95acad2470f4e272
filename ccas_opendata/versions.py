"""A year's versions: numbering, the private record snapshots revisions compare against,
the changelog, and the difference between a new table and the version online.

Why snapshots: a reader who kept the version online can subtract it from a revision, and
the difference describes only the records that changed. To know, for every published
cell, how many distinct persons those changed records are, the revision needs the
records of the version online. They are kept pseudonymised (as the work area holds
them) in ``.versions/AAAA/X.Y.Z/`` at the root of the publication folder: owner-only
(0700/0600), dot-named, never under ``datapackages/`` or ``publish/``, never in a zip.
The key's fingerprint is kept with them: pseudonyms only match under the same key, and a
revision under another key would see every person as changed. So is the person-key rule
(``regle-personne``; absent: the legacy rule, kept before the rule changed): a year
keeps the rule of its first publication (:func:`year_rule`), so that the persons who did
not change are seen unchanged and small corrections stay frozen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .aggregate import KEY, aggregate
from .anonymise import LEGACY_RULE, PERSON_KEY_RULE, read_anonymised, write_anonymised
from .catalogue import Catalogue
from .layout import Layout, private_dir, private_file
from .publisher import Publisher
from .errors import CcasError
from .granularity import Granularity, of_table
from .package import read_published
from .secrecy import FROZEN, Revision, public_secret
from .vocabulary import PUBLISHED_KEY

FIRST_VERSION = "1.0.0"
KEY_FINGERPRINT = "cle.empreinte"
PERSON_RULE_FILE = "regle-personne"


# --- numbering -----------------------------------------------------------------------------


def parse_version(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


def next_version(version: str) -> str:
    """A revision changes figures but not the table's shape or codes: a minor version."""
    major, minor, _ = parse_version(version)
    return f"{major}.{minor + 1}.0"


def package_version(package: Path) -> tuple[str, str]:
    """(version, created) of a published package."""
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    return str(descriptor.get("version", FIRST_VERSION)), str(descriptor["created"])


# --- private snapshots -----------------------------------------------------------------------


def key_fingerprint(key: bytes) -> str:
    """Says whether two runs used the same key, and nothing about the key."""
    return hmac.new(key, b"ccas-opendata/empreinte-de-cle", hashlib.sha256).hexdigest()


def kept_versions(folder: Path, year: int) -> list[tuple[str, Path]]:
    """(version, folder) of every version of ``year`` whose records are kept, oldest first."""
    base = Layout(folder).year_versions(year)
    if not base.exists():
        return []
    found = [(p.name, p) for p in base.iterdir() if (p / KEY_FINGERPRINT).exists()]
    return sorted(found, key=lambda item: parse_version(item[0]))


def write_snapshot(directory: Path, tables: dict[str, pd.DataFrame], fingerprint: str, rule: int = PERSON_KEY_RULE) -> None:
    """The anonymised records of a version being made, owner-only, with the key's
    fingerprint and the person-key rule their pseudonyms were made with."""
    private_dir(directory)
    write_anonymised(tables, directory)
    private_file(directory / KEY_FINGERPRINT).write_text(fingerprint + "\n", encoding="ascii")
    private_file(directory / PERSON_RULE_FILE).write_text(f"{rule}\n", encoding="ascii")


def person_rule(directory: Path) -> int:
    """The person-key rule of a kept snapshot; one kept before the rule was recorded is legacy."""
    path = directory / PERSON_RULE_FILE
    return int(path.read_text(encoding="ascii").strip()) if path.exists() else LEGACY_RULE


def year_rule(folder: Path, year: int) -> int:
    """The person-key rule a revision of ``year`` pseudonymises with: the rule of its kept
    versions. A year keeps the rule of its first publication, because a revision must see
    the persons whose records did not change as unchanged: a year first published under
    the legacy rule counted « DUPONT Marie » and « Dupont Marie » as two persons, and
    counting them as one now would move person counts that no changed record explains
    (unfrozen, those moves would describe the merged person). The new rule applies to
    every year first published from now on."""
    return LEGACY_RULE if any(person_rule(records) == LEGACY_RULE for _, records in kept_versions(folder, year)) else PERSON_KEY_RULE


def same_rule(records: Path, rule: int, year: int) -> None:
    """Refuse to compare records pseudonymised under two rules (their persons never match)."""
    if person_rule(records) != rule:
        raise CcasError(
            f"Les enregistrements conservés de la version {records.name} de {year} ne reconnaissent pas les personnes "
            "comme ceux de cette révision : la révision ne peut pas savoir qui a changé.",
            advice=f"La publication de {year} reste telle quelle. Signalez ce message à l'équipe du projet.",
        )


def read_snapshot(directory: Path, fingerprint: str, year: int) -> dict[str, pd.DataFrame]:
    """The records a version was made from; refused under another key (every pseudonym
    would differ, and every person would look changed)."""
    if (directory / KEY_FINGERPRINT).read_text(encoding="ascii").strip() != fingerprint:
        raise CcasError(
            f"La clé de pseudonymisation n'est pas celle qui a servi à publier {year} : la révision ne peut pas "
            "reconnaître les personnes dont les enregistrements ont changé.",
            advice="Relancez avec la clé de la publication en ligne (--cle-fichier, CCAS_OPENDATA_CLE ou ~/.config/ccas-opendata/cle).",
        )
    return read_anonymised(directory)


# --- the persons behind each change ------------------------------------------------------------


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """A record as text; a record without person identifier is compared by its content
    (its stand-in person is its line number, which an inserted line shifts)."""
    text = frame.astype(str).reset_index(drop=True)
    if "personne" in text and "usager_connu" in frame:
        text.loc[~frame["usager_connu"].to_numpy(dtype=bool), "personne"] = ""
    return text


def _not_in(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    """Rows of ``a`` without a match in ``b``, duplicates counted (a multiset difference)."""
    columns = sorted(set(a.columns) | set(b.columns))
    left, right = _comparable(a).reindex(columns=columns, fill_value=""), _comparable(b).reindex(columns=columns, fill_value="")
    left["_n"] = left.groupby(columns, sort=False).cumcount()
    right["_n"] = right.groupby(columns, sort=False).cumcount()
    merged = left.merge(right.drop_duplicates(), on=[*columns, "_n"], how="left", indicator=True)
    return pd.Series((merged["_merge"] == "left_only").to_numpy(), index=a.index)


def changed_records(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Per table, the records removed and the records added (a corrected record is both)."""
    out = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old is None or new is None:
            out[name] = pd.concat([t for t in (old, new) if t is not None], ignore_index=True)
            continue
        out[name] = pd.concat([old[_not_in(old, new).to_numpy()], new[_not_in(new, old).to_numpy()]], ignore_index=True)
    return out


def delta_table(
    before: dict[str, pd.DataFrame],
    after: dict[str, pd.DataFrame],
    publisher: Publisher,
    catalogue: Catalogue,
    year: int,
    granularity: Granularity | None = None,
) -> pd.DataFrame | None:
    """The changed records (removed and added) aggregated like a year, every breakdown
    kept: what a reader holding both versions can take the difference of. ``None`` when
    no record changed. A revision protects it as a publication (:mod:`secrecy`). The
    breakdowns are those of the version online (``granularity``)."""
    changed = changed_records(before, after)
    if all(frame.empty for frame in changed.values()):
        return None
    if "accompagnements" not in changed:
        changed["accompagnements"] = after["accompagnements"].iloc[0:0]
    return aggregate(changed, publisher, catalogue, year, None, every_breakdown=True, granularity=granularity)


def persons_of(cells: pd.DataFrame | None, catalogue: Catalogue) -> dict[tuple[str, tuple[str, str, str, str]], int]:
    """(indicator, key) -> distinct persons, from a delta table."""
    if cells is None:
        return {}
    persons = {
        (code, key): int(n)
        for code, key, n in zip(cells["indicateur"], cells[KEY].astype(str).itertuples(index=False, name=None), cells["personnes"])
        if n > 0
    }
    for indicator in catalogue.indicators:
        if indicator.mesure == "evolution":
            for (code, key), n in list(persons.items()):
                if code == indicator.lien["de"]:
                    persons[(indicator.code, key)] = n
    return persons


def revision_of(
    published_table: pd.DataFrame, persons: dict, threshold: int, delta: pd.DataFrame | None = None, frozen: set | None = None
) -> Revision:
    return Revision(
        published_table[[*PUBLISHED_KEY, "annee", "valeur", "unite", "secret"]].copy(),
        persons,
        threshold,
        delta=delta,
        frozen=frozen or set(),
    )


def revision_against(
    records: Path,
    fingerprint: str,
    new: dict[str, pd.DataFrame],
    published: pd.DataFrame,
    publisher: Publisher,
    catalogue: Catalogue,
    year: int,
    threshold: int,
    rule: int = PERSON_KEY_RULE,
) -> Revision:
    """What a reader holding the version whose records are kept in ``records`` (and whose
    table is ``published``) can combine with a new version made from ``new`` (pseudonymised
    under the person-key ``rule``, which must be the kept version's)."""
    same_rule(records, rule, year)
    before = read_snapshot(records, fingerprint, year)
    delta = delta_table(before, new, publisher, catalogue, year, of_table(published, catalogue, year))
    return revision_of(published, persons_of(delta, catalogue), threshold, delta, read_frozen(records))


# --- figures a version kept frozen (private, beside its records) ---------------------------------

FROZEN_FILE = "gel.json"


def write_frozen(directory: Path, table: pd.DataFrame, reasons: pd.Series) -> None:
    """The figures a version shows frozen from an earlier one: the next revision models
    them as unknowns of this version's records. Private, like the records."""
    mask = (reasons == FROZEN).to_numpy()
    rows = sorted(
        [code, *key]
        for code, key in zip(table.loc[mask, "indicateur"], table.loc[mask, KEY].astype(str).itertuples(index=False, name=None))
    )
    private_file(directory / FROZEN_FILE).write_text(json.dumps(rows, ensure_ascii=False) + "\n", encoding="utf-8")


def read_frozen(directory: Path) -> set[tuple[str, tuple[str, str, str, str]]]:
    path = directory / FROZEN_FILE
    if not path.exists():
        return set()
    return {(row[0], (row[1], row[2], row[3], row[4])) for row in json.loads(path.read_text(encoding="utf-8"))}


# --- what a new table changes -------------------------------------------------------------------


@dataclass
class Diff:
    """The difference between the version online and a new table of the same year."""

    year: int
    version: str
    changed: int = 0  # figures whose value, flag or presence changes
    hidden: int = 0  # published online, hidden in the new table
    unhidden: int = 0  # hidden online, published in the new table
    examples: list[str] = field(default_factory=list)

    def french(self) -> str:
        if not self.changed:
            return f"Aucun chiffre de {self.year} ne change : la version {self.version} reste en ligne."
        lines = [
            f"Par rapport à la version en ligne de {self.year} ({self.version}) : {self.changed} chiffre(s) changent, "
            f"dont {self.hidden} désormais masqué(s) et {self.unhidden} désormais publié(s)."
        ]
        lines += [f"  {e}" for e in self.examples]
        return "\n".join(lines)


def diff_tables(year: int, version: str, before: pd.DataFrame, after: pd.DataFrame, examples: int = 5) -> Diff:
    """Count what changes between two published tables of a year (published columns)."""

    def index(table: pd.DataFrame) -> pd.DataFrame:
        frame = table[[*PUBLISHED_KEY, "valeur", "secret"]].copy()
        frame[PUBLISHED_KEY] = frame[PUBLISHED_KEY].astype(str)
        frame["secret"] = public_secret(frame["secret"])
        return frame.set_index(PUBLISHED_KEY)

    joined = index(before).join(index(after), how="outer", lsuffix="_avant", rsuffix="_apres")
    value_before, value_after = joined["valeur_avant"].round(6), joined["valeur_apres"].round(6)
    same_value = (value_before == value_after) | (value_before.isna() & value_after.isna())
    same = same_value & (joined["secret_avant"].fillna("∅") == joined["secret_apres"].fillna("∅"))
    was_published = joined["secret_avant"].eq("") & joined["valeur_avant"].notna()
    now_published = joined["secret_apres"].eq("") & joined["valeur_apres"].notna()
    was_hidden, now_hidden = joined["secret_avant"].fillna("").ne(""), joined["secret_apres"].fillna("").ne("")
    diff = Diff(year, version, int((~same).sum()), int((was_published & now_hidden).sum()), int((was_hidden & now_published).sum()))
    for key, row in joined[~same & was_published & now_published].head(examples).iterrows():
        diff.examples.append(f"{'/'.join(key)} : {row['valeur_avant']:g} → {row['valeur_apres']:g}")
    return diff


def revision_diff(folder: Path, year: int, new_table: pd.DataFrame) -> Diff | None:
    """The difference a new table of ``year`` would make to the version online (``None``
    when the year is not published): for ``release --essai`` and for a real revision."""
    package = Layout(folder).package(year)
    if not (package / "indicateurs.csv").exists():
        return None
    version, _ = package_version(package)
    return diff_tables(year, version, read_published(package / "indicateurs.csv"), new_table)


# --- the changelog (data kept at the root of the publication folder: Layout.changelog) ------------


def read_changelog(path: Path) -> list[dict]:
    """The entries of a changelog file (``changements.json``), oldest first."""
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8"))["changements"])


def revision_note(threshold: int) -> str:
    """The version's note on the freeze (the same for every revision, so it tells nothing
    about the records that changed)."""
    return (
        f"Les petites corrections sont retenues : un chiffre n'est corrigé que lorsque la correction concerne au moins "
        f"{threshold} personnes, sinon il garde la valeur déjà publiée jusqu'à ce que d'autres corrections s'y ajoutent. "
        "Les totaux peuvent donc différer de la somme des enregistrements ajoutés ou retirés."
    )


def changelog_entry(year: int, version: str, created: str, motif: str, diff: Diff | None, threshold: int | None = None) -> dict:
    """One line of the changelog; ``diff`` is ``None`` for a first publication."""
    counts = Diff(year, version) if diff is None else diff
    entry = {
        "date": created[:10],
        "horodatage": created,
        "annee": year,
        "version": version,
        "nature": "publication" if diff is None else "revision",
        "motif": motif,
        "chiffres_modifies": counts.changed,
        "masques": counts.hidden,
        "demasques": counts.unhidden,
    }
    if diff is not None and threshold is not None:
        entry["note"] = revision_note(threshold)
    return entry


def write_changelog(path: Path, entries: list[dict]) -> None:
    ordered = sorted(entries, key=lambda e: (e["horodatage"], e["annee"], parse_version(e["version"])))
    path.write_text(json.dumps({"changements": ordered}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
