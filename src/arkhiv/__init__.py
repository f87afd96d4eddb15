"""arkhiv: scanned archive pages -> searchable PDF/A, a catalog and a full-text index."""

__version__ = "0.1.0"
