#!/usr/bin/env python3
"""Generate the hostile-input corpus: broken, odd and extreme scans that arkhiv must survive.

Deterministic: no clock, no randomness without a fixed seed, static PDF ids, so running it
twice gives byte-identical files. Every file is small (well under 300 KB; the whole corpus
under 3 MB) so the corpus can be committed; the huge images are blank bilevel PNGs written
row by row, which compress about 1000:1 and never exist uncompressed in memory.

Needs Pillow, pikepdf and fpdf2 (all in arkhiv's venv) and the DejaVu fonts
(Debian package fonts-dejavu-core).

Usage:
    python tests/resources/bad/make_bad.py                  # writes tests/resources/bad/corpus/
    python tests/resources/bad/make_bad.py DIR              # writes into DIR instead
    python tests/resources/bad/make_bad.py DIR --symlink-loop   # also a folder symlink loop

The symlink loop is not part of the committed corpus (tests create it in their temporary
copy). Files that vanish during a batch or cannot be read for permissions are not files at
all: tests/integration/test_hostile_inputs.py injects those faults.
"""

from __future__ import annotations

import argparse
import io
import random
import struct
import sys
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "corpus"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DPI = 300
A6 = (1240, 1748)  # 105 x 148 mm at 300 dpi
MAX_FILE_BYTES = 300_000
MAX_CORPUS_BYTES = 3_000_000

# The text of the "real" page (A6, ten lines) and of the small label used for the odd names.
PAGE_LINES = (
    "АРХІВНА ДОВІДКА № 12",
    "Видана виконавчим комітетом",
    "міської ради депутатів трудящих,",
    "місто Ужгород, вулиця Корзо, 5,",
    "про те, що громадянин Петренко",
    "Іван Васильович працював",
    "у районному архівному відділі",
    "з 1 березня 1947 року",
    "по 30 грудня 1949 року.",
    "Підстава: особова справа № 34.",
)
LABEL_LINES = ("Архівна довідка № {n}", "місто Ужгород, 1947 року")  # n differs per file
PDF_TEXT = ("Архівні дані про село", "Ужгородського району", "за 1947 рік")

# Odd names (all of them good pages). The long name is about 240 bytes in UTF-8.
CYRILLIC_NAME = "довідка-Ужгород.png"
SPACES_NAME = "page with  spaces .png"
QUOTES_NAME = "quotes ' \" ` .png"
GUILLEMETS_NAME = "«справа» № 5.png"


def _fit(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` that is at most `max_bytes` in UTF-8."""
    while len(text.encode()) > max_bytes:
        text = text[:-1]
    return text


LONG_NAME = _fit("дуже-довга-назва-файлу-" * 10, 236) + ".png"  # 240 bytes (the limit is 255)
_FOLDER_TEXT = "Державний архів Закарпатської області, фонд Р-123, опис 4, справа 56, "
LONG_FOLDER = _fit(_FOLDER_TEXT * 3, 240).rstrip(", ")  # a folder name of ~240 bytes
LONG_FOLDER_PAGE = "1.png"
SYMLINK_LOOP = "symlink-loop"  # folder holding `back-to-parent -> ..`

# name -> what it is (the README table has what arkhiv does with each).
KINDS: dict[str, str] = {
    "zero-bytes.png": "an empty file named .png",
    "zero-bytes.pdf": "an empty file named .pdf",
    "truncated.tif": "an uncompressed 1-bit TIFF cut at 60 % (in its pixel data)",
    "truncated.jpg": "a JPEG cut at 60 %",
    "truncated.png": "a PNG cut in the middle of its IDAT data",
    "truncated.pdf": "a scanned PDF cut at half its length (no xref, no trailer)",
    "text-named.tif": "a text file named .tif",
    "broken-xref.pdf": "a scanned PDF whose xref table and startxref offset are wrong",
    "encrypted.pdf": "a scanned PDF encrypted with a user password",
    "born-digital.pdf": "a PDF with a real Ukrainian text layer (fpdf2 + DejaVuSans)",
    "bomb-40000x40000.png": "a decompression bomb: 1.6 gigapixels in ~200 KB",
    "tiny-1x1.png": "a 1 x 1 pixel image",
    "huge-20000x20000.png": "a blank 20000 x 20000 bilevel image (400 megapixels)",
    "mode-1bit.png": "the A6 page, 1-bit",
    "mode-16bit.png": "the A6 page, 16-bit grayscale (I;16)",
    "mode-cmyk.jpg": "the A6 page, CMYK JPEG",
    "mode-palette.png": "the A6 page, palette (P) PNG",
    "mode-alpha.png": "the A6 page, RGBA with a transparent background (black under it)",
    "multipage-broken-frame2.tif": "3 frames; the strip data of frame 2 is garbage",
    "dpi-absurd-1.png": "the label page recording 1 dpi",
    "dpi-missing.png": "the label page with no DPI at all",
    "exif-rotated.jpg": "the A6 page stored turned 90°, EXIF Orientation = 6",
    "blank.png": "a blank white A6 page",
    "noise.png": "a page of pure random noise (1-bit)",
    CYRILLIC_NAME: "the label page, a Cyrillic name",
    SPACES_NAME: "the label page, a name with spaces (double and trailing)",
    QUOTES_NAME: "the label page, a name with ' \" and `",
    GUILLEMETS_NAME: "the label page, a name with « » and №",
    LONG_NAME: "the label page, a name of 240 bytes in UTF-8",
    f"{LONG_FOLDER}/{LONG_FOLDER_PAGE}": "the label page in a folder with a long Cyrillic name",
}


