"""A small archive for the web tests, made without OCR: the catalog and index writers are fed
page texts directly, and each document gets a real (tiny) PDF with one page per catalog page."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from arkhiv import api
from arkhiv.catalog import Catalog
from arkhiv.fsutil import sha256_file
from arkhiv.metadata.dates import parse_date
from arkhiv.metadata.fields import Access, DocumentMetadata, Sides
from arkhiv.metadata.ref import ArchivalRef
from arkhiv.models import DocumentSource, PageOcrResult, SourceKind, SourcePage
from arkhiv.search import PageIndex

HOSTILE = "<script>alert('x')</script> <img src=x onerror=alert(1)> архівні дані"
HOSTILE_TITLE = '<b>Заголовок</b> & "лапки"'
SECRET_WORD = "таємниця"
SECRET_FOND = "Р-999"
PROTOCOLS = 23  # pages of the minutes book: more than one result page of 20

# Document A: a personnel file, 1937, three pages on leaves 1, 1 зв., 2 (recto-verso).
PERSONNEL = (
    "Трудова книжка робітника Ужгородського заводу. Архівні дані про стаж за 1937 рік.",
    HOSTILE,
    "Довідка видана міською радою про місце проживання.",
)
# Document B: minutes of a collective farm, 1950; a metadata title with HTML in it.
MINUTES = tuple(
    ["Архівні дані колгоспу: протокол засідання правління."]
    + [f"Протокол засідання номер {n}. Колгосп звітував про врожай пшениці." for n in range(2, 24)]
)
# Document C: restricted, 1945, in a fond no open document has.
SECRET = (f"{SECRET_WORD.capitalize()} слідства. Архівні дані засекречено.",)


@dataclass(frozen=True)
class WebArchive:
    path: Path
    personnel: int  # document ids
    minutes: int
    secret: int


def _pdf(path: Path, pages: int) -> None:
    """A real PDF with `pages` small pages, each a white image with its number drawn on it."""
    images = []
    for n in range(1, pages + 1):
        image = Image.new("RGB", (200, 280), "white")
        ImageDraw.Draw(image).text((20, 20), f"page {n}", fill="black")
        images.append(image)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, "PDF", resolution=72.0, save_all=True, append_images=images[1:])


def _add_document(
    archive: Path,
    catalog: Catalog,
    batch_id: int,
    name: str,
    texts: tuple[str, ...],
    meta: DocumentMetadata,
    leaves: list[tuple[int, bool]],
) -> int:
    scans = archive.parent / "scans" / name
    pages = tuple(SourcePage(scans / f"{n:04d}.tif", None, n) for n in range(1, len(texts) + 1))
    doc_id, folder = catalog.upsert_document(
        DocumentSource(scans, name, SourceKind.FOLDER, pages), batch_id
    )
    for page, text, leaf in zip(pages, texts, leaves, strict=True):
        sha = hashlib.sha256(f"{name}/{page.number}".encode()).hexdigest()
        key = hashlib.sha256(f"key:{sha}".encode()).hexdigest()
        result = PageOcrResult(
            page_key=key, ok=True, text=text, confidence=90.0, word_count=len(text.split())
        )
        text_path = f"{folder}/text/{page.number:04d}.txt"
        catalog.save_page(doc_id, page, sha, key, result, text_path, batch_id, leaf)
    metadata_sha = catalog.set_document_metadata(
        doc_id,
        meta.to_json(),
        [(n, arkush, verso) for n, (arkush, verso) in enumerate(leaves, start=1)],
    )
    pdf = f"{folder}/document.pdf"
    _pdf(archive / pdf, len(texts))
    catalog.set_document_pdf(doc_id, pdf, sha256_file(archive / pdf), "ok", None, metadata_sha)
    catalog.set_pdf_pages(doc_id, [(n, n) for n in range(1, len(texts) + 1)])
    return doc_id


def build_archive(archive: Path) -> WebArchive:
    """Three documents (one restricted), indexed; see the texts above."""
    catalog = Catalog.open(archive, create=True)
    try:
        batch = catalog.start_batch([archive.parent / "scans"], "default", {})
        personnel = _add_document(
            archive,
            catalog,
            batch,
            "ДАЗО_ф.Р-123_оп.4_спр.56",
            PERSONNEL,
            DocumentMetadata(
                ref=ArchivalRef(archive="ДАЗО", fond="Р-123", opys="4", sprava="56"),
                title="Особові справи робітників",
                date=parse_date("1937"),
                creator=("Ужгородський завод",),
                language=("uk",),
                leaves=2,
                sides=Sides.RECTO_VERSO,
            ),
            [(1, False), (1, True), (2, False)],
        )
        minutes = _add_document(
            archive,
            catalog,
            batch,
            "протоколи колгоспу",
            MINUTES,
            DocumentMetadata(
                ref=ArchivalRef(archive="ДАЗО", fond="Р-200", opys="1", sprava="7"),
                title=HOSTILE_TITLE,
                date=parse_date("1950"),
            ),
            [(n, False) for n in range(1, len(MINUTES) + 1)],
        )
        secret = _add_document(
            archive,
            catalog,
            batch,
            "секретна справа",
            SECRET,
            DocumentMetadata(
                ref=ArchivalRef(archive="ДАЗО", fond=SECRET_FOND, opys="2", sprava="3"),
                title="Слідча справа",
                date=parse_date("1945"),
                access=Access.RESTRICTED,
            ),
            [(1, False)],
        )
        catalog.finish_batch(batch, "ok", {})
    finally:
        catalog.close()
    api.reindex(archive)
    return WebArchive(archive, personnel, minutes, secret)


def build_empty_archive(archive: Path) -> Path:
    """A catalog without documents and an empty index."""
    Catalog.open(archive, create=True).close()
    PageIndex.open(archive, create=True)
    return archive
