"""The full-text index behind one small interface: write pages, search, rebuild (Whoosh today)."""

from arkhiv.search.index import PageIndex, PageRecord, SearchFilters

__all__ = ["PageIndex", "PageRecord", "SearchFilters"]
