"""A chunk of a sheet as a workbook of its own: the workbook's zip with the
chunk as its sheet, built and read as buffers, never joined in Python."""

from __future__ import annotations

import struct
import zlib
from bisect import bisect_right

import numpy as np

from .parts import packed_bytes


def chunk_workbook(package, info, chunk) -> list:
    """The workbook's zip with the chunk as its sheet (stored), the other
    parts as packed, and the other sheets left out."""
    sheet_part = package.part(info.path)
    sheets = package.sheet_part_names()
    entries = []
    for key, part in package.parts.items():
        if part is sheet_part or key in sheets:
            continue
        z = part.info
        raw = packed_bytes(package.data, part)
        entries.append((z.filename, z.compress_type, z.CRC, z.file_size, [raw]))
    crc = 0
    for piece in chunk.pieces:
        crc = zlib.crc32(piece, crc)
    entries.append((sheet_part.info.filename, 0, crc, chunk.size, chunk.pieces))
    return _zip(entries)


def _zip(entries) -> list:
    """A zip of (name, method, crc, size, [packed pieces]) entries, as the
    buffers that joined are the zip."""
    out, directory, offset = [], [], 0
    for name, method, crc, size_, pieces in entries:
        encoded = name.encode("utf-8")
        packed = sum(len(p) for p in pieces)
        fields = (0x800, method, 0, 0x21, crc, packed, size_, len(encoded))
        out += [struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, *fields, 0)]
        out += [encoded, *pieces]
        directory += [
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, *fields, 0, 0, 0, 0, 0, offset
            ),
            encoded,
        ]
        offset += 30 + len(encoded) + packed
    size_ = sum(map(len, directory))
    count = len(entries)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size_, offset, 0)
    return [*out, *directory, end]


class BuffersFile:
    """A read-only binary file of buffers one after the other: calamine
    copies a chunk's zip once, from its pieces, never joined in Python."""

    def __init__(self, buffers):
        self.buffers = [memoryview(b) for b in buffers if len(b)]
        self.starts = np.cumsum([0, *map(len, self.buffers)]).tolist()
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self.position, self.starts[-1])[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, size: int | None = -1) -> bytes:
        end = self.starts[-1]
        if size is not None and size >= 0:
            end = min(end, self.position + size)
        parts = []
        index = max(bisect_right(self.starts, self.position) - 1, 0)
        while self.position < end:
            start, stop = self.starts[index], min(end, self.starts[index + 1])
            parts.append(self.buffers[index][self.position - start : stop - start])
            self.position = stop
            index += 1
        return b"".join(parts)
