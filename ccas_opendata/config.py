"""The tool's own files, beside its code.

What this module held once lives by concern: the contract's vocabulary in
:mod:`vocabulary`, the publisher's metadata in :mod:`publisher`, the publication folder's
paths in :mod:`layout`, the pseudonymisation key in :mod:`keys`.
"""

from __future__ import annotations

from pathlib import Path

from .layout import DEFAULTS_DIR

PACKAGE_DIR = Path(__file__).resolve().parent
EXPECTATIONS_DIR = PACKAGE_DIR / "expectations"

__all__ = ["DEFAULTS_DIR", "EXPECTATIONS_DIR", "PACKAGE_DIR"]
