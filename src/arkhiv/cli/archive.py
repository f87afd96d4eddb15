"""Commands on an archive: search, show, export, check, reindex, doctor."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from arkhiv import api, reports
from arkhiv.cli.common import (
    EXIT_CODES,
    ArchiveOpt,
    ConfigOpt,
    ProgressBar,
    VerboseOpt,
    app,
    err,
    handle_errors,
    out,
    settings_for,
)
from arkhiv.errors import ExitCode, UsageError
from arkhiv.fsutil import atomic_path
from arkhiv.reports import search_json
from arkhiv.search import SearchFilters

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
@handle_errors
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
    settings = settings_for(config, archive)
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
    epilog="Examples:\n\n"
    '  arkhiv show "ф. Р-123, оп. 4, спр. 56" --archive ./archive\n\n'
    '  arkhiv show "ДАЗО. Ф. Р-123. Оп. 4. Спр. 56. Арк. 2"   (that leaf\'s page marked)\n\n'
    "  arkhiv show 12 --json   (by document id)\n\n" + EXIT_CODES
)
@handle_errors
def show(
    ref: Annotated[str, typer.Argument(help="A citation (either form), a document id or name.")],
    archive: ArchiveOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Print a document's metadata and its pages (leaf, status, text file, PDF page)."""
    settings = settings_for(config, archive)
    views = api.find_documents(settings.archive, ref, settings.metadata.citation_style)
    if json_out:
        out.print(reports.documents_json(views), markup=False)
        return
    for view in views:
        for line in reports.document_lines(view):
            out.print(escape(line))


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv export --format csv --out opendata.csv --archive ./archive\n\n"
    "  arkhiv export --format json --per page --out pages.json\n\n"
    "  arkhiv export --format dc-xml > records.xml\n\n" + EXIT_CODES
)
@handle_errors
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
    settings = settings_for(config, archive)
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
    epilog="Examples:\n\n  arkhiv check --archive ./archive\n\n"
    "  arkhiv check --json   (for monitoring: exit 1 and the list when anything differs)\n\n"
    "  arkhiv check --repair   (page texts, damaged PDFs and the index made again)\n\n" + EXIT_CODES
)
@handle_errors
def check(
    archive: ArchiveOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="First make page texts, damaged PDFs and the index again."),
    ] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Re-hash originals and outputs against the sha256 recorded at ingest and check that the
    catalog, the files and the index agree. Exit 1 when anything differs. --repair first
    rewrites page texts from the catalog, rebuilds the index, and marks damaged document PDFs
    to be made anew by the next ingest of their scans."""
    settings = settings_for(config, archive)
    with ProgressBar(not quiet and not json_out and sys.stderr.isatty(), "hashing") as bar:
        result = api.check(settings.archive, progress=bar.update, repair=repair)
    if json_out:
        out.print(reports.check_json(result), markup=False)
    else:
        for line, to_err in reports.check_lines(result):
            (err if to_err else out).print(escape(line))
    if not result.ok:
        raise typer.Exit(int(ExitCode.PARTIAL))


@app.command(epilog="Examples:\n\n  arkhiv reindex --archive ./archive\n\n" + EXIT_CODES)
@handle_errors
def reindex(
    archive: ArchiveOpt = None, config: ConfigOpt = None, verbose: VerboseOpt = False
) -> None:
    """Rebuild the full-text index from the catalog (the index is derived data), atomically:
    searches use the old index until the new one is complete."""
    settings = settings_for(config, archive)
    count = api.reindex(settings.archive)
    out.print(f"indexed {count} page(s) from the catalog")


@app.command(
    epilog="Examples:\n\n  arkhiv doctor\n\n  arkhiv doctor --lang ukr+rus\n\n" + EXIT_CODES
)
@handle_errors
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


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv review --archive ./archive   (the pages whose text may be incomplete)\n\n"
    "  arkhiv review --json\n\n"
    '  arkhiv review --resolve "ДАЗО, ф. Р-123, оп. 4, спр. 56, арк. 7" --note "checked"\n\n'
    "  arkhiv review --resolve 12 --page 3   (document id 12, its page 3)\n\n"
    "A page is flagged when the OCR left much of its ink unread, read it with low confidence\n"
    "or found no text on an inked page. A new scan of the page, ingested again, replaces it.\n\n"
    + EXIT_CODES
)
@handle_errors
def review(
    archive: ArchiveOpt = None,
    resolve: Annotated[
        str | None,
        typer.Option("--resolve", help="Clear the page named (citation with арк., or document)."),
    ] = None,
    page: Annotated[
        int | None, typer.Option("--page", help="With --resolve: the page number.")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="With --resolve: what was checked.")] = "",
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """List the pages that need an archivist's review, with their reasons; or clear one that
    has been checked (--resolve). Exit 1 while any page needs review."""
    settings = settings_for(config, archive)
    style = settings.metadata.citation_style
    if resolve is None:
        if page is not None or note:
            raise UsageError("--page and --note go with --resolve")
        items = api.review(settings.archive, style)
    else:
        items = api.resolve_review(settings.archive, resolve, page=page, note=note, style=style)
    if json_out:
        out.print(reports.review_json(items), markup=False)
    elif resolve is None:
        for line in reports.review_lines(items, str(settings.archive)):
            out.print(escape(line))
    else:
        cleared = ", ".join(f"page {i.page}" for i in items) or "nothing (no review was open)"
        out.print(escape(f"cleared: {cleared}"))
    if resolve is None and items:
        raise typer.Exit(int(ExitCode.PARTIAL))


@app.command(
    epilog="Examples:\n\n"
    "  arkhiv relocate /mnt/old-nas/scans /srv/scans --archive ./archive\n\n"
    "  arkhiv relocate /mnt/old-nas/scans /srv/scans --dry-run   (what would follow)\n\n"
    "Each page's original is looked for under NEW_PREFIX and checked by the sha256 recorded at\n"
    "ingest; a document follows only when all its pages are found unchanged.\n\n" + EXIT_CODES
)
@handle_errors
def relocate(
    old_prefix: Annotated[Path, typer.Argument(help="Where the originals were.")],
    new_prefix: Annotated[Path, typer.Argument(help="Where they are now.")],
    archive: ArchiveOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would follow.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Follow originals moved on disk: the catalog's paths under OLD_PREFIX become NEW_PREFIX,
    checked by hash. Exit 1 when some pages were not found or differ."""
    settings = settings_for(config, archive)
    done = api.relocate(settings.archive, old_prefix, new_prefix, dry_run=dry_run)
    if json_out:
        out.print(json.dumps(asdict(done), ensure_ascii=False, indent=2), markup=False)
    else:
        verb = "would follow" if dry_run else "followed"
        out.print(escape(f"{verb} {done.documents} document(s), {done.pages} page(s)"))
        for path in done.missing:
            err.print(escape(f"NOT FOUND {path}"))
        for path in done.differ:
            err.print(escape(f"DIFFERS {path}: not the content recorded at ingest"))
    if done.missing or done.differ:
        raise typer.Exit(int(ExitCode.PARTIAL))
