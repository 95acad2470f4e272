"""Anonymise at record level: what leaves this stage can no longer single out a person
by itself.

- ``usager`` becomes a keyed HMAC-SHA256 pseudonym (the key never leaves memory), used
  only to count distinct persons and repeat visits; it is never published;
- the exact date becomes a month, the age or birth year an age band, the duration
  keeps its minutes but also gets a band;
- empty cells become explicit ``non_communique`` modalities, so every breakdown adds
  up to its total (which the secrecy audit relies on).

The output is a set of plain DataFrames written to the private work area.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .layout import private_dir, private_file
from .publisher import Lieu, Publisher, Quartier
from .vocabulary import NO, NOT_GIVEN, SOURCES, YES, bands, boolean_columns, columns, derived, flags, publisher_list, when_empty
from .errors import CcasError
from .ingest import Records

WORK_FILES = {source: f"{source}.csv" for source in SOURCES}
#: The accompaniments' columns read here by name; every other code column of the contract
#: is carried as it is, an empty cell becoming ``non_communique`` (or its ``si_vide`` code).
_READ_BY_NAME = ("lieu", "thematiques")


def plain_code_columns(table: str) -> list[str]:
    """The code columns of ``table`` carried as they are (a new one in ``contract.yml``
    is published without a change here), in the contract's order."""
    return [
        column
        for column, spec in columns(table).items()
        if spec["type"] in ("code", "codes")
        and column not in _READ_BY_NAME
        and column not in derived()
        and when_empty(table, column) is None
    ]


def _yes_no(values: pd.Series) -> np.ndarray:
    """A boolean column as its published codes: yes, no, or ``non_communique`` when empty."""
    return np.where(values.isna(), NOT_GIVEN, np.where(values.fillna(False), YES, NO))


def flagged_codes(publisher: Publisher, table: str, column: str, flag: str) -> frozenset[str]:
    """The codes of the publisher's list feeding ``column`` whose ``flag`` column says yes
    (the quartiers.csv rows marked ``qpv``)."""
    listed = publisher_list(table, column)
    lists: dict[str, Sequence[Lieu | Quartier]] = {"lieux.csv": publisher.lieux, "quartiers.csv": publisher.quartiers}
    items = lists[listed["fichier"]] if listed else []
    return frozenset(item.code for item in items if getattr(item, flag))


