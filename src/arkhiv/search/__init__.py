"""The full-text index behind one small interface: write pages, search, rebuild (Whoosh today)."""

from arkhiv.search.index import PageIndex, PageRecord, SearchFilters, SearchPage
from arkhiv.search.searchers import SharedIndex

__all__ = ["PageIndex", "PageRecord", "SearchFilters", "SearchPage", "SharedIndex"]
