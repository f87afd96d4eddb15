"""Field lengths read a segment at a time: BM25F's length norms of every document of a segment,
and the lengths the index writer needs when it merges segments, read once (Whoosh 2.7.5 reads
them a document at a time)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

__all__ = ["Floats", "LengthsOnce", "length_norms", "read_lengths"]

Floats = npt.NDArray[np.float64]


def length_norms(reader: Any, fieldname: str, B: float, K1: float, avgfl: float) -> Floats:
    """K1 * ((1 - B) + B * fl / avgfl) of every document of the segment, once per segment
    reader and global average length (the top searcher's, fixed while the reader is)."""
    key = (fieldname, B, K1, avgfl)
    cached: tuple[Any, Floats] | None = getattr(reader, "_arkhiv_norms", None)
    if cached is None or cached[0] != key:
        lengths = _field_lengths(reader, fieldname)
        norms: Floats = K1 * ((1 - B) + B * lengths / avgfl)
        cached = (key, norms)
        reader._arkhiv_norms = cached
    return cached[1]


def _field_lengths(reader: Any, fieldname: str) -> Floats:
    """Each document's length of `fieldname` as Whoosh's scorer sees it (one byte, decoded;
    0 for the byte 0, a document without the field, which no posting refers to)."""
    perdoc = reader._perdoc
    n = perdoc.doc_count_all()
    raw = _length_bytes(perdoc, fieldname)
    if raw is None:  # another codec: one call per document
        found = read_lengths(perdoc, fieldname, 1)
        return np.array([fl or 0 for fl in found], dtype=np.float64)
    lengths = np.zeros(n, dtype=np.float64)
    column = np.frombuffer(raw, dtype=np.uint8)[:n]
    lengths[: len(column)] = _LENGTH_TABLE[column]
    return lengths


def _length_bytes(perdoc: Any, fieldname: str) -> bytes | None:
    """W3PerDocReader's column of length bytes of `fieldname`, or None where there is none
    to read at once (read_lengths then gives the lengths, or 1 for a field without them)."""
    try:
        column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is None or column._fixedlen != 1:
            return None
        return bytes(column._dbfile.get(column._basepos, column._count))
    except AttributeError:
        return None


# byte -> length as W3PerDocReader.doc_field_length gives it: None for the byte 0.
_LENGTHS: list[int | None] = [None, *(byte_to_length(b) for b in range(1, 256))]
_LENGTH_TABLE: Floats = np.array([fl or 0 for fl in _LENGTHS], dtype=np.float64)


def read_lengths(perdoc: Any, fieldname: str, default: int) -> list[int | None]:
    """What perdoc.doc_field_length(d, fieldname, default) gives for every document d of a
    segment's per-document reader, at once: Whoosh 2.7.5 keeps the lengths in a column of
    one byte per document and reads it a byte per call."""
    n = perdoc.doc_count_all()
    try:
        column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is None:  # a field without lengths (not scorable)
            return [default] * n
        raw = column._dbfile.get(column._basepos, column._count) if column._fixedlen == 1 else None
    except AttributeError:
        raw = None
    if raw is None:  # another codec: one call per document
        return [perdoc.doc_field_length(d, fieldname, default) for d in range(n)]
    found = [_LENGTHS[b] for b in bytes(raw)]
    found.extend([None] * (n - len(found)))  # past the column's end: the default byte 0
    return found


class LengthsOnce:
    """A segment's per-document reader whose doc_field_length reads each field's lengths once.

    Whoosh 2.7.5's writer asks the new segment's length of every posting it writes
    (FieldWriter.add_postings, for each block's shortest and longest document): a call and a
    file read per posting, a fifth of `arkhiv reindex`. The lengths are the same; only
    how they are read changes."""

    def __init__(self, perdoc: Any) -> None:
        self._perdoc = perdoc
        self._lengths: dict[tuple[str, int], list[int | None]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        found = self._lengths.get((fieldname, default))
        if found is None:
            found = read_lengths(self._perdoc, fieldname, default)
            self._lengths[(fieldname, default)] = found
        return found[docnum]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._perdoc, name)