# --------------------------------------------------------------------------------------------
# Page images
# --------------------------------------------------------------------------------------------


def _font(px: int) -> ImageFont.FreeTypeFont:
    if not FONT.is_file():
        sys.exit(f"make_bad.py: font {FONT} is missing; apt-get install fonts-dejavu-core")
    return ImageFont.truetype(str(FONT), px)


def render(lines: tuple[str, ...], size: tuple[int, int], px: int = 46) -> Image.Image:
    """Black DejaVuSans text on white, grayscale, at 300 dpi."""
    im = Image.new("L", size, 255)
    draw = ImageDraw.Draw(im)
    font = _font(px)
    y = 110
    for line in lines:
        assert draw.textlength(line, font=font) < size[0] - 200, line
        draw.text((100, y), line, font=font, fill=0)
        y += round(px * 1.6)
    assert y < size[1], "the text does not fit the page"
    return im


def page() -> Image.Image:
    """The A6 page with ten lines of Ukrainian text."""
    return render(PAGE_LINES, A6)


def label(n: int) -> Image.Image:
    """A small page (105 x 33 mm) with two lines: quick to OCR. Each file gets its own `n`,
    so that no two files of the corpus have the same content."""
    return render(tuple(line.format(n=n) for line in LABEL_LINES), (1240, 400))


def png_bytes(im: Image.Image, dpi: float | None = DPI, **kw: object) -> bytes:
    buf = io.BytesIO()
    if dpi is None:
        im.save(buf, format="PNG", optimize=True, **kw)
    else:
        im.save(buf, format="PNG", optimize=True, dpi=(dpi, dpi), **kw)
    return buf.getvalue()


