"""ccas-opendata: publish a CCAS's yearly activity as anonymised open data."""

__version__ = "0.1.0"
