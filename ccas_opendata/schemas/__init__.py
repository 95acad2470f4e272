"""JSON Schemas (draft 2020-12) of the metadata files: ``contract.yml`` and the catalogue.

A data folder, listed as a package so that setuptools ships the schemas in the wheel; the
tests (``tests/test_metadata_schema.py``) validate every shipped copy against them.
"""
