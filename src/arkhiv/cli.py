"""Command line: flags -> settings -> one api call -> rendering. No logic of its own."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
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

from arkhiv import api
from arkhiv.config import Pipeline, Settings, load_pipeline, load_settings
from arkhiv.errors import ArkhivError, ExitCode, UsageError
from arkhiv.fsutil import atomic_path, atomic_write_text
from arkhiv.metadata.fields import KEYS
from arkhiv.metadata.sources import MetadataRequest, parse_sets
from arkhiv.reports import report_json, search_json, summary_lines
from arkhiv.search import SearchFilters

EXIT_CODES = """Exit codes: 0 success; 1 partial failure (some pages or files failed, the rest is
done); 2 bad arguments or settings; 3 a program or language pack is missing; 4 fatal error."""

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


def _handle_errors(fn: F) -> F:
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


def _settings(config: Path | None, archive: Path | None, **ingest: Any) -> Settings:
    overrides: dict[str, dict[str, Any]] = {"": {}, "ingest": {}}
    if archive is not None:
        overrides[""]["archive"] = archive
    overrides["ingest"] = {k: v for k, v in ingest.items() if v is not None}
    return load_settings(config, overrides=overrides)


def _pipeline(settings: Settings, lang: str | None) -> Pipeline:
    """The processing profile named in the settings, with --lang applied."""
    return load_pipeline(
        settings.ingest.pipeline, settings, {"ocr": {"languages": lang} if lang else {}}
    )


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv ingest scans/ --archive ./archive\n\n"
    "  arkhiv ingest scans/ --lang ukr+rus+eng --pipeline typewritten --jobs 2\n\n"
    "  arkhiv ingest scans/ --report batch.json --quiet\n\n"
    '  arkhiv ingest scans/ --layout "{archive}/{fond}/{opys}/{sprava}" --check\n\n'
    '  arkhiv ingest scans/ --manifest opys4.csv --set "date=1930-1935" --sides recto-verso\n\n'
    "Metadata, later wins: --layout < arkhiv.yaml sidecars (inherited by subfolders) <\n"
    "--manifest rows < --set. Keys: " + ", ".join(KEYS) + ".\n\n" + EXIT_CODES
)
@_handle_errors
def ingest(
    source: Annotated[Path, typer.Argument(help="Folder of scans (or one file) to ingest.")],
    archive: ArchiveOpt = None,
    lang: LangOpt = None,
    pipeline: PipelineOpt = None,
    jobs: JobsOpt = None,
    dpi: Annotated[
        int | None, typer.Option("--dpi", help="DPI assumed for images that record none.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="OCR again pages already done.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the per-page report as JSON here.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    layout: Annotated[
        str | None,
        typer.Option("--layout", help='Path template, e.g. "{archive}/{fond}/{opys}/{sprava}".'),
    ] = None,
    manifest: Annotated[
        Path | None, typer.Option("--manifest", help="CSV, one row per document (column path).")
    ] = None,
    set_values: Annotated[
        list[str] | None,
        typer.Option("--set", help="key=value for every document (repeatable)."),
    ] = None,
    sides: Annotated[
        str | None, typer.Option("--sides", help="recto | recto-verso | filenames (leaves).")
    ] = None,
    check_only: Annotated[
        bool, typer.Option("--check", help="Validate files and metadata only: no OCR, no writes.")
    ] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """OCR a batch of scans into the archive: PDF/A and text per document, catalog, index.

    Each folder of images is one document (pages in natural order: 2.tif before 10.tif); each
    PDF and each multi-page TIFF is a document of its own. Running it again is safe: pages
    already done are skipped and an interrupted batch is completed.
    """
    settings = _settings(config, archive, jobs=jobs, default_dpi=dpi, pipeline=pipeline)
    request = MetadataRequest(
        layout=settings.metadata.layout if layout is None else layout,
        manifest=manifest,
        sets=parse_sets(set_values or []),
        sides=sides,
    )
    if check_only:
        _render_batch_check(api.check_batch(source, settings, request), settings, json_out)
        return
    pipe = _pipeline(settings, lang)
    show_bar = not quiet and not json_out and sys.stderr.isatty()
    with _ProgressBar(show_bar) as bar, _stop_on_sigterm() as stop:
        result = api.ingest(
            source,
            settings,
            pipe,
            force=force,
            progress=bar.update,
            stop=stop.is_set,
            metadata=request,
        )
    if report is not None:
        atomic_write_text(report, report_json(result) + "\n")
    if json_out:
        out.print(report_json(result), markup=False, soft_wrap=True)
    else:
        for line in summary_lines(result):
            (err if line.startswith("FAILED") else out).print(escape(line))
    if result.interrupted:
        err.print("arkhiv: stopped before the end; run the same command again to finish")
        raise typer.Exit(int(ExitCode.PARTIAL))
    if result.failed:
        raise typer.Exit(int(ExitCode.PARTIAL))


def _render_batch_check(result: api.BatchCheck, settings: Settings, json_out: bool) -> None:
    style = settings.metadata.citation_style
    if json_out:
        data = {
            "ok": result.ok,
            "documents": [
                {
                    "path": str(d.source.path),
                    "pages": len(d.source.pages),
                    "ok": d.plan.ok,
                    "citation": d.plan.metadata.citation(style) if d.plan.metadata else None,
                    "metadata": d.plan.metadata.to_json() if d.plan.metadata else None,
                    "leaves": [str(leaf) for leaf in d.plan.leaves],
                    "errors": list(d.plan.errors),
                    "warnings": list(d.plan.warnings),
                }
                for d in result.documents
            ],
            "problems": [{"file": f, "reason": r} for f, r in result.problems],
        }
        out.print(json.dumps(data, ensure_ascii=False, indent=2), markup=False)
    else:
        for d in result.documents:
            meta = d.plan.metadata
            what = (meta.citation(style) if meta else "") or "(no reference)"
            leaves = d.plan.leaves
            span = f", арк. {leaves[0]}" if leaves else ""
            span += f"–{leaves[-1]}" if len(leaves) > 1 else ""
            mark = "ok     " if d.plan.ok else "INVALID"
            out.print(
                escape(f"{mark} {d.source.path}: {what}; {len(d.source.pages)} page(s){span}")
            )
            for e in d.plan.errors:
                err.print(escape(f"  error: {e}"))
            for w in d.plan.warnings:
                out.print(escape(f"  note: {w}"))
        for file, reason in result.problems:
            err.print(escape(f"FAILED {file}: {reason}"))
        bad = sum(not d.plan.ok for d in result.documents) + len(result.problems)
        out.print(
            f"{len(result.documents)} document(s) checked, "
            + (f"{bad} problem(s); nothing was ingested" if bad else "all valid; nothing ingested")
        )
    if not result.ok:
        raise typer.Exit(int(ExitCode.PARTIAL))


class _ProgressBar:
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

    def __enter__(self) -> _ProgressBar:
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


_MARK = re.compile(r"\[\[(.+?)\]\]")


@app.command(
    epilog="Examples:\n\n"
    '  arkhiv search "архівні дані" --archive ./archive\n\n'
    "  arkhiv search '\"наказ по особовому складу\"' --limit 20   (a phrase)\n\n"
    "  arkhiv search Ужгород --json\n\n"
    "  arkhiv search наказ --fond Р-123 --opys 4 --from 1930 --to 1939\n\n"
    '  arkhiv search "fond:Р-123 AND наказ"   (fields: repository fond opys sprava title)\n\n'
    + EXIT_CODES
)
@_handle_errors
def search(
    query: Annotated[str, typer.Argument(help="Words in any grammatical form; quote a phrase.")],
    archive: ArchiveOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="Hits to show.")] = None,
    repository: Annotated[
        str | None, typer.Option("--repository", help="Archive code, e.g. ДАЗО.")
    ] = None,
    fond: Annotated[str | None, typer.Option("--fond", help="Фонд, e.g. Р-123.")] = None,
    opys: Annotated[str | None, typer.Option("--opys", help="Опис, e.g. 4.")] = None,
    sprava: Annotated[str | None, typer.Option("--sprava", help="Справа, e.g. 56.")] = None,
    year_from: Annotated[
        int | None, typer.Option("--from", help="Documents dated in or after this year.")
    ] = None,
    year_to: Annotated[
        int | None, typer.Option("--to", help="Documents dated in or before this year.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the hits as JSON.")] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Find pages by words in any form (рік finds року); prints the citation with the leaf
    (арк.), the document, its page and a snippet."""
    settings = _settings(config, archive)
    filters = SearchFilters(repository, fond, opys, sprava, year_from, year_to)
    result = api.search(
        settings.archive,
        query,
        limit=limit or settings.search.limit,
        filters=filters,
        style=settings.metadata.citation_style,
    )
    if json_out:
        out.print(search_json(result), markup=False, soft_wrap=True)
        return
    if result.indexed_pages == 0:
        out.print(f"The archive {escape(str(settings.archive))} has no searchable pages yet.")
        return
    if not result.hits:
        out.print(f"No pages found for {escape(query)}.")
        return
    out.print(f"{result.total} page(s) found for {escape(query)}; best {len(result.hits)}:")
    for i, hit in enumerate(result.hits, start=1):
        # In a terminal the hit words are shown in colour; in a pipe they keep their [[marks]].
        snippet = (
            _MARK.sub(lambda m: f"[bold yellow]{escape(m.group(1))}[/]", escape(hit.snippet))
            if out.is_terminal
            else escape(hit.snippet)
        )
        where = f"{hit.pdf_path}#page={hit.pdf_page}" if hit.pdf_path and hit.pdf_page else ""
        head = f"{hit.citation} — " if hit.citation else ""
        title = f" «{hit.title}»" if hit.title else ""
        out.print(
            f"{i}. [bold]{escape(head + hit.document)}[/]{escape(title)}, page {hit.page}"
            f"  (score {hit.score:.2f})  {escape(where)}"
        )
        out.print(f"   {snippet}")


