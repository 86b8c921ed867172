"""The checked workbook package and its parts' bytes, read in bounded memory.

A part is read from its packed bytes (nothing inflated), or inflated a
piece at a time, counting what really comes out: a zip may lie about sizes.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ...limits import Limits, number, size
from ...model import ConsumptionFileError
from ..refusals import SAVE_AS, refuse
from ..sniff import ZIP_MAGIC

SMALL_PART = 32 << 20  # workbook.xml, its relationships, [Content_Types].xml
PIECE = 4 << 20  # inflated bytes scanned at a time
PACKED_STEP = 1 << 18


def part_name(name: str) -> str:
    return name.replace("\\", "/").lower()


@dataclass
class Part:
    info: zipfile.ZipInfo

    @property
    def name(self) -> str:
        return self.info.filename

    @property
    def declared(self) -> int:
        return self.info.file_size


@dataclass
class SheetInfo:
    name: str
    path: str | None  # the zip part calamine reads, None when absent
    state: str  # visible, hidden, veryHidden


@dataclass
class SharedStrings:
    count: int = 0
    longest: int = 0  # bytes of XML of the longest <si>, markup included
    lengths: np.ndarray | None = None


@dataclass
class XlsxPackage:
    data: bytes
    parts: dict[str, Part]
    sheets: list[SheetInfo]
    shared: SharedStrings | None
    limits: Limits

    @property
    def visible_sheets(self) -> list[SheetInfo]:
        return [s for s in self.sheets if s.state == "visible"]

    def part(self, path: str) -> Part | None:
        return self.parts.get(part_name(path))

    def sheet_part_names(self) -> set[str]:
        """The keys in ``parts`` of the sheets' parts."""
        return {part_name(s.path) for s in self.sheets if s.path}


def damaged(detail: str) -> ConsumptionFileError:
    return refuse(f"The .xlsx file is damaged ({detail}): export or download it again.")


def packed_bytes(data: bytes, part: Part) -> memoryview:
    """The part's bytes as packed in the zip (nothing inflated)."""
    info = part.info
    offset = info.header_offset
    header = data[offset : offset + 30]
    if len(header) < 30 or not header.startswith(ZIP_MAGIC):
        raise damaged(f"part {info.filename} is missing")
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    start = offset + 30 + name_length + extra_length
    packed = memoryview(data)[start : start + info.compress_size]
    if len(packed) < info.compress_size:
        raise refuse(
            "The .xlsx file is truncated (it ends inside "
            f"{info.filename}): export or download it again."
        )
    return packed


def inflate(data: bytes, part: Part, limit: int, what: str) -> Iterator[bytes]:
    """The part's inflated bytes, PIECE at a time, from its packed bytes.

    Counts what really comes out (a zip may lie about sizes) and stops with
    ConsumptionFileError past ``limit`` or past the declared size.
    """
    info = part.info
    packed = packed_bytes(data, part)
    declared = info.file_size
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size > limit:
            raise too_big(what, info.compress_size, limit)
        for position in range(0, len(packed), PIECE):
            yield bytes(packed[position : position + PIECE])
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise refuse(
            f"The .xlsx file packs {info.filename} with zip method "
            f"{info.compress_type}, which spreadsheet programs do not use: " + SAVE_AS
        )
    inflater = zlib.decompressobj(-15)
    position = total = 0
    try:
        while not inflater.eof:
            if inflater.unconsumed_tail:
                out = inflater.decompress(inflater.unconsumed_tail, PIECE)
            elif position < len(packed):
                step = packed[position : position + PACKED_STEP]
                position += PACKED_STEP
                out = inflater.decompress(step, PIECE)
            else:
                break
            if out:
                total += len(out)
                if total > limit:
                    raise too_big(what, total, limit, more=True)
                if total > declared:
                    raise damaged(
                        f"{info.filename} unpacks to more than the "
                        f"{number(declared)} bytes it declares"
                    )
                yield out
    except zlib.error as exc:
        raise damaged(f"{info.filename}: {exc}") from None
    if not inflater.eof or total != declared:
        raise damaged(f"{info.filename} is cut short")


def too_big(what, found, limit, more=False):
    at_least = "at least " if more else ""
    return refuse(
        f"The workbook's {what} unpacks to {at_least}{size(found)}, more than "
        f"the {size(limit)} allowed: it is not a consumption file a "
        "distributor sends (a zip bomb?)."
    )


def read_small(package_data, part, what) -> bytes:
    if part.declared > SMALL_PART:
        raise damaged(f"{part.name} declares {size(part.declared)}")
    return b"".join(inflate(package_data, part, SMALL_PART, what))
