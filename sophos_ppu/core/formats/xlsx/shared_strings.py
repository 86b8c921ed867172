"""Scanning the shared-strings table: no text longer than any cell holds, no
more strings than ``max_cells``, and the length of each string for later."""

from __future__ import annotations

import re

import numpy as np

from ...limits import number
from ..refusals import refuse
from .parts import Part, SharedStrings, XlsxPackage
from .xml_bytes import xml_segments


def _last_lt(buffer: bytes) -> int:
    return buffer.rfind(b"<")


def _positions(segment: bytes, needle: bytes) -> np.ndarray:
    """Offsets of ``needle`` in ``segment`` (vectorised)."""
    view = np.frombuffer(segment, dtype=np.uint8)
    size_ = len(view) - len(needle) + 1
    if size_ <= 0:
        return np.empty(0, dtype=np.int64)
    found = view[:size_] == needle[0]
    for index in range(1, len(needle)):
        found &= view[index : index + size_] == needle[index]
    return np.flatnonzero(found)


def scan_shared_strings(package: XlsxPackage, part: Part) -> SharedStrings:
    """Check the shared strings; keep each one's XML length for later.

    calamine loads the whole table: more strings than ``max_cells`` (which
    could not all be used) is refused as it is counted.
    """
    limits = package.limits
    lengths, count, previous, offset, prefix = [], 0, None, 0, None
    width = np.uint32 if limits.max_inflated_bytes < 2**32 else np.uint64
    for segment in xml_segments(
        package, part, limits.max_inflated_bytes, "shared strings", _last_lt
    ):
        if prefix is None:
            match = re.search(rb"<(?:([\w.-]+):)?sst\b", segment)
            prefix = (match[1] + b":") if match and match[1] else b""
        found = _positions(segment, b"<" + prefix + b"si")
        if len(found):
            # '<si>', '<si ' or '<si/>', not '<sic...'
            view = np.frombuffer(segment, dtype=np.uint8)
            after = found + len(prefix) + 3
            found = found[after < len(view)]
            following = view[after[after < len(view)]]
            found = found[
                (following == ord(">"))
                | (following == ord(" "))
                | (following == ord("/"))
            ]
        if len(found):
            starts = found + offset
            if previous is not None:
                starts = np.insert(starts, 0, previous)
            lengths.append(np.diff(starts).astype(width))
            previous = int(starts[-1])
            count += len(found)
            if count > limits.max_cells:
                raise refuse(
                    f"The workbook's shared-strings table holds more than "
                    f"{number(limits.max_cells)} texts, more than the cells a "
                    "sheet may hold: it is not a consumption file a distributor "
                    "sends."
                )
        offset += len(segment)
    if previous is not None:
        lengths.append(np.array([offset - previous], dtype=width))
    table = np.concatenate(lengths) if lengths else np.empty(0, dtype=width)
    longest = int(table.max()) if len(table) else 0
    return SharedStrings(len(table), longest, table)
