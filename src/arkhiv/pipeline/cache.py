"""The page cache: each OCRed page's PDF, text and result record, named by its page key.

Written by the coordinator alone (workers send their results back), each file atomically and
the result record last, so a killed run never leaves a half-written entry and a restart reuses
every finished page. A page's PDF leaves the cache once its document's PDF holds it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from arkhiv.catalog import Catalog
from arkhiv.fsutil import atomic_path, atomic_write_text
from arkhiv.models import PageOcrResult

CACHE_DIR = "cache/pages"  # inside the archive folder


def cache_paths(cache_dir: Path, page_key: str) -> tuple[Path, Path, Path]:
    """The page's searchable PDF, text and result record in the page cache."""
    folder = cache_dir / page_key[:2]
    return folder / f"{page_key}.pdf", folder / f"{page_key}.txt", folder / f"{page_key}.json"


def alto_path(cache_dir: Path, page_key: str) -> Path:
    """The page's words with their boxes (ALTO 4) in the page cache."""
    return cache_dir / page_key[:2] / f"{page_key}.alto.xml"


def load_cached(cache_dir: Path, page_key: str) -> PageOcrResult | None:
    """A finished result of an earlier run (the .json is written last), or None."""
    pdf, txt, meta = cache_paths(cache_dir, page_key)
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        if not (data.get("ok") and pdf.is_file()):
            return None
        data["text"] = txt.read_text(encoding="utf-8")
        alto = alto_path(cache_dir, page_key)
        data["alto"] = alto.read_text(encoding="utf-8") if alto.is_file() else None
        data["review"] = tuple(data.get("review") or ())
        return PageOcrResult(**data)
    except (OSError, ValueError, TypeError):
        return None


def store(cache_dir: Path, result: PageOcrResult) -> PageOcrResult:
    """Write a successful result into the cache (PDF, text, then the record that marks it
    done) and return it without its PDF bytes. Failures are not cached: the next run tries
    them again. Raises OSError (a full disk); nothing half-written is left."""
    if not result.ok or result.pdf is None:
        return replace(result, pdf=None)
    pdf_path, txt_path, meta_path = cache_paths(cache_dir, result.page_key)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(pdf_path) as tmp:
        tmp.write_bytes(result.pdf)
    atomic_write_text(txt_path, result.text)
    if result.alto is not None:
        atomic_write_text(alto_path(cache_dir, result.page_key), result.alto)
    kept = replace(result, pdf=None)
    meta = asdict(kept)
    for apart in ("text", "pdf", "alto"):  # in files of their own
        meta.pop(apart)
    atomic_write_text(meta_path, json.dumps(meta, ensure_ascii=False))  # last: marks it done
    return kept


def drop_pdf(cache_dir: Path, page_key: str) -> None:
    """Forget the page's PDF (its document PDF holds the page now); text and record stay."""
    cache_paths(cache_dir, page_key)[0].unlink(missing_ok=True)


def sweep(cache_dir: Path, catalog: Catalog) -> int:
    """Page PDFs a killed run left in the cache although their page is in its document's PDF
    already (the run died between the two): removed; returns how many. A page PDF still
    needed (its document not yet assembled) stays."""
    removed = 0
    for pdf in cache_dir.glob("*/*.pdf"):
        row = catalog.db.execute(
            "SELECT 1 FROM pages WHERE page_key = ? AND status = 'ok' AND pdf_page IS NULL",
            (pdf.stem,),
        ).fetchone()
        placed = catalog.db.execute(
            "SELECT 1 FROM pages WHERE page_key = ? AND pdf_page IS NOT NULL", (pdf.stem,)
        ).fetchone()
        if row is None and placed is not None:
            pdf.unlink(missing_ok=True)
            removed += 1
    return removed
