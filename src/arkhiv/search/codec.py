"""Whoosh 2.7.5's W3 codec with posting blocks whose ids and weights are read without positions.

W3PostingsWriter stores a block of up to 128 postings as one zlib-compressed pickle of
(ids, weights, values), the values being each posting's encoded word positions: to score a
word, its positions are decompressed and unpickled too, three quarters of the cost of a word
on 40 % of 100,000 pages. ArkhivCodec writes the same blocks in two parts compressed apart:
the ids (delta-encoded unsigned 32-bit integers) with the weights (32-bit floats, as Whoosh
keeps them), then the values; a phrase query decodes the values of the blocks that hold its
candidate documents only.

The block header is Whoosh's (count, last id, max weight, compression, min/max length bytes),
so W3LeafMatcher's block skipping and quality work unchanged on ArkhivLeafMatcher, and
everything else of W3Codec is kept: terms, inlined postings, per-document columns, vectors
(W3PerDocReader reads vector postings with a plain W3LeafMatcher, so they stay W3 blocks).
Whoosh pickles each segment's codec into the index's TOC: ArkhivCodec must stay importable
under this name for the index to open, and segments written by W3Codec stay readable beside
new ones (each segment reads its postings with its own codec).

Block layout after the header pickle: ids+weights part, values part, then two little-endian
unsigned 32-bit lengths of those parts, the high bit set when the part is zlib-compressed
(parts of a few bytes are not: compressing them costs more than it saves). The lengths come
last so that a bulk reader finds the parts from the block's end without parsing the header.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from collections.abc import Sequence
from itertools import accumulate, pairwise
from operator import sub
from pickle import dumps, loads
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.util.numeric import length_to_byte

__all__ = ["ArkhivCodec", "ArkhivLeafMatcher", "ArkhivPostingsWriter", "BulkPostings"]

# Posting lists of this codec start with their own tag, so that a plain W3LeafMatcher given
# one fails at once ("Block tag error") instead of unpickling garbage.
MAGIC = b"AKH1"
_TRAILER = struct.Struct("<II")
_COMPRESSED = 0x80000000
_LENGTH = 0x7FFFFFFF
_MIN_COMPRESS = 48  # bytes: shorter parts are stored as they are
_BLOCK_LENGTH = struct.Struct("!i")  # StructFile.write_int
_VALUES_HEAD = struct.Struct("<cI")  # typecode of the value lengths, number of values
_ONE = struct.pack("<f", 1.0)
_BIG_ENDIAN = sys.byteorder == "big"


def _pack(data: bytes, level: int) -> tuple[bytes, int]:
    """The part as stored and its length word."""
    if level and len(data) >= _MIN_COMPRESS:
        packed = zlib.compress(data, level)
        if len(packed) < len(data):
            return packed, len(packed) | _COMPRESSED
    return data, len(data)


def _le(a: array[Any]) -> bytes:
    if _BIG_ENDIAN:
        a = array(a.typecode, a)
        a.byteswap()
    return a.tobytes()


def _from_le(typecode: str, data: bytes) -> array[Any]:
    a = array(typecode)
    a.frombytes(data)
    if _BIG_ENDIAN:
        a.byteswap()
    return a


class ArkhivPostingsWriter(W3PostingsWriter):  # type: ignore[misc]
    """W3PostingsWriter whose blocks keep ids and weights apart from the values."""

    def start_postings(self, format_: Any, terminfo: Any) -> None:
        super().start_postings(format_, terminfo)
        self._fixedsize = format_.fixed_value_size()

    def _write_block(self, last: bool = False) -> None:
        postfile = self._postfile
        if not self._blockcount:
            postfile.write(MAGIC)
        self._terminfo.add_block(self)

        ids = self._ids
        deltas = array("I", ids[:1])
        deltas.extend(map(sub, ids[1:], ids))  # the first id as it is, as delta_encode does
        head = _le(deltas) + self._weight_bytes()
        values = self._value_bytes()
        comp = self._compression
        head, head_word = _pack(head, comp)
        values, values_word = _pack(values, comp)
        # The header of W3PostingsWriter._write_block, unchanged (it, too, records the
        # compression level whether or not the block turned out compressed).
        infobytes = dumps(
            (
                len(ids),
                ids[-1],
                self._maxweight,
                comp,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            ),
            2,
        )
        blocklength = len(infobytes) + len(head) + len(values) + _TRAILER.size
        postfile.write_int(-blocklength if last else blocklength)
        postfile.write(infobytes)
        postfile.write(head)
        postfile.write(values)
        postfile.write(_TRAILER.pack(head_word, values_word))
        self._blockcount += 1
        self._new_block()

    def _weight_bytes(self) -> bytes:
        """W3PostingsWriter._mini_weights as bytes: nothing when all are 1.0, one float when
        all are equal, else one float per posting (array("f"), as the writer holds them)."""
        weights = self._weights
        first = weights[0]
        if all(w == first for w in weights):
            return b"" if first == 1.0 else _le(weights[:1])
        return _le(weights)

    def _value_bytes(self) -> bytes:
        """W3PostingsWriter._mini_values as bytes: variable-size values as their lengths and
        one blob, fixed-size values joined, none for a format without values."""
        fixedsize = self._fixedsize
        values = self._values
        if fixedsize is None or fixedsize < 0:
            lengths = array("I", map(len, values))
            if not lengths or max(lengths) < 0x10000:
                lengths = array("H", lengths)
            head = _VALUES_HEAD.pack(lengths.typecode.encode(), len(lengths))
            return head + _le(lengths) + b"".join(values)
        if fixedsize == 0:
            return b""
        return b"".join(values)


def _unpack(part: bytes | memoryview, word: int) -> bytes:
    return zlib.decompress(part) if word & _COMPRESSED else bytes(part)


def _pick_values(
    raw: bytes, count: int, fixedsize: int | None, which: list[int] | None
) -> Sequence[Any]:
    """The values at the indices `which` (all if None) of a block's values part."""
    if fixedsize is None or fixedsize < 0:
        typecode, n = _VALUES_HEAD.unpack_from(raw)
        start = _VALUES_HEAD.size
        end = start + n * (2 if typecode == b"H" else 4)
        lengths = _from_le(typecode.decode(), raw[start:end])
        bounds = list(accumulate(lengths, initial=end))
        if which is None:
            return tuple(raw[a:b] for a, b in pairwise(bounds))
        return [raw[bounds[i] : bounds[i + 1]] for i in which]
    if fixedsize == 0:
        return (None,) * (count if which is None else len(which))
    if which is None:
        return tuple(raw[i : i + fixedsize] for i in range(0, len(raw), fixedsize))
    return [raw[i * fixedsize : (i + 1) * fixedsize] for i in which]


