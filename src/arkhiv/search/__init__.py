"""The full-text index behind one small interface: write pages, search, rebuild (Whoosh today)."""

from arkhiv.search.index import PageIndex, PageRecord

__all__ = ["PageIndex", "PageRecord"]