def pseudonymise_usager(values: pd.Series, key: bytes) -> pd.Series:
    """Keyed pseudonyms: without the key, nobody can test a guessed file number.

    Hashed once per distinct identifier (a person's visits share it), which keeps a
    million records to a few hundred thousand HMACs.
    """

    def digest(value: str) -> str:
        # hmac.digest is the one-shot C path: ~10× faster than hmac.new(...).hexdigest().
        return hmac.digest(key, value.strip().encode("utf-8"), "sha256").hex()[:32]

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    hashed = np.array([digest(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(hashed[codes], index=values.index)


#: Which rule made a set of pseudonyms. ``1`` (legacy, before issue #14): the single
#: ``usager`` cell, ``strip()``-ed. ``2``: :func:`correspondances.fold` of the key (case,
#: accents, spacing, punctuation; several columns joined). Kept beside every snapshot of
#: records (:mod:`versions`): pseudonyms only match under the same key *and* rule.
LEGACY_RULE = 1
PERSON_KEY_RULE = 2


def person_columns(usager: pd.Series | None, index: pd.Index, key: bytes) -> pd.DataFrame:
    """``personne`` and ``usager_connu`` of each record from its person key (``None``: the
    file has no key column). A record without identifier is a person of its own: never
    merged with others (its stand-in is its row number)."""
    out = pd.DataFrame(index=index)
    if usager is not None and usager.notna().any():
        pseudo = pseudonymise_usager(usager, key)
        out["personne"] = pseudo.where(pseudo.notna(), "r" + index.astype(str))
        out["usager_connu"] = pseudo.notna()
    else:
        out["personne"] = "r" + index.astype(str)
        out["usager_connu"] = False
    return out


def with_legacy_persons(tables: dict[str, pd.DataFrame], records: Records, key: bytes, year: int) -> dict[str, pd.DataFrame]:
    """``tables`` with the accompaniments' ``personne`` and ``usager_connu`` made under the
    legacy rule (:data:`LEGACY_RULE`): for a year first published under it, whose
    revisions must recognise its persons as its kept versions did (:func:`versions.year_rule`).

    The raw stripped key travels here from the ingest in memory only
    (``Table.legacy_usager``); only its keyed HMAC leaves this function. The legacy rule
    never had a key joining several columns: such a year cannot be revised with one."""
    table = records["accompagnements"]
    frame = table.frame
    if "usager" not in frame or not frame["usager"].notna().any():
        return tables  # no key: both rules give the row numbers
    if table.legacy_usager is None:
        raise CcasError(
            f"L'année {year} a été publiée quand une personne était reconnue par la seule colonne « usager », et vos "
            "fichiers la reconnaissent maintenant par plusieurs colonnes : la révision ne peut pas reconnaître les "
            "personnes dont les enregistrements ont changé.",
            advice=f"La publication de {year} reste telle quelle. Pour réviser cette année, donnez l'identifiant de la "
            "personne dans une seule colonne (metadata/correspondances.yml), comme lors de sa publication.",
        )
    persons = person_columns(table.legacy_usager.reindex(frame.index), frame.index, key)
    accompaniments = tables["accompagnements"].copy()
    accompaniments["personne"] = persons["personne"].reindex(accompaniments.index).to_numpy()
    accompaniments["usager_connu"] = persons["usager_connu"].reindex(accompaniments.index).to_numpy()
    return dict(tables, accompagnements=accompaniments)


def _band(values: pd.Series, bands: list[dict], missing: str = NOT_GIVEN) -> pd.Series:
    """Map integers to the first band whose ``max`` they do not exceed."""
    edges = [-np.inf] + [b["max"] + 0.5 for b in bands]
    labels = [b["code"] for b in bands]
    out = pd.cut(values.astype("float64"), bins=edges, labels=labels, right=True)
    return out.astype(object).where(out.notna(), missing)


def banded(frame: pd.DataFrame, name: str, year: int) -> pd.Series:
    """A derived band (``derivees``) of each record: from the first of its ``depuis``
    columns the record gives, a year (a column bounded by the published year,
    ``max_annee``: a year of birth) counting as the years from it to 31 December of the
    published year; where none is given, the band as the file gives it (national exports
    give age bands only)."""
    spec = derived()[name]
    given = columns(spec["table"])
    value = pd.Series(np.nan, index=frame.index, dtype="float64")
    for column in spec["depuis"]:
        if column in frame:
            read = frame[column].astype("float64")
            value = value.where(value.notna(), year - read if given[column].get("max_annee") else read)
    band = _band(value, bands(name))
    if name in frame:
        typed = frame[name].astype(object)
        band = band.where((band != NOT_GIVEN) | typed.isna(), typed)
    return band


def _code_or_missing(frame: pd.DataFrame, column: str, missing: str = NOT_GIVEN) -> pd.Series:
    if column not in frame:
        return pd.Series(missing, index=frame.index, dtype=object)
    return frame[column].astype(object).where(frame[column].notna(), missing)


def anonymise_accompagnements(frame: pd.DataFrame, publisher: Publisher, year: int, key: bytes) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["mois"] = month_of(frame["date"])
    out["lieu"] = frame["lieu"].astype(object)
    out["duree"] = frame["duree"].astype("int64")
    out["thematiques"] = frame["thematiques"].astype(object)
    persons = person_columns(frame["usager"] if "usager" in frame else None, frame.index, key)
    out["personne"], out["usager_connu"] = persons["personne"], persons["usager_connu"]
    for column in plain_code_columns("accompagnements"):
        out[column] = _code_or_missing(frame, column)
    for name, spec in flags().items():
        if spec["table"] == "accompagnements":
            source, flagged = out[spec["depuis"]], flagged_codes(publisher, spec["table"], spec["depuis"], spec["drapeau"])
            out[name] = np.where(source == NOT_GIVEN, NOT_GIVEN, np.where(source.isin(flagged), YES, NO))
    # An empty cell may mean a code of its own (no orientation), but only where the column is kept at all.
    for column in columns("accompagnements"):
        empty = when_empty("accompagnements", column)
        if empty is not None:
            out[column] = _code_or_missing(frame, column, empty) if column in frame else NOT_GIVEN
    for column in boolean_columns("accompagnements"):
        out[column] = _yes_no(frame[column]) if column in frame else NOT_GIVEN
    if "satisfaction" in frame:
        sat = frame["satisfaction"]
        out["satisfaction"] = sat.astype("string").astype(object).where(sat.notna(), NOT_GIVEN)
    else:
        out["satisfaction"] = NOT_GIVEN
    for name, spec in derived().items():
        if spec["table"] == "accompagnements":
            out[name] = banded(frame, name, year)
    return _as_categories(out, exclude=("duree", "personne", "usager_connu"))


def _as_categories(frame: pd.DataFrame, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """Codes as categories: a million rows of a few dozen codes cost a few MB."""
    text = [
        c
        for c in frame.columns
        if c not in exclude
        and not pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
        and not isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]
    return frame.astype({c: "category" for c in text})


def month_of(dates: pd.Series) -> pd.Categorical:
    """``AAAA-MM`` of each date, formatted once per distinct date (a year has 366)."""
    codes, uniques = pd.factorize(dates)
    labels = pd.Index(uniques).strftime("%Y-%m")
    label_codes, categories = pd.factorize(labels)
    return pd.Categorical.from_codes(label_codes[codes], categories=categories)


def anonymise_ateliers(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["mois"] = month_of(frame["date"])
    out["lieu"] = frame["lieu"].astype(object)
    out["thematiques"] = frame["thematiques"].astype(object)
    out["participants"] = frame["participants"].astype("int64")
    out["duree"] = frame["duree"] if "duree" in frame else pd.array([pd.NA] * len(frame), dtype="Int64")
    for column in plain_code_columns("ateliers"):
        out[column] = _code_or_missing(frame, column)
    return out


def anonymise_formations(frame: pd.DataFrame) -> pd.DataFrame:
    # ``theme`` is free text: it was never parsed, and it is not carried further.
    out = pd.DataFrame(index=frame.index)
    out["mois"] = month_of(frame["date"])
    out["inscrits"] = frame["inscrits"].astype("int64")
    out["presents"] = frame["presents"].astype("int64")
    for column in plain_code_columns("formations"):
        out[column] = _code_or_missing(frame, column)
    return out


def anonymise(records: Records, publisher: Publisher, year: int, key: bytes) -> dict[str, pd.DataFrame]:
    """The anonymised tables of the year, ready for aggregation."""
    out = {"accompagnements": anonymise_accompagnements(records["accompagnements"].frame, publisher, year, key)}
    if "ateliers" in records:
        out["ateliers"] = anonymise_ateliers(records["ateliers"].frame)
    if "formations" in records:
        out["formations"] = anonymise_formations(records["formations"].frame)
    return out


SNAPSHOT_SUFFIX = ".npz"
# Columns kept as numbers in the work files; every other column is text (codes, months, pseudonyms).
INTEGER_COLUMNS = {"accompagnements": ["duree"], "ateliers": ["participants"], "formations": ["inscrits", "presents"]}
NULLABLE_COLUMNS = {"ateliers": ["duree"]}
BOOLEAN_COLUMNS = {"accompagnements": ["usager_connu"]}


def write_anonymised(tables: dict[str, pd.DataFrame], directory: Path) -> None:
    """One ``.npz`` per table: numbers as arrays, every text column as categorical codes
    and the text of its categories. A million records take 0.1 s to write and to read
    back (CSV: seconds), and nothing is pickled: reading a work file runs no code.

    The text is what a CSV would hold (``""`` for a missing value, ``str`` of the
    rest), so the frames read back are those a CSV snapshot gave, and a revision
    compares two versions as written whatever the format each was kept in."""
    # Pseudonymised records: owner-only folder and files.
    private_dir(directory)
    for name, frame in tables.items():
        arrays: dict[str, np.ndarray] = {
            "_colonnes": np.array(list(frame.columns), dtype=str),
            "_ligne": frame.index.to_numpy(dtype="int64"),
        }
        for i, column in enumerate(frame.columns):
            values = frame[column]
            if column in INTEGER_COLUMNS[name]:
                arrays[f"{i}.entiers"] = values.to_numpy(dtype="int64")
            elif column in NULLABLE_COLUMNS.get(name, []):
                missing = values.isna().to_numpy()
                arrays[f"{i}.entiers"] = values.fillna(0).to_numpy(dtype="int64")
                arrays[f"{i}.manquants"] = missing
            elif column in BOOLEAN_COLUMNS.get(name, []):
                arrays[f"{i}.booleens"] = values.to_numpy(dtype=bool)
            else:
                codes, labels = _text_codes(values)
                arrays[f"{i}.codes"], arrays[f"{i}.textes"] = codes, labels
        path = private_file(directory / f"{name}{SNAPSHOT_SUFFIX}")
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]  # (numpy's stub types every keyword as allow_pickle)


def _text_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and the CSV text of each category (a missing value is ``""``)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, categories = values.cat.codes.to_numpy(), list(values.cat.categories)
    else:
        codes, categories = pd.factorize(values, use_na_sentinel=True)
        categories = list(categories)
    texts = ["" if pd.isna(v) else str(v) for v in categories] + [""]
    text_codes, unique = pd.factorize(pd.Index(texts, dtype=object))
    codes = np.where(codes < 0, len(texts) - 1, codes)
    return text_codes[codes].astype(np.int32), np.array(list(unique), dtype=str)


def read_anonymised(directory: Path) -> dict[str, pd.DataFrame]:
    tables = {}
    for name, file in WORK_FILES.items():
        path = directory / f"{name}{SNAPSHOT_SUFFIX}"
        if path.exists():
            tables[name] = _read_npz(path)
        elif (directory / file).exists():  # kept by an earlier version of the tool
            tables[name] = _read_csv(directory / file, name)
    return tables


def _read_npz(path: Path) -> pd.DataFrame:
    with np.load(path, allow_pickle=False) as arrays:
        index = pd.Index(arrays["_ligne"], dtype="int64", name="ligne")
        columns: dict[str, pd.Series] = {}
        for i, column in enumerate(arrays["_colonnes"].tolist()):
            if f"{i}.manquants" in arrays:
                values = pd.Series(arrays[f"{i}.entiers"], index=index, dtype="Int64")
                columns[column] = values.mask(arrays[f"{i}.manquants"])
            elif f"{i}.entiers" in arrays:
                columns[column] = pd.Series(arrays[f"{i}.entiers"], index=index)
            elif f"{i}.booleens" in arrays:
                columns[column] = pd.Series(arrays[f"{i}.booleens"], index=index)
            else:
                texts = np.array(arrays[f"{i}.textes"].tolist(), dtype=object)
                columns[column] = pd.Series(texts[arrays[f"{i}.codes"]], index=index, dtype=str)
    return pd.DataFrame(columns, index=index)


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, index_col="ligne")
    for column in INTEGER_COLUMNS[name]:
        frame[column] = frame[column].astype("int64")
    if name == "ateliers":
        frame["duree"] = pd.to_numeric(frame["duree"].replace("", None)).astype("Int64")
    if name == "accompagnements":
        frame["usager_connu"] = frame["usager_connu"] == "True"
    frame.index = frame.index.astype("int64")
    return frame
