"""What the stages of one batch share: the archive's stores, the settings, the report so far."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from arkhiv.catalog import Catalog
from arkhiv.config import Pipeline, Settings
from arkhiv.metadata.ref import Leaf
from arkhiv.metadata.sources import DocumentPlan
from arkhiv.models import BatchReport, DocumentSource, SourcePage
from arkhiv.pipeline.cache import CACHE_DIR
from arkhiv.search import PageIndex

ProgressFn = Callable[[str, dict[str, object]], None]


def no_progress(event: str, info: dict[str, object]) -> None:
    return None


@dataclass
class DocState:
    """A document of this batch while its pages are being done."""

    source: DocumentSource
    doc_id: int
    folder: str  # the document's folder in the archive, e.g. documents/0007-наказ
    remaining: int  # pages not recorded yet
    plan: DocumentPlan  # its resolved metadata and leaves
    changed: bool = False  # a page was (re)done: its PDF must be assembled again
    finished: bool = False
    metadata_sha: str | None = None  # of the metadata and leaves the PDF's XMP must carry

    def leaf(self, page: SourcePage) -> Leaf | None:
        index = page.number - 1
        return self.plan.leaves[index] if index < len(self.plan.leaves) else None


@dataclass(frozen=True)
class DocumentPdf:
    """A finished document's PDF, as document.json records it (both None: it has none)."""

    name: str | None  # the file name in the document's folder
    sha256: str | None


@dataclass
class BatchContext:
    """One running batch: written by the coordinator process alone."""

    archive: Path
    catalog: Catalog
    index: PageIndex
    settings: Settings
    pipeline: Pipeline
    report: BatchReport
    batch_id: int
    progress: ProgressFn = no_progress
    docs: dict[int, DocState] = field(default_factory=dict)
    unfinished: set[int] = field(default_factory=set)  # planned, document PDF not made yet
    complete: list[DocState] = field(default_factory=list)  # every page recorded: finish it
    hashes: dict[Path, str] = field(default_factory=dict)  # sha256 of each source file
    # Pages of documents not yet assembled, by page key: a page's PDF leaves the page cache
    # only when no other document of the batch still needs it (the same scan in two folders).
    key_users: Counter[str] = field(default_factory=Counter)

    @property
    def cache_dir(self) -> Path:
        return self.archive / CACHE_DIR

    def take_complete(self) -> list[DocState]:
        """The documents whose pages are all recorded since the last call."""
        done, self.complete = self.complete, []
        return done