def _jpeg(im: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=80, dpi=(DPI, DPI), **kw)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_bilevel_png(width: int, height: int) -> bytes:
    """A white 1-bit PNG of any size, compressed row by row (never whole in memory).

    It is a 2-colour palette image whose colour 0 is white: with filter byte 0 the whole
    zlib stream is zero bytes, which deflate packs about 1000:1.
    """
    ppm = round(DPI / 0.0254)
    row = bytes(1 + (width + 7) // 8)  # filter byte 0 ("none"), then pixels of colour 0
    comp = zlib.compressobj(9)
    parts = [comp.compress(row) for _ in range(height)]
    parts.append(comp.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 3, 0, 0, 0))
        + _chunk(b"PLTE", b"\xff\xff\xff\x00\x00\x00")
        + _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def noise_png() -> bytes:
    """600 x 800 px of seeded random 1-bit noise (~60 KB: noise does not compress)."""
    size = (600, 800)
    data = random.Random(1947).randbytes(size[0] * size[1] // 8)
    return png_bytes(Image.frombytes("1", size, data))


def rgba_page() -> Image.Image:
    """The page as opaque black text on a fully transparent background whose colour is black:
    dropping the alpha channel (instead of flattening on white) gives an all-black page."""
    gray = page()
    alpha = gray.point(lambda v: 255 - v)  # ink is opaque, paper transparent
    black = Image.new("L", gray.size, 0)
    return Image.merge("RGBA", (black, black, black, alpha))


def sixteen_bit_page() -> Image.Image:
    im = page().convert("I").point(lambda v: v * 257)
    return im.convert("I;16")


def exif_rotated_jpeg() -> bytes:
    """Pixels stored turned 90° counter-clockwise; Orientation 6 says "turn 90° clockwise"."""
    stored = page().transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _jpeg(stored, exif=exif.tobytes())


def multipage_tiff_broken_frame2() -> bytes:
    """Three deflate-compressed frames; frame 2's strip data is overwritten with garbage."""
    frames = [label(n) for n in (31, 32, 33)]
    buf = io.BytesIO()
    frames[0].save(
        buf,
        format="TIFF",
        save_all=True,
        append_images=frames[1:],
        compression="tiff_adobe_deflate",
        dpi=(DPI, DPI),
    )
    data = bytearray(buf.getvalue())
    with Image.open(io.BytesIO(bytes(data))) as im:
        im.seek(1)
        offsets = im.tag_v2[273]  # StripOffsets
        counts = im.tag_v2[279]  # StripByteCounts
    garbage = random.Random(2).randbytes(sum(counts))
    pos = 0
    for off, n in zip(offsets, counts, strict=True):
        data[off : off + n] = garbage[pos : pos + n]
        pos += n
    return bytes(data)


# --------------------------------------------------------------------------------------------
# PDFs
# --------------------------------------------------------------------------------------------

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _fpdf() -> FPDF:
    pdf = FPDF(format=(105, 148))
    pdf.set_creation_date(_EPOCH)
    pdf.set_producer("make_bad.py")
    pdf.set_compression(True)
    return pdf


def scanned_pdf() -> bytes:
    """A one-page "scanned" PDF: the label image only, no text layer."""
    pdf = _fpdf()
    pdf.add_page()
    png = io.BytesIO(png_bytes(label(61).convert("1")))
    pdf.image(png, x=0, y=10, w=105)
    return bytes(pdf.output())


def born_digital_pdf() -> bytes:
    """A PDF with a real text layer in Ukrainian (embedded DejaVuSans subset)."""
    pdf = _fpdf()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", size=18)
    for line in PDF_TEXT:
        pdf.cell(0, 14, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _pike_save(pdf: pikepdf.Pdf, **kw: object) -> bytes:
    buf = io.BytesIO()
    pdf.save(buf, static_id=True, **kw)
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    """The scanned PDF with a user password (RC4-128: deterministic with a static id)."""
    with pikepdf.open(io.BytesIO(scanned_pdf())) as pdf:
        enc = pikepdf.Encryption(user="arkhiv", owner="owner", R=3, aes=False, metadata=False)
        return _pike_save(pdf, encryption=enc)


def broken_xref_pdf() -> bytes:
    """The scanned PDF with every xref offset shifted and a wrong startxref."""
    with pikepdf.open(io.BytesIO(scanned_pdf())) as pdf:
        data = _pike_save(pdf, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    head, sep, tail = data.rpartition(b"\nxref\n")
    assert sep, "no classic xref table"
    table, _, trailer = tail.partition(b"trailer")
    lines = table.split(b"\n")
    broken = [
        b"%010d %s" % (int(ln[:10]) + 7, ln[11:]) if len(ln) >= 18 and ln[10:11] == b" " else ln
        for ln in lines
    ]
    out = head + sep + b"\n".join(broken) + b"trailer" + trailer
    start = out.rindex(b"startxref\n") + len(b"startxref\n")
    end = out.index(b"\n", start)
    return out[:start] + str(int(out[start:end]) + 123).encode() + out[end:]


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------


def _truncate(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def _truncated_tiff() -> bytes:
    """An uncompressed 1-bit TIFF cut at 60 %: Pillow's own writer puts the IFD (the header of
    the image) first, so the file opens and fails while decoding, like a copy cut short."""
    buf = io.BytesIO()
    label(71).convert("1").save(buf, format="TIFF", dpi=(DPI, DPI))
    data = buf.getvalue()
    assert struct.unpack("<I", data[4:8])[0] < 1000, "the IFD must come before the pixels"
    return _truncate(data, 0.6)


def _builders() -> dict[str, Callable[[], bytes]]:
    return {
        "zero-bytes.png": lambda: b"",
        "zero-bytes.pdf": lambda: b"",
        "truncated.tif": _truncated_tiff,
        "truncated.jpg": lambda: _truncate(_jpeg(page()), 0.6),
        "truncated.png": lambda: _truncate(png_bytes(page()), 0.5),
        "truncated.pdf": lambda: _truncate(scanned_pdf(), 0.5),
        "text-named.tif": lambda: "Це текстовий файл, не TIFF.\nThis is text.\n".encode(),
        "broken-xref.pdf": broken_xref_pdf,
        "encrypted.pdf": encrypted_pdf,
        "born-digital.pdf": born_digital_pdf,
        "bomb-40000x40000.png": lambda: blank_bilevel_png(40000, 40000),
        "tiny-1x1.png": lambda: png_bytes(Image.new("L", (1, 1), 255)),
        "huge-20000x20000.png": lambda: blank_bilevel_png(20000, 20000),
        "mode-1bit.png": lambda: png_bytes(page().point(lambda v: 255 * (v > 128)).convert("1")),
        "mode-16bit.png": lambda: png_bytes(sixteen_bit_page()),
        "mode-cmyk.jpg": lambda: _jpeg(page().convert("CMYK")),
        "mode-palette.png": lambda: png_bytes(page().convert("RGB").quantize(16)),
        "mode-alpha.png": lambda: png_bytes(rgba_page()),
        "multipage-broken-frame2.tif": multipage_tiff_broken_frame2,
        "dpi-absurd-1.png": lambda: png_bytes(label(41), dpi=1),
        "dpi-missing.png": lambda: png_bytes(label(42), dpi=None),
        "exif-rotated.jpg": exif_rotated_jpeg,
        "blank.png": lambda: png_bytes(Image.new("L", A6, 255)),
        "noise.png": noise_png,
        CYRILLIC_NAME: lambda: png_bytes(label(51)),
        SPACES_NAME: lambda: png_bytes(label(52)),
        QUOTES_NAME: lambda: png_bytes(label(53)),
        GUILLEMETS_NAME: lambda: png_bytes(label(54)),
        LONG_NAME: lambda: png_bytes(label(55)),
        f"{LONG_FOLDER}/{LONG_FOLDER_PAGE}": lambda: png_bytes(label(56)),
    }


def make_corpus(out: Path = DEFAULT_OUT, *, symlink_loop: bool = False) -> dict[str, Path]:
    """Write every kind into `out` (created); returns name -> path. Existing files are
    replaced, other files in `out` are left alone."""
    builders = _builders()
    assert builders.keys() == KINDS.keys()
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    total = 0
    for name, build in builders.items():
        data = build()
        assert len(data) < MAX_FILE_BYTES, f"{name}: {len(data)} bytes is too big to commit"
        total += len(data)
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written[name] = path
    assert total < MAX_CORPUS_BYTES, f"the corpus is {total} bytes"
    if symlink_loop:
        loop = out / SYMLINK_LOOP
        loop.mkdir(exist_ok=True)
        link = loop / "back-to-parent"
        if not link.is_symlink():
            link.symlink_to("..", target_is_directory=True)
        written[f"{SYMLINK_LOOP}/back-to-parent"] = link
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--symlink-loop", action="store_true", help="also make a folder symlink to its parent"
    )
    args = parser.parse_args(argv)
    written = make_corpus(args.out, symlink_loop=args.symlink_loop)
    total = sum(p.lstat().st_size for p in written.values())
    print(f"{len(written)} files, {total} bytes in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
