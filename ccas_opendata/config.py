"""The tool's own files, beside its code.

What this module held once lives by concern: the contract's vocabulary in
:mod:`vocabulary`, the publisher's metadata in :mod:`publisher`, the publication folder's
paths in :mod:`layout`, the pseudonymisation key in :mod:`keys`.
"""

from __future__ import annotations

from pathlib import Path

from .layout import DEFAULTS_DIR
from .publisher import Publisher
from .vocabulary import contract

PACKAGE_DIR = Path(__file__).resolve().parent
EXPECTATIONS_DIR = PACKAGE_DIR / "expectations"

# ``ingest.py`` imports Publisher and contract from here while it is being split into a
# package; its parts import them from :mod:`publisher` and :mod:`vocabulary` instead.
__all__ = ["DEFAULTS_DIR", "EXPECTATIONS_DIR", "PACKAGE_DIR", "Publisher", "contract"]
