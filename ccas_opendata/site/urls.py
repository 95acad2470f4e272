"""The site's addresses, built from ``base_url`` in one place.

The site may live under a sub-path (``https://www.ville.fr/ccas/donnees/``): pages link
with :meth:`SiteUrls.path` (``/ccas/donnees/bilan/2024``), citations and the DCAT
catalogue with :meth:`SiteUrls.absolute`. Datasette is given the same sub-path as its own
``base_url`` setting (see :meth:`SiteUrls.datasette_base_url`), so that its pages, the
reverse proxy and the pre-rendered pages agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class SiteUrls:
    """``base`` is an absolute address ending with "/" (``Publisher.base_url``)."""

    base: str

    @property
    def origin(self) -> str:
        """``https://www.ville.fr``: scheme and host, without the sub-path."""
        parts = urlsplit(self.base)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def prefix(self) -> str:
        """The sub-path without its trailing "/": ``/ccas/donnees``, or ``""`` at the root."""
        return urlsplit(self.base).path.rstrip("/")

    def path(self, path: str = "/") -> str:
        """A link for the pages: ``/bilan/2024`` → ``/ccas/donnees/bilan/2024``."""
        if not path.startswith("/"):
            path = "/" + path
        return self.prefix + path

    def absolute(self, path: str = "/") -> str:
        """A full address, for citations and the catalogue."""
        return self.origin + self.path(path)

    def datasette_base_url(self) -> str:
        """Datasette's ``base_url`` setting: ``/ccas/donnees/``, or ``/`` at the root."""
        return self.prefix + "/"