def _weights_of(raw: bytes, count: int) -> bytes:
    """The block's weights as `count` float32 (little-endian) from its ids+weights part."""
    stored = raw[4 * count :]
    if not stored:
        return _ONE * count
    if len(stored) == 4:
        return stored * count
    return stored


class ArkhivLeafMatcher(W3LeafMatcher):  # type: ignore[misc]
    """W3LeafMatcher reading ArkhivPostingsWriter's blocks; plus read_all for bulk reading."""

    def _read_header(self) -> None:
        postfile = self._postfile
        postfile.seek(self._startoffset)
        magic = postfile.read(4)
        if magic != MAGIC:
            raise ValueError(f"Block tag error {magic!r}")
        self._baseoffset = postfile.tell()

    def _parts(self) -> tuple[int, int, int, int]:
        """(ids+weights part length word, its offset, values length word, its offset)."""
        end = self._nextoffset - _TRAILER.size
        head_word, values_word = _TRAILER.unpack(self._postfile.get(end, _TRAILER.size))
        values_at = end - (values_word & _LENGTH)
        return head_word, values_at - (head_word & _LENGTH), values_word, values_at

    def _read_data(self) -> None:
        head_word, head_at, _values_word, _values_at = self._parts()
        self._data = _unpack(self._postfile.get(head_at, head_word & _LENGTH), head_word)

    def _read_ids(self) -> None:
        if self._data is None:
            self._read_data()
        deltas = _from_le("I", self._data[: 4 * self._blocklength])
        self._ids = tuple(accumulate(deltas))

    def _read_weights(self) -> None:
        if self._data is None:
            self._read_data()
        self._weights = _from_le("f", _weights_of(self._data, self._blocklength))

    def _read_values(self) -> None:
        _head_word, _head_at, values_word, values_at = self._parts()
        raw = _unpack(self._postfile.get(values_at, values_word & _LENGTH), values_word)
        self._values = _pick_values(raw, self._blocklength, self._fixedsize, None)

    def read_all(self) -> BulkPostings:
        """Every posting of the list (wherever the matcher stands), read in one pass over
        the list's bytes: the block headers are not unpickled one file read at a time."""
        start = self._baseoffset
        length = self._length
        if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves it in unpack_int's tuple
            length = length[0]
        buf = self._postfile.get(start, self._startoffset + length - start)
        view = memoryview(buf)
        id_parts: list[bytes] = []
        weight_parts: list[bytes] = []
        counts: list[int] = []
        last_ids: list[int] = []
        values_at: list[tuple[int, int, int]] = []
        pos = 0
        end_all = len(buf)
        while pos < end_all:
            blocklength = abs(_BLOCK_LENGTH.unpack_from(buf, pos)[0])
            begin = pos + _BLOCK_LENGTH.size
            end = begin + blocklength
            info = loads(view[begin:end])  # the header; the bytes after it are ignored
            count = info[0]
            tail = end - _TRAILER.size
            head_word, values_word = _TRAILER.unpack_from(buf, tail)
            values_begin = tail - (values_word & _LENGTH)
            raw = _unpack(view[values_begin - (head_word & _LENGTH) : values_begin], head_word)
            id_parts.append(raw[: 4 * count])
            weight_parts.append(_weights_of(raw, count))
            counts.append(count)
            last_ids.append(info[1])
            values_at.append((values_begin, tail, values_word))
            pos = end
        ids = np.frombuffer(b"".join(id_parts), dtype="<u4").astype(np.int64)
        starts = np.zeros(len(counts), dtype=np.int64)
        if len(counts) > 1:
            np.cumsum(counts[:-1], out=starts[1:])
            # Each block's first delta is its first id: make it the gap from the last id of
            # the block before, and one running sum gives every id.
            ids[starts[1:]] -= np.asarray(last_ids[:-1], dtype=np.int64)
        np.cumsum(ids, out=ids)
        weights = np.frombuffer(b"".join(weight_parts), dtype="<f4").astype(np.float64)
        return BulkPostings(ids, weights, _BlockValues(buf, starts, counts, values_at, self))


