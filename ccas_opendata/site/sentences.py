"""The key sentences that open a bilan, as a CCAS writes them in its yearly report.

Why templates in ``libelles.yml`` rather than sentences in code: the wording is the CCAS's
French, not the tool's logic; only how a figure is said lives here. A figure is said the
way people say it, with the rounding of the published figure (the card beside it shows the
same): a count in French digits, a duration in minutes to 0,1, a share as a friendly
fraction (« les deux tiers ») followed by its percentage when it is that close to one,
otherwise as its percentage. A sentence whose figure is hidden (secret statistique) or not
published is left out: no sentence may hint at a hidden figure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from .formatting import NBSP, fr_number

# (value or None when hidden, unit) of an indicator for the year, or None when not published.
Figure = Callable[[str], tuple[float | None, str] | None]
PLACEHOLDER = re.compile(r"{(\w+)}")


def rounded(value: float) -> int:
    """Half up, as people round (Python's round() goes to even)."""
    return math.floor(value + 0.5)


def say_share(value: float, fractions: dict[float, str], tolerance: float) -> str:
    """``66.4`` → « les deux tiers (66,4 %) »; ``82.0`` → « 82,0 % »."""
    percent = f"{fr_number(value, 1)}{NBSP}%"
    for share, words in fractions.items():
        if abs(value - float(share)) <= tolerance:
            return f"{words} ({percent})"
    return percent


def say(value: float, unit: str, fractions: dict[float, str], tolerance: float) -> str:
    if unit == "pourcentage":
        return say_share(value, fractions, tolerance)
    if unit == "minutes":
        return fr_number(value, 1)
    return fr_number(rounded(value))


def key_sentences(labels: dict, year: int, figure: Figure) -> list[str]:
    """The sentences of ``labels["phrases_cles"]`` whose every figure is published."""
    settings = labels["fractions"]
    fractions, tolerance = settings["parts"], float(settings["ecart"])
    sentences = []
    for template in labels["phrases_cles"]:
        values = {"annee": str(year)}
        for code in PLACEHOLDER.findall(template):
            if code == "annee":
                continue
            found = figure(code)
            if found is None or found[0] is None:
                break
            values[code] = say(found[0], found[1], fractions, tolerance)
        else:
            text = template.format(**values)
            sentences.append(text[:1].upper() + text[1:])
    return sentences
