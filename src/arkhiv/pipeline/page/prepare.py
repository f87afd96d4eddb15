"""Page job, step 1: the page as a file Tesseract and OCRmyPDF take, with its DPI.

Images are checked before decoding (size limits: decompression bombs), decoded (a truncated or
corrupt file fails here, with its reason), turned upright by their EXIF orientation and
converted when their mode or format needs it; a PDF page is cut out as a single-page PDF.
The original file is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from arkhiv.config import IngestSettings
from arkhiv.errors import InputFileError
from arkhiv.fsutil import sha256_file
from arkhiv.models import PageJob
from arkhiv.tools import poppler


class ChangedFileError(InputFileError):
    """The file is not the one planned: a transient failure, done again by the next run."""


# Image modes and formats OCRmyPDF (through img2pdf) takes as they are; others are converted.
_DIRECT_MODES = frozenset({"1", "L", "RGB"})
_DIRECT_FORMATS = frozenset({"PNG", "JPEG", "TIFF"})


def _image_dpi(im: Image.Image, cfg: IngestSettings) -> float | None:
    """The image's recorded DPI, or None when missing or not credible."""
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    if not (cfg.min_dpi <= x <= cfg.max_dpi and cfg.min_dpi <= y <= cfg.max_dpi):
        return None
    return x


def _convert_for_ocr(im: Image.Image, dst: Path, dpi: float) -> None:
    """Save a frame as a lossless image OCRmyPDF accepts (Group 4 for bilevel)."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        im = flat
    elif im.mode.startswith("I;16") or im.mode in ("I", "F"):
        im = im.point(lambda v: v / 256).convert("L") if im.mode != "F" else im.convert("L")
    elif im.mode not in _DIRECT_MODES:
        im = im.convert("RGB")
    if im.mode == "1":
        im.save(dst, format="TIFF", compression="group4", dpi=(dpi, dpi))
    else:
        im.save(dst, format="PNG", dpi=(dpi, dpi))


MIN_PAGE_PIXELS = 16  # smaller than this on a side cannot be a scanned page


def _check_size(im: Image.Image, job: PageJob) -> None:
    """Refuse images larger than the setting before decoding them (decompression bombs), and
    images too small to be a page."""
    limit = job.ingest.max_image_megapixels
    width, height = im.size
    if min(width, height) < MIN_PAGE_PIXELS:
        raise InputFileError(
            job.source, f"image too small to be a scanned page ({width} x {height} px)"
        )
    if width * height > limit * 1e6:
        raise InputFileError(
            job.source,
            f"image too large to process safely: {width} x {height} px = "
            f"{width * height / 1e6:.0f} megapixels, above the limit of {limit:g} "
            "([ingest] max_image_megapixels)",
        )


def _upright(im: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says (cameras and phones store it that way)."""
    try:
        orientation = im.getexif().get(0x0112, 1)
    except Exception:
        return im
    return ImageOps.exif_transpose(im) if orientation not in (0, 1) else im


def _pdf_page(job: PageJob, source: Path, work: Path) -> Path:
    import pikepdf

    single = work / "page.pdf"
    try:
        with pikepdf.open(source) as src, pikepdf.new() as out:
            page = src.pages[job.frame or 0]
            # OCRmyPDF rasterizes the page at up to 400 dpi: refuse absurd page sizes first.
            # /UserUnit (PDF 1.6) scales the page's units: a page of 200 x 200 units at
            # UserUnit 75,000 is 2.9 km wide, and readers render it so.
            unit = float(page.obj.get("/UserUnit", 1.0))
            x0, y0, x1, y1 = (float(v) * unit for v in page.mediabox)
            megapixels = abs(x1 - x0) / 72 * abs(y1 - y0) / 72 * 400 * 400 / 1e6
            if megapixels > job.ingest.max_image_megapixels:
                raise InputFileError(
                    job.source,
                    f"PDF page {(job.frame or 0) + 1} too large to process safely: "
                    f"{abs(x1 - x0) / 72:.0f} x {abs(y1 - y0) / 72:.0f} inches, above the "
                    f"limit of {job.ingest.max_image_megapixels:g} megapixels "
                    "([ingest] max_image_megapixels)",
                )
            out.pages.append(page)
            out.save(single)
    except pikepdf.PasswordError as e:
        raise InputFileError(job.source, "the PDF is encrypted; decrypt it first") from e
    except (pikepdf.PdfError, IndexError) as e:
        raise InputFileError(job.source, f"cannot read page {(job.frame or 0) + 1}: {e}") from e
    return single