class _BlockValues:
    """The values of chosen postings of a list read by read_all, decoding only their blocks."""

    def __init__(
        self,
        buf: bytes,
        starts: npt.NDArray[np.int64],
        counts: list[int],
        at: list[tuple[int, int, int]],
        matcher: ArkhivLeafMatcher,
    ) -> None:
        self._buf = buf
        self._starts = starts
        self._counts = counts
        self._at = at
        self._fixedsize = matcher._fixedsize

    def __call__(self, indices: npt.NDArray[np.int64]) -> list[Any]:
        if not len(indices):
            return []
        blocks = np.searchsorted(self._starts, indices, side="right") - 1
        local = (indices - self._starts[blocks]).tolist()
        # runs of indices in one block: decompressed once, only their values sliced out
        bounds = [0, *(np.flatnonzero(np.diff(blocks)) + 1).tolist(), len(indices)]
        block_of = blocks.tolist()
        view = memoryview(self._buf)
        out: list[Any] = []
        for a, b in pairwise(bounds):
            block = block_of[a]
            begin, end, word = self._at[block]
            raw = _unpack(view[begin:end], word)
            out.extend(_pick_values(raw, self._counts[block], self._fixedsize, local[a:b]))
        return out


class BulkPostings:
    """A posting list at once: ids (sorted, int64), weights (float64, the stored float32
    values) and `values(indices)`, the values of the postings at those indices."""

    __slots__ = ("ids", "values", "weights")

    def __init__(self, ids: Any, weights: Any, values: Any) -> None:
        self.ids = ids
        self.weights = weights
        self.values = values


class ArkhivCodec(W3Codec):  # type: ignore[misc]
    """W3Codec writing and reading ArkhivPostingsWriter's posting blocks (see the module)."""

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        if byteids:  # vector postings: read back by W3PerDocReader with a W3LeafMatcher
            return super().postings_writer(dbfile, byteids=True)
        return ArkhivPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def postings_reader(
        self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None
    ) -> Any:
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return ArkhivLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)
