"""Where page jobs run: the executor seam between the batch engine and its OCR workers.

The engine submits page jobs (`models.PageJob`) and takes their results as they complete;
it alone writes the cache, the catalog, the PDFs and the index. An executor only runs jobs.
`LocalProcessExecutor` (spawned processes on this machine) is the one implementation today;
a cluster client implements the same few methods.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from types import TracebackType
from typing import Protocol

from arkhiv.errors import MissingDependencyError
from arkhiv.models import PageJob, PageOcrResult
from arkhiv.pipeline.page import run_page_job, worker_init

Finished = list[tuple[PageJob, PageOcrResult]]


def failed(job: PageJob, reason: str, transient: bool = False) -> PageOcrResult:
    """The result of a job that did not come back (its worker died, the call failed)."""
    return PageOcrResult(page_key=job.key, ok=False, error=reason, transient=transient)


class PageExecutor(Protocol):
    """Runs page jobs somewhere and hands back their results as they complete."""

    workers: int  # jobs that run at the same time
    slots: int  # jobs worth keeping submitted so that no worker waits

    def submit(self, job: PageJob) -> None:
        """Start a job (returns at once)."""

    def running(self) -> int:
        """Jobs submitted whose result has not been handed back yet."""

    def wait(self) -> Finished:
        """Block until at least one job is finished; its job and result (failures included).
        Raises MissingDependencyError, which stops the batch. [] when nothing is running."""

    def close(self) -> None:
        """No more jobs will come: workers may start to exit while the caller finishes up."""

    def __enter__(self) -> PageExecutor: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the workers (jobs not started are cancelled) and wait for them to exit."""


class LocalProcessExecutor:
    """Page jobs in spawned worker processes of this machine, one Tesseract thread each."""

    def __init__(self, workers: int, work_root: Path) -> None:
        self.workers = workers
        self.slots = 2 * workers
        # OCRmyPDF's and Tesseract's temporary files go under `work_root` (the archive's
        # batch folder, removed at the next start), not the system's temp folder.
        self.work_root = Path(tempfile.mkdtemp(prefix="batch-", dir=work_root))
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=get_context("spawn"),
            initializer=worker_init,
            initargs=(str(self.work_root),),
        )
        self._running: dict[Future[PageOcrResult], PageJob] = {}
        self._closing: threading.Thread | None = None

    def submit(self, job: PageJob) -> None:
        self._running[self._pool.submit(run_page_job, job)] = job

    def running(self) -> int:
        return len(self._running)

    def wait(self) -> Finished:
        if not self._running:
            return []
        done, _ = wait(list(self._running), return_when=FIRST_COMPLETED)
        finished: Finished = []
        for future in done:
            job = self._running.pop(future)
            try:
                result = future.result()
            except MissingDependencyError:
                raise
            except BrokenProcessPool as e:
                result = failed(job, f"the OCR worker process died ({e})", transient=True)
            except Exception as e:
                result = failed(job, f"OCR failed on this page ({type(e).__name__}: {e})")
            finished.append((job, result))
        return finished

    def close(self) -> None:
        # The workers exit (~0.5 s) while the caller indexes the last pages. A thread waits
        # for them, so that they are reaped (and their CPU time counted) before the batch
        # ends; shutdown(wait=False) would leave that to nobody.
        if self._closing is None:
            self._closing = threading.Thread(target=self._pool.shutdown, name="arkhiv-workers-exit")
            self._closing.start()

    def __enter__(self) -> LocalProcessExecutor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if kind is KeyboardInterrupt:  # a second Ctrl-C: stop now, drop pages in progress
                self._kill_workers()
            elif self._closing is not None:
                self._closing.join()
            else:
                self._pool.shutdown(wait=True, cancel_futures=True)
        finally:
            shutil.rmtree(self.work_root, ignore_errors=True)

    def _kill_workers(self) -> None:
        """Workers ignore SIGINT and SIGTERM (the coordinator decides when to stop): SIGKILL.
        Nothing is half-written: the coordinator alone writes results, atomically."""
        processes = list(getattr(self._pool, "_processes", {}).values())  # CPython's pool
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.kill()
        for process in processes:
            process.join(timeout=5)
