"""ccas-opendata: publish a CCAS's yearly activity as anonymised open data."""

from importlib.metadata import PackageNotFoundError, version

try:
    # One version, written in pyproject.toml only (and in CHANGELOG.md when it moves).
    __version__ = version("ccas-opendata")
except PackageNotFoundError:  # a checkout run without being installed
    __version__ = "0+inconnue"
