"""What every command shares: the Typer app, consoles, options, error mapping, progress bar."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from arkhiv.config import Pipeline, Settings, load_pipeline, load_settings
from arkhiv.errors import ArkhivError, ExitCode

EXIT_CODES = """Exit codes: 0 success; 1 partial failure (some pages or files failed, the rest is
done); 2 bad arguments or settings; 3 a program or language pack is missing; 4 fatal error;
5 the archive is busy (another arkhiv is writing to it: try again later); 130 interrupted
(run the same command again to resume)."""

app = typer.Typer(
    name="arkhiv",
    help="Scanned archive pages -> searchable PDF/A, a catalog and a full-text index.\n\n"
    + EXIT_CODES,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Settings file (default ./arkhiv.toml).")
]
ArchiveOpt = Annotated[
    Path | None,
    typer.Option("--archive", "-a", help="Archive folder (default from settings: arkhiv-data)."),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log details; tracebacks.")]
LangOpt = Annotated[
    str | None, typer.Option("--lang", "-l", help="Tesseract languages, e.g. ukr+rus+eng.")
]
PipelineOpt = Annotated[
    str | None, typer.Option("--pipeline", "-p", help="Processing profile from pipelines/.")
]
UsersFileArg = Annotated[Path, typer.Argument(help="The users file of `arkhiv serve --auth`.")]
RestrictedOpt = Annotated[
    bool, typer.Option("--restricted/--no-restricted", help="May see restricted documents.")
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", help="Pages in parallel (default: all cores).")
]


def handle_errors(fn: F) -> F:
    """Map arkhiv's errors to a message and an exit code; a traceback only with -v."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verbose = bool(kwargs.get("verbose"))
        logging.basicConfig(
            level=logging.DEBUG if verbose else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
        for noisy in ("ocrmypdf", "fontTools", "PIL", "pdfminer"):
            logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.ERROR)
        try:
            return fn(*args, **kwargs)
        except ArkhivError as e:
            if verbose:
                err.print_exception()
            err.print(f"arkhiv: error: {escape(e.message)}")
            if e.hint:
                err.print(f"  {escape(e.hint)}")
            raise typer.Exit(int(e.exit_code)) from e
        except KeyboardInterrupt:
            err.print("arkhiv: interrupted; run the same command again to resume")
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except sqlite3.DatabaseError as e:  # a damaged catalog met while reading or writing it
            if verbose:
                err.print_exception()
            err.print(f"arkhiv: error: the catalog is damaged or unreadable ({escape(str(e))})")
            err.print(
                "  `arkhiv check` names the damage; restore catalog.sqlite from a backup and "
                "run the same command again"
            )
            raise typer.Exit(int(ExitCode.FATAL)) from e
        except BrokenPipeError:  # `arkhiv export | head`: the reader has gone, not an error
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as e:  # a bug, not a user error: still no traceback unless -v
            if verbose:
                err.print_exception()
            err.print(f"arkhiv: internal error: {type(e).__name__}: {escape(str(e))}")
            err.print("  run the command again with -v for details, and please report it")
            raise typer.Exit(int(ExitCode.FATAL)) from e

    return wrapper  # type: ignore[return-value]


def settings_for(config: Path | None, archive: Path | None, **ingest: Any) -> Settings:
    overrides: dict[str, dict[str, Any]] = {"": {}, "ingest": {}}
    if archive is not None:
        overrides[""]["archive"] = archive
    overrides["ingest"] = {k: v for k, v in ingest.items() if v is not None}
    return load_settings(config, overrides=overrides)


def pipeline_for(settings: Settings, lang: str | None) -> Pipeline:
    """The processing profile named in the settings, with --lang applied."""
    return load_pipeline(
        settings.ingest.pipeline, settings, {"ocr": {"languages": lang} if lang else {}}
    )


class ProgressBar:
    """A rich progress bar fed by api.ingest's progress events."""

    def __init__(self, enabled: bool, label: str = "OCR") -> None:
        self.enabled = enabled
        self.label = label
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} pages/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
            disable=not enabled,
        )
        self.task: Any = None

    def __enter__(self) -> ProgressBar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def update(self, event: str, info: dict[str, object]) -> None:
        if not self.enabled:
            return
        if event == "start":
            self.task = self.progress.add_task(
                self.label, total=float(str(info["pages"])), rate="-"
            )
        elif event == "page" and self.task is not None:
            self.progress.advance(self.task)
            speed = self.progress.tasks[0].speed
            self.progress.update(self.task, rate=f"{speed:.2f}" if speed else "-")


@contextlib.contextmanager
def stop_on_signals(
    signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM),
) -> Iterator[threading.Event]:
    """The first of `signals` (Ctrl-C, SIGTERM) sets an event: the pages in progress finish and
    are recorded, then the command ends (exit 130). When Ctrl-C is among them, a second Ctrl-C
    stops at once: the pages in progress are dropped (never recorded half) and the same command
    resumes later."""
    stop = threading.Event()
    again = "; Ctrl-C again to stop at once" if signal.SIGINT in signals else ""

    def handler(signum: int, frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        err.print(f"arkhiv: stopping after the pages in progress ({name}{again})")
        stop.set()

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
