"""OCR stage: planned pages go out to an executor as page jobs; results come back as they finish.

The page cache answers first (a page OCRed by an interrupted run is not OCRed again); a
content seen twice in one batch is OCRed once. Results are written to the page cache here,
by the coordinator, before they are handed on. At most `executor.slots` jobs are out at a
time, so memory stays flat however large the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from arkhiv.fsutil import io_reason
from arkhiv.models import PageJob, PageOcrResult
from arkhiv.pipeline import cache
from arkhiv.pipeline.cache import load_cached
from arkhiv.pipeline.executor import PageExecutor
from arkhiv.pipeline.plan import PlannedPage

Done = tuple[PlannedPage, PageOcrResult]


def ocr_pages(
    pages: Iterable[PlannedPage],
    executor: PageExecutor,
    make_job: Callable[[PlannedPage], PageJob],
    cache_dir: Path,
    *,
    force: bool,
    while_waiting: Callable[[], None],
) -> Iterator[Done]:
    """Each planned page with its OCR result, in the order they finish. `while_waiting` runs
    when the last pages are out and a worker is idle (the engine indexes meanwhile)."""
    waiting: dict[str, list[PlannedPage]] = {}  # page key -> the pages waiting for its job
    for page in pages:
        if page.failure is not None:
            yield page, page.failure
            continue
        if page.key in waiting:  # the same content twice in a batch: OCRed once
            waiting[page.key].append(page)
            continue
        cached = None if force else load_cached(cache_dir, page.key)
        if cached is not None:
            yield page, cached
            continue
        while executor.running() >= executor.slots:
            yield from _finished(executor, waiting, cache_dir)
        executor.submit(make_job(page))
        waiting[page.key] = [page]
    while executor.running():
        if executor.running() < executor.workers:
            while_waiting()
        yield from _finished(executor, waiting, cache_dir)
    executor.close()


def _finished(
    executor: PageExecutor, waiting: dict[str, list[PlannedPage]], cache_dir: Path
) -> Iterator[Done]:
    """Wait for at least one job; cache its result; hand it on for each page waiting for it."""
    for job, result in executor.wait():
        try:
            kept = cache.store(cache_dir, result)
        except OSError as e:  # e.g. a full disk: this page fails now and is done next run
            kept = replace(
                result,
                ok=False,
                pdf=None,
                error=f"cannot write the result: {io_reason(e)}",
                transient=True,
            )
        for page in waiting.pop(job.key, []):
            yield page, kept
