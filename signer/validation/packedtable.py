"""clef's 4-byte selector database in a compact file: read lazily, looked up by block.

clef embeds 4byte.directory's selectors (268,621 entries, 11 MB of JSON in go-ethereum v1.17.3).
The file ``data/4byte.bin`` (written by ``scripts/gen_4byte.py``) stores only the signatures,
sorted by selector and cut into blocks of ``BLOCK_ENTRIES``; each block is raw-deflated against
one shared dictionary. A selector is never stored: it is recomputed as ``keccak(signature)[:4]``
when a block is decoded, so an entry that does not hash to its selector cannot be served.

Layout (integers are unsigned 32-bit big-endian)::

    magic "SW4BYTE1" | entries | blocks | dictionary length | dictionary
    | blocks x (first selector of the block, end offset of the block in the data)
    | data: the deflated blocks, each the block's signatures joined by "\\n"

Opening reads the header and the 17 kB index; the data stays in an mmap until a lookup touches
its block, and decoded blocks are kept in a small LRU cache.
"""

from __future__ import annotations

import bisect
import mmap
import struct
import zlib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

from signer.codecs.hexutil import keccak256

MAGIC = b"SW4BYTE1"
BLOCK_ENTRIES = 128
_HEADER = struct.Struct(">III")
_INDEX_ROW = struct.Struct(">II")
_DECODED_BLOCKS_KEPT = 256  # ≈ 256 x 128 entries: a fraction of the table, a few MB at most


class PackedTableError(Exception):
    """The packed file is not one this reader wrote."""


class PackedSelectorTable(Mapping[str, str]):
    """A read-only ``{"a9059cbb": "transfer(address,uint256)"}`` mapping over a packed file."""

    def __init__(self, blob: bytes | mmap.mmap) -> None:
        if blob[: len(MAGIC)] != MAGIC:
            raise PackedTableError("not a packed 4byte table (bad magic)")
        offset = len(MAGIC)
        self._entries, blocks, dict_len = _HEADER.unpack_from(blob, offset)
        offset += _HEADER.size
        self._zdict = bytes(blob[offset : offset + dict_len])
        offset += dict_len
        rows = [_INDEX_ROW.unpack_from(blob, offset + i * _INDEX_ROW.size) for i in range(blocks)]
        self._firsts = [first for first, _ in rows]
        self._ends = [end for _, end in rows]
        self._data_start = offset + blocks * _INDEX_ROW.size
        if self._data_start + (self._ends[-1] if rows else 0) > len(blob):
            raise PackedTableError("packed 4byte table is truncated")
        self._blob = blob
        self._block = lru_cache(maxsize=_DECODED_BLOCKS_KEPT)(self._decode_block)

    @classmethod
    def open(cls, path: Path) -> PackedSelectorTable:
        with path.open("rb") as handle:
            return cls(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))

    def __len__(self) -> int:
        return int(self._entries)

    def __getitem__(self, key: str) -> str:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        try:
            selector = int(key, 16) if len(key) == 8 else -1
        except ValueError:
            return default
        block = bisect.bisect_right(self._firsts, selector) - 1
        if selector < 0 or block < 0:
            return default
        return self._block(block).get(key, default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        for block in range(len(self._firsts)):
            yield from self._decode_block(block)

    def _decode_block(self, block: int) -> dict[str, str]:
        start = self._data_start + (self._ends[block - 1] if block else 0)
        end = self._data_start + self._ends[block]
        inflater = zlib.decompressobj(-15, zdict=self._zdict)
        text = (inflater.decompress(self._blob[start:end]) + inflater.flush()).decode("utf-8")
        return {keccak256(sig.encode())[:4].hex(): sig for sig in text.split("\n")}


def pack(table: Mapping[str, str], zdict: bytes) -> bytes:
    """The packed form of ``table``, whose keys must be keccak(signature)[:4] in hex."""
    rows = sorted((int(key, 16), sig) for key, sig in table.items())
    index: list[bytes] = []
    data: list[bytes] = []
    size = 0
    for first in range(0, len(rows), BLOCK_ENTRIES):
        chunk = rows[first : first + BLOCK_ENTRIES]
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
        packed = deflater.compress("\n".join(sig for _, sig in chunk).encode("utf-8")) + deflater.flush()
        data.append(packed)
        size += len(packed)
        index.append(_INDEX_ROW.pack(chunk[0][0], size))
    header = MAGIC + _HEADER.pack(len(rows), len(index), len(zdict)) + zdict
    return header + b"".join(index) + b"".join(data)
