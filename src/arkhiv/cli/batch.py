"""`arkhiv ingest` and `arkhiv watch`: scans into the archive."""

from __future__ import annotations

import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from arkhiv import api, reports
from arkhiv.cli.common import (
    EXIT_CODES,
    ArchiveOpt,
    ConfigOpt,
    JobsOpt,
    LangOpt,
    PipelineOpt,
    ProgressBar,
    VerboseOpt,
    app,
    err,
    handle_errors,
    out,
    pipeline_for,
    settings_for,
    stop_on_signals,
)
from arkhiv.config import Settings
from arkhiv.errors import ExitCode
from arkhiv.fsutil import atomic_write_text
from arkhiv.metadata.fields import KEYS
from arkhiv.metadata.sources import MetadataRequest, parse_sets
from arkhiv.reports import report_json, summary_lines


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
@handle_errors
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
    settings = settings_for(config, archive, jobs=jobs, default_dpi=dpi, pipeline=pipeline)
    request = MetadataRequest(
        layout=settings.metadata.layout if layout is None else layout,
        manifest=manifest,
        sets=parse_sets(set_values or []),
        sides=sides,
    )
    pipe = pipeline_for(settings, lang)  # a bad profile or language: refused by --check too
    if check_only:
        checked = api.check_batch(source, settings, request, pipeline=pipe)
        _render_batch_check(checked, settings, json_out)
        return
    show_bar = not quiet and not json_out and sys.stderr.isatty()
    with ProgressBar(show_bar) as bar, stop_on_signals() as stop:
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
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    if result.failed:
        raise typer.Exit(int(ExitCode.PARTIAL))


def _render_batch_check(result: api.BatchCheck, settings: Settings, json_out: bool) -> None:
    style = settings.metadata.citation_style
    if json_out:
        out.print(reports.batch_check_json(result, style), markup=False)
    else:
        for line, to_err in reports.batch_check_lines(result, style):
            (err if to_err else out).print(escape(line))
    if not result.ok:
        raise typer.Exit(int(ExitCode.PARTIAL))


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv watch /srv/scans/inbox --archive /srv/arkhiv   (runs until stopped)\n\n"
    "  arkhiv watch /srv/scans/inbox --once   (one pass: cron or a systemd timer)\n\n"
    "  arkhiv watch /mnt/share/inbox --poll --json-log   (network share; JSON lines)\n\n"
    "Files are taken once unchanged for [watch] quiet_seconds (and, if [watch] marker is set,\n"
    "folders once the marker file is in them); then moved to processed/ (failures to failed/\n"
    "with NAME.error.txt), never overwritten or deleted.\n\n" + EXIT_CODES
)
@handle_errors
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
    settings = settings_for(config, archive, jobs=jobs, pipeline=pipeline)
    pipe = pipeline_for(settings, lang)

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

    with stop_on_signals((signal.SIGTERM,)) as stop:  # Ctrl-C stops a watch at once
        summary = api.watch(
            inbox, settings, pipe, once=once, poll=poll, on_event=log_event, stop=stop
        )
    if summary.failed:
        raise typer.Exit(int(ExitCode.PARTIAL))
