"""Parsing the values agents type: dates, numbers, durations (« 1h30 »), counts
(« 7 pers. »), yes/no, and codes from labels, multi-valued cells included (« CAF + impôts »).

Each parser takes the distinct values of a column (stripped text) and returns their
parsed values and whether each is malformed; rows then take their value by code."""

from __future__ import annotations

import re
from functools import cache

import pandas as pd

from ..vocabulary import contract
from ..correspondances import TableMapping, fold, normalise_header


TRUE_WORDS = {"oui", "true", "1", "vrai", "o", "yes", "x"}
FALSE_WORDS = {"non", "false", "0", "faux", "n", "no"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
_FR_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
_INTEGER = re.compile(r"^[+-]?\d+(\.0+)?$")


def _parse_date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    iso = values.str.match(_ISO_DATE)
    fr = values.str.match(_FR_DATE)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if iso.any():
        parsed[iso] = pd.to_datetime(values[iso].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    if fr.any():
        parsed[fr] = pd.to_datetime(values[fr].str.split(" ").str[0], format="%d/%m/%Y", errors="coerce")
    return parsed, parsed.isna()


def _parse_integer(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    cleaned = values.str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    ok = cleaned.str.match(_INTEGER)
    parsed = pd.to_numeric(cleaned.where(ok), errors="coerce").astype("Int64")
    return parsed, ~ok


_DURATION = re.compile(
    r"^(?:(?P<minutes>[+-]?\d+(?:\.0+)?)\s*(?:min(?:ute)?s?\.?|mn|m|'|’)?"
    r"|(?P<h>\d+)\s*h(?:eures?)?\s*(?P<hm>\d{1,2})?\s*(?:min(?:ute)?s?\.?|mn|m|'|’)?"
    r"|(?P<c>\d+):(?P<cm>\d{2})(?::00)?)$",
    re.IGNORECASE,
)


def _parse_duration(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Minutes as agents type them: « 45 », « 45 min », « 45mn », « 45' », « 1h », « 1h30 »,
    « 1 h 30 », « 1:30 », « 0:45 » (time cells already arrive as minutes)."""

    def minutes(text: str) -> float:
        m = _DURATION.match(text.replace("\u00a0", " ").replace("\u202f", " ").strip())
        if m is None:
            return float("nan")
        if m["minutes"] is not None:
            return float(m["minutes"])  # out of bounds (-30, 600) is the range check's to name
        hours, rest = (m["h"], m["hm"]) if m["h"] is not None else (m["c"], m["cm"])
        return float(int(hours) * 60 + int(rest or 0))

    parsed = pd.Series([minutes(str(v)) for v in values], index=values.index, dtype="float64")
    ok = parsed.notna()
    return parsed.astype("Int64"), ~ok


_COUNT = re.compile(r"^(\d+)\s*[^\W\d_]*\.?$")


def _parse_count(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A number of persons, with the unit agents add: « 7 pers. », « 7 participants »."""
    cleaned = values.str.replace(r"[\u00a0\u202f]", " ", regex=True).str.strip()
    number = cleaned.str.extract(_COUNT, expand=False)
    integer, bad = _parse_integer(values)
    parsed = integer.where(~bad, pd.to_numeric(number, errors="coerce").astype("Int64"))
    return parsed, bad & number.isna()


def _parse_boolean(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    folded = values.str.lower()
    is_true, is_false = folded.isin(TRUE_WORDS), folded.isin(FALSE_WORDS)
    parsed = pd.Series(pd.NA, index=values.index, dtype="boolean")
    parsed[is_true] = True
    parsed[is_false] = False
    return parsed, ~(is_true | is_false)


PARSERS = {"date": _parse_date, "integer": _parse_integer, "boolean": _parse_boolean}
#: Integer columns whose unit (``unite`` in the contract) is typed along with the number.
UNIT_PARSERS = {"minutes": _parse_duration, "personnes": _parse_count}
EXPECTED_TEXT = {
    "date": "date attendue au format AAAA-MM-JJ ou JJ/MM/AAAA.",
    "integer": "nombre entier attendu.",
    "boolean": "oui/non (ou vrai/faux, 1/0) attendu.",
}


_STRONG_SEPARATORS = re.compile(r"\s*[|;\n\r]+\s*")
#: Inside a piece that is no label as a whole: « CAF + impôts », « CPAM / ameli », « CAF et impôts ».
_WEAK_SEPARATORS = re.compile(r"\s*[,+/]+\s*|\s+et\s+", re.IGNORECASE)


class CodeReader:
    """Turns what the agent typed into codes: her own values first (correspondances), then
    the contract's codes, labels and usual spellings. A cell is matched whole first
    (« Social, santé (CPAM, RSA, handicap) » is one label); otherwise a multi-valued cell
    is split on ``|``, ``;`` or line breaks, and a piece that is still no label on ``,``,
    ``+``, ``/`` and `` et ``. Her ``valeurs`` map those single pieces, never combinations."""

    def __init__(self, lookup: dict[str, str], own: dict[str, str], multi: bool, open_list: bool = False):
        self.lookup = {**lookup, **own}
        self.multi = multi
        #: The publisher's list is not known here (no metadata): keep the folded value.
        self.open_list = open_list

    def known(self, text: str) -> str | None:
        code = self.lookup.get(fold(text))
        if code is None:
            code = self.lookup.get(normalise_header(text))
        return code

    def one(self, text: str) -> str | None:
        code = self.known(text)
        if code is None and self.open_list:
            code = fold(text)
        return code

    def pieces(self, text: str) -> list[str]:
        """The single values a cell holds, as typed: the whole cell when it is a known
        value (or the column takes one value), else its pieces, split as the class says."""
        text = text.strip()
        if not text:
            return []
        if not self.multi or self.known(text) is not None:
            return [text]
        out: list[str] = []
        for piece in (p for p in _STRONG_SEPARATORS.split(text) if p):
            if self.known(piece) is not None:
                out.append(piece)
            else:
                out += [part for part in _WEAK_SEPARATORS.split(piece) if part.strip()]
        return out

    def read(self, text: str) -> tuple[str | None, list[str]]:
        """(codes joined by ``|`` or None when empty, the unrecognised pieces)."""
        codes: list[str] = []
        unknown: list[str] = []
        for piece in self.pieces(text):
            code = self.one(piece)
            codes.append(code) if code is not None else unknown.append(piece)
        codes = [c for c in dict.fromkeys(codes) if c]  # an empty mapping means "non communiqué"
        return ("|".join(codes) if codes else None), unknown


_NOT_A_LABEL = re.compile(r"[0-9@]")


def showable(value: str) -> bool:
    """Whether a wrong value of a code column may be shown to the agent. Labels and codes
    are not personal data, but an identifier typed in the wrong column can be: a value
    with a digit or an ``@`` (a phone number, a date, an e-mail, a file number) or longer
    than a label is never shown."""
    return len(value) <= 40 and not _NOT_A_LABEL.search(value)


def duration_showable(value: str) -> bool:
    """A refused duration is shown as typed (« trois quarts d'heure », « 1h3O »), unless it
    could be personal: five digits or more (a phone or file number), an ``@``, or any word
    that is not a word of durations (« 17 impasse des Canaris » typed in the wrong column)."""
    if len(value) > 30 or sum(ch.isdigit() for ch in value) >= 5 or "@" in value:
        return False
    words = set(re.split(r"[\d_]+", fold(value))) - {""}
    return words <= _duration_words()


@cache
def _duration_words() -> frozenset[str]:
    return frozenset(fold(w) for w in contract()["mots_duree"])


def integer_labels(column: str, mapping: TableMapping) -> dict[str, str]:
    """Folded label → number for an integer column typed as words (« Très satisfait » is 5):
    the contract's labels and usual spellings, then her own ``valeurs``."""
    labels = (
        {fold(label): code for code, label in contract()["libelles"].get(column, {}).items()}
        if column in contract().get("orthographes", {})
        else {}
    )
    labels |= {fold(typed): str(code) for typed, code in contract().get("orthographes", {}).get(column, {}).items()}
    return labels | mapping.valeurs.get(column, {})
