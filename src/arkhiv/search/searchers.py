"""An archive's index opened for reading by many threads (a web server's workers)."""

from __future__ import annotations

import contextlib
import pickle
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoosh.filedb.filetables import FileFormatError

from arkhiv.errors import ArkhivError, SearchIndexError
from arkhiv.search.generations import current_generation
from arkhiv.search.index import PageIndex, SearchFilters, SearchPage


class SharedIndex:
    """The archive's current index, read by many threads. Each thread keeps its own Whoosh
    searcher, renewed when the index gets new commits; the index is reopened when a rebuild
    (`arkhiv reindex`) switches `archive/index` to a new generation."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self._local = threading.local()
        self._lock = threading.Lock()
        self._index: PageIndex | None = None
        self._generation = ""
        self._current()  # a clear message now when the index is missing or damaged

    def _current(self) -> PageIndex:
        """The current index generation (reopened after a rebuild)."""
        generation = current_generation(self.archive)
        with self._lock:
            if self._index is None or generation != self._generation:
                self._index = PageIndex.open(self.archive, create=False)
                self._generation = generation
            return self._index

    def _searcher(self, index: PageIndex) -> Any:
        """This thread's searcher of `index`, up to date with its last commit."""
        local = self._local
        if getattr(local, "index", None) is not index:
            if getattr(local, "searcher", None) is not None:
                local.searcher.close()
            local.searcher = index.searcher()
            local.index = index
        elif not local.searcher.up_to_date():
            # A new searcher, not refresh(): refreshing the searcher of an empty index fails
            # in Whoosh 2.7.5 (its EmptyReader has no segments).
            local.searcher.close()
            local.searcher = index.searcher()
        return local.searcher

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        page: int = 1,
        filters: SearchFilters | None = None,
        fuzzy: bool = False,
        include_restricted: bool = True,
    ) -> SearchPage:
        """One page of hits of `query` (PageIndex.search); an index written by an older
        arkhiv is refused with the command that rebuilds it."""
        index = self._current()
        if not index.is_current():
            raise SearchIndexError(
                f"{index.path}: the search index is from an older arkhiv",
                hint="rebuild it once: arkhiv reindex --archive " + str(self.archive),
            )
        with _damage_named(index.path, self.archive):
            return index.search(
                query,
                limit=limit,
                filters=filters,
                page=page,
                fuzzy=fuzzy,
                include_restricted=include_restricted,
                searcher=self._searcher(index),
            )

    def highlight_document(
        self, query: str, document_id: int, *, fuzzy: bool = False
    ) -> dict[int, str]:
        """Page number -> the page's text with the query's hits marked [[...]]."""
        index = self._current()
        with _damage_named(index.path, self.archive):
            return index.highlight_document(
                query, document_id, fuzzy=fuzzy, searcher=self._searcher(index)
            )


@contextlib.contextmanager
def _damage_named(path: Path, archive: Path) -> Iterator[None]:
    """Whoosh failing inside its own files (a flipped byte: "Block tag error", a deleted
    segment: FileNotFoundError) as a message that says how to repair it."""
    try:
        yield
    except ArkhivError:
        raise
    except Exception as e:
        damaged = (
            OSError, ValueError, KeyError, EOFError, struct.error, zlib.error, FileFormatError
        )  # fmt: skip
        # Whoosh's W3 codec raises a bare Exception for a block it cannot read.
        if not isinstance(e, (*damaged, pickle.UnpicklingError)) and "Block tag" not in str(e):
            raise
        raise SearchIndexError(
            f"{path}: the search index is damaged ({type(e).__name__}: {e})",
            hint="rebuild it from the catalog: arkhiv reindex --archive " + str(archive),
        ) from e
