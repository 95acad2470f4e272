"""French number formats for what citizens read: ``3 550``, ``82,0 %``, ``34,5 min``."""

from __future__ import annotations

import math

NBSP = "\u00a0"  # keeps "3 550" and "82,0 %" on one line


def fr_number(value: float | None, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",")


def fr_value(value: float | None, unite: str, integral: bool = True, signed: bool = False) -> str:
    """A published figure in French, with its unit; ``signed`` for an evolution (« +10,3 % »)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "secret statistique"
    if signed and unite == "pourcentage":
        return fr_change(value)
    if unite == "pourcentage":
        return fr_number(value, 1) + NBSP + "%"
    if unite == "minutes":
        return fr_number(value, 1) + NBSP + "min"
    return fr_number(value, 0 if integral and float(value).is_integer() else 1)


def fr_change(value: float | None) -> str:
    """An evolution in percent, signed: ``+10,3 %``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return sign + fr_number(abs(value), 1) + NBSP + "%"


MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]


def fr_date(iso: str) -> str:
    """``2026-01-15T…`` → ``15 janvier 2026``."""
    year, month, day = iso[:10].split("-")
    return f"{int(day)} {MONTHS[int(month) - 1]} {year}"