def readable_source(job: PageJob, work: Path) -> Path:
    """Where this worker reads the page: the file itself, or its bytes written into `work`.
    A file whose content is no longer the one planned (replaced meanwhile) is not read: its
    text would be recorded under the old content's hash."""
    if job.data is None:
        try:
            changed = bool(job.sha256) and sha256_file(job.source) != job.sha256
        except FileNotFoundError as e:
            raise InputFileError(job.source, "the file disappeared before it could be read") from e
        except PermissionError as e:
            raise InputFileError(job.source, "permission denied; make the file readable") from e
        if changed:
            raise ChangedFileError(
                job.source, "the file changed while the batch ran; run the same command again"
            )
        return job.source
    local = work / ("source" + job.source.suffix.lower())
    local.write_bytes(job.data)
    return local


def prepare_input(job: PageJob, work: Path) -> tuple[Path, float, bool]:
    """The file handed to OCRmyPDF for this page, its DPI, and whether the DPI was assumed."""
    source = readable_source(job, work)
    if job.source.suffix.lower() == ".pdf":
        return _pdf_page(job, source, work), 0.0, False
    # Pillow's own bomb check would stop at 178 MP with a warning below that; arkhiv checks
    # the header against its setting instead (one process per page: the global is ours).
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(source) as opened:
            if job.frame is not None:
                opened.seek(job.frame)
            _check_size(opened, job)
            opened.load()  # decode now: a truncated or corrupt file fails here, with its reason
            recorded = _image_dpi(opened, job.ingest)
            dpi = recorded or float(job.ingest.default_dpi)
            im = _upright(opened)
            as_is = im is opened and im.format in _DIRECT_FORMATS and im.mode in _DIRECT_MODES
            if job.frame is None and as_is:
                return source, dpi, recorded is None
            converted = work / ("frame.tif" if im.mode == "1" else "frame.png")
            _convert_for_ocr(im, converted, dpi)
            return converted, dpi, recorded is None
    except FileNotFoundError as e:
        raise InputFileError(job.source, "the file disappeared before it could be read") from e
    except PermissionError as e:
        raise InputFileError(job.source, "permission denied; make the file readable") from e
    except UnidentifiedImageError as e:
        raise InputFileError(
            job.source, "not an image arkhiv can read (corrupt, or not really an image)"
        ) from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        where = f" (frame {job.frame + 1})" if job.frame is not None else ""
        raise InputFileError(job.source, f"cannot decode the image{where}: {e}") from e


@dataclass(frozen=True)
class Prepared:
    """The page ready to be read and made into a PDF/A page."""

    ocr_input: Path  # what OCRmyPDF makes the PDF page of: the image, or a one-page PDF
    image: Path  # what Tesseract reads: the same image, or the PDF page rendered
    dpi: float
    dpi_assumed: bool
    has_text: bool  # a PDF page that already has text (born-digital, or OCRed before)


def prepare(job: PageJob, work: Path) -> Prepared:
    """The page as files OCRmyPDF and Tesseract take; a PDF page rendered at the default DPI."""
    path, dpi, assumed = prepare_input(job, work)
    if job.source.suffix.lower() != ".pdf":
        return Prepared(path, path, dpi, assumed, False)
    dpi = float(job.ingest.default_dpi)
    # pdftoppm ignores /UserUnit: render that many times finer, so that the image has `dpi`
    # pixels per real inch (the text layer is scaled onto the page by OCRmyPDF's graft).
    image = poppler.rasterize(path, 1, dpi * _user_unit(path), work / "page.png")
    return Prepared(path, image, dpi, False, _has_text(path))


def _user_unit(pdf: Path) -> float:
    """The one-page PDF's /UserUnit (points per unit / 1), 1 when absent."""
    import pikepdf

    with pikepdf.open(pdf) as doc:
        return float(doc.pages[0].obj.get("/UserUnit", 1.0))


def _has_text(pdf: Path) -> bool:
    """Whether the one-page PDF shows text of its own (text operators in its content)."""
    import pikepdf

    with pikepdf.open(pdf) as doc:
        return any(
            str(instruction.operator) in ("Tj", "TJ", "'", '"')
            for instruction in pikepdf.parse_content_stream(doc.pages[0])
        )