@app.command(
    epilog="Examples:\n\n  arkhiv doctor\n\n  arkhiv doctor --lang ukr+rus\n\n" + EXIT_CODES
)
@_handle_errors
def doctor(
    lang: Annotated[str, typer.Option("--lang", "-l", help="Languages to check.")] = "ukr+rus+eng",
    json_out: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Check the programs and language packs arkhiv needs and say how to install what is missing."""
    from dataclasses import asdict

    checks = api.doctor([x for x in re.split(r"[+,]", lang) if x])
    if json_out:
        out.print(json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=2))
    else:
        for c in checks:
            mark = "ok     " if c.ok else ("MISSING" if c.required else "missing")
            line = f"{mark} {c.name}: {c.detail}" + ("" if c.ok else f"  -> {c.hint}")
            out.print(escape(line))
    if any(c.required and not c.ok for c in checks):
        raise typer.Exit(int(ExitCode.MISSING_DEPENDENCY))


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[threading.Event]:
    """SIGTERM (systemd, kill) sets an event: the work in progress finishes, then we exit."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        err.print("arkhiv: stopping after the pages in progress (SIGTERM)")
        stop.set()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv watch /srv/scans/inbox --archive /srv/arkhiv   (runs until stopped)\n\n"
    "  arkhiv watch /srv/scans/inbox --once   (one pass: cron or a systemd timer)\n\n"
    "  arkhiv watch /mnt/share/inbox --poll --json-log   (network share; JSON lines)\n\n"
    "Files are taken once unchanged for [watch] quiet_seconds (and, if [watch] marker is set,\n"
    "folders once the marker file is in them); then moved to processed/ (failures to failed/\n"
    "with NAME.error.txt), never overwritten or deleted.\n\n" + EXIT_CODES
)
@_handle_errors
def watch(
    inbox: Annotated[Path, typer.Argument(help="The inbox folder scanners drop files into.")],
    archive: ArchiveOpt = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit (for cron).")] = False,
    poll: Annotated[
        bool, typer.Option("--poll", help="Poll instead of OS events (network shares).")
    ] = False,
    lang: LangOpt = None,
    pipeline: PipelineOpt = None,
    jobs: JobsOpt = None,
    json_log: Annotated[
        bool, typer.Option("--json-log", help="One JSON object per event on stdout.")
    ] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Watch an inbox folder and ingest complete files and folders as they arrive."""
    settings = _settings(config, archive, jobs=jobs, pipeline=pipeline)
    pipe = _pipeline(settings, lang)

    def log_event(kind: str, info: dict[str, object]) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        if json_log:
            out.print(
                json.dumps({"time": stamp, "event": kind, **info}, ensure_ascii=False), markup=False
            )
            return
        what = f"{info.get('file', '')}" + (f" -> {info['to']}" if "to" in info else "")
        extra = ", ".join(f"{k}={v}" for k, v in info.items() if k not in ("file", "to"))
        out.print(escape(f"{stamp} {kind:<9} {what}" + (f" ({extra})" if extra else "")))

    with _stop_on_sigterm() as stop:
        summary = api.watch(
            inbox, settings, pipe, once=once, poll=poll, on_event=log_event, stop=stop
        )
    if summary.failed:
        raise typer.Exit(int(ExitCode.PARTIAL))


@app.command(
    epilog="Examples:\n\n  arkhiv check --archive ./archive\n\n"
    "  arkhiv check --json   (for monitoring: exit 1 and the list when anything differs)\n\n"
    + EXIT_CODES
)
@_handle_errors
def check(
    archive: ArchiveOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Re-hash originals and outputs against the sha256 recorded at ingest and check that the
    catalog, the files and the index agree. Exit 1 when anything differs."""
    from dataclasses import asdict

    settings = _settings(config, archive)
    with _ProgressBar(not quiet and not json_out and sys.stderr.isatty(), "hashing") as bar:
        result = api.check(settings.archive, progress=bar.update)
    if json_out:
        data = {**asdict(result), "ok": result.ok}
        out.print(json.dumps(data, ensure_ascii=False, indent=2), markup=False)
    else:
        out.print(
            f"checked {result.originals} original(s), {result.documents} document(s), "
            f"{result.text_files} text file(s), {result.indexed_pages} indexed page(s)"
        )
        for p in result.problems:
            err.print(escape(f"DIFFERS {p.kind}: {p.path}: {p.detail}"))
        out.print("all as recorded" if result.ok else f"{len(result.problems)} difference(s)")
    if not result.ok:
        raise typer.Exit(int(ExitCode.PARTIAL))


@app.command(epilog="Examples:\n\n  arkhiv reindex --archive ./archive\n\n" + EXIT_CODES)
@_handle_errors
def reindex(
    archive: ArchiveOpt = None, config: ConfigOpt = None, verbose: VerboseOpt = False
) -> None:
    """Rebuild the full-text index from the catalog (the index is derived data), atomically:
    searches use the old index until the new one is complete."""
    settings = _settings(config, archive)
    count = api.reindex(settings.archive)
    out.print(f"indexed {count} page(s) from the catalog")


@app.command(
    epilog="Examples:\n\n"
    '  arkhiv show "ф. Р-123, оп. 4, спр. 56" --archive ./archive\n\n'
    '  arkhiv show "ДАЗО. Ф. Р-123. Оп. 4. Спр. 56. Арк. 2"   (that leaf\'s page marked)\n\n'
    "  arkhiv show 12 --json   (by document id)\n\n" + EXIT_CODES
)
@_handle_errors
def show(
    ref: Annotated[str, typer.Argument(help="A citation (either form), a document id or name.")],
    archive: ArchiveOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Print a document's metadata and its pages (leaf, status, text file, PDF page)."""
    from dataclasses import asdict

    settings = _settings(config, archive)
    style = settings.metadata.citation_style
    views = api.find_documents(settings.archive, ref, style)
    if json_out:
        data = [
            {
                **asdict(v),
                "leaf": str(v.leaf) if v.leaf else None,
                "pages": [
                    {
                        k: getattr(p, k)
                        for k in (
                            "number",
                            "arkush",
                            "verso",
                            "status",
                            "error",
                            "confidence",
                            "text_path",
                            "pdf_page",
                            "source_path",
                        )
                    }
                    for p in v.pages
                ],
            }
            for v in views
        ]
        out.print(json.dumps(data, ensure_ascii=False, indent=2), markup=False)
        return
    for v in views:
        out.print(escape(f"[{v.id}] {v.citation or v.name}"))
        meta = v.metadata
        date = meta.get("date") or {}
        rows = [
            ("title", meta.get("title")),
            ("date", date.get("text") if isinstance(date, dict) else None),
            ("creator", "; ".join(meta.get("creator") or [])),
            ("language", "; ".join(meta.get("language") or [])),
            ("subject", "; ".join(meta.get("subject") or [])),
            ("description", meta.get("description")),
            ("access", meta.get("access")),
            ("rights", meta.get("rights")),
            ("notes", meta.get("notes")),
            ("leaves", meta.get("leaves")),
            ("status", v.status),
            ("source", v.source),
            ("pdf", v.pdf_path),
        ]
        for key, value in rows:
            if value:
                out.print(escape(f"  {key:<12} {value}"))
        for p in v.pages:
            leaf = f"арк. {p.arkush}{' зв.' if p.verso else ''}" if p.arkush else "-"
            mark = (
                ">"
                if v.leaf and p.arkush == v.leaf.number and bool(p.verso) == v.leaf.verso
                else " "
            )
            detail = p.text_path or p.error or ""
            out.print(escape(f" {mark}page {p.number:>4}  {leaf:<12} {p.status:<8} {detail}"))


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv export --format csv --out opendata.csv --archive ./archive\n\n"
    "  arkhiv export --format json --per page --out pages.json\n\n"
    "  arkhiv export --format dc-xml > records.xml\n\n" + EXIT_CODES
)
@_handle_errors
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv | json | dc-xml.")] = "csv",
    per: Annotated[str, typer.Option("--per", help="document | page (with its text).")] = (
        "document"
    ),
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (atomically); default stdout.")
    ] = None,
    include_restricted: Annotated[
        bool, typer.Option("--include-restricted", help="Also documents marked restricted.")
    ] = False,
    archive: ArchiveOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Export the catalog as an open dataset: UTF-8 CSV with a header, JSON, or Dublin Core
    XML (oai_dc), one record per document or per page. Restricted documents are left out
    unless --include-restricted."""
    if fmt not in ("csv", "json", "dc-xml"):
        raise UsageError(f"--format {fmt!r}: expected csv, json or dc-xml")
    if per not in ("document", "page"):
        raise UsageError(f"--per {per!r}: expected document or page")
    settings = _settings(config, archive)
    chunks = api.export(
        settings.archive,
        fmt,
        per=per,
        style=settings.metadata.citation_style,
        include_restricted=include_restricted,
    )
    if out_file is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    with atomic_path(out_file) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        for chunk in chunks:
            f.write(chunk)
    err.print(escape(f"wrote {out_file}"))


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv serve --archive ./archive   (http://127.0.0.1:8080, this computer only)\n\n"
    "  arkhiv serve --archive ./archive --host 0.0.0.0 --port 8080 --auth users.toml\n\n"
    "Read-only. Documents marked access: restricted are shown only to users of --auth whose\n"
    "entry allows it (see `arkhiv passwd`). The JSON API is under /api/ (OpenAPI:\n"
    "/api/openapi.json).\n\n" + EXIT_CODES
)
@_handle_errors
def serve(
    archive: ArchiveOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; 0.0.0.0 for the whole network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8080,
    auth_file: Annotated[
        Path | None,
        typer.Option("--auth", help="Users file (arkhiv passwd) for restricted documents."),
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Serve the search page for clerks on the local network (Ukrainian, with an English switch)."""
    import uvicorn

    from arkhiv.web.app import create_app
    from arkhiv.web.auth import UsersFile

    settings = _settings(config, archive)
    users = UsersFile.load(auth_file) if auth_file is not None else None
    web = create_app(settings.archive, users=users, style=settings.metadata.citation_style)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    err.print(
        escape(f"arkhiv: serving {settings.archive} on http://{shown}:{port}/ (Ctrl-C stops)")
    )
    if host not in ("127.0.0.1", "::1", "localhost") and users is None:
        err.print("  note: open to the network without --auth; restricted documents stay hidden")
    uvicorn.run(web, host=host, port=port, log_level="info" if verbose else "warning")


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv passwd users.toml olena --restricted   (asks for the password twice)\n\n"
    "  arkhiv passwd users.toml olena --remove\n\n" + EXIT_CODES
)
@_handle_errors
def passwd(
    users_file: UsersFileArg,
    name: Annotated[str, typer.Argument(help="User name.")],
    restricted: RestrictedOpt = False,
    remove: Annotated[bool, typer.Option("--remove", help="Remove this user.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Add a user to the users file, change a password, or remove a user (stored hashed)."""
    from arkhiv.web import auth

    if remove:
        if not auth.remove(users_file, name):
            raise UsageError(f"{users_file}: no user or token named {name!r}")
        out.print(escape(f"removed {name}"))
        return
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        auth.set_password(users_file, name, password, restricted)
    except ValueError as e:
        raise UsageError(str(e)) from e
    out.print(
        escape(
            f"{users_file}: {name} saved"
            + (" (may see restricted documents)" if restricted else "")
        )
    )


@app.command(
    epilog="Examples:\n\n  arkhiv token users.toml reading-room --restricted\n\n"
    '  curl -H "Authorization: Bearer TOKEN" http://host:8080/api/search?q=наказ\n\n' + EXIT_CODES
)
@_handle_errors
def token(
    users_file: UsersFileArg,
    name: Annotated[str, typer.Argument(help="A name for the token (who or what uses it).")],
    restricted: RestrictedOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Make an API token for scripts; it is printed once and stored only as its hash."""
    from arkhiv.web import auth

    try:
        value = auth.new_token(users_file, name, restricted)
    except ValueError as e:
        raise UsageError(str(e)) from e
    out.print(value, markup=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
