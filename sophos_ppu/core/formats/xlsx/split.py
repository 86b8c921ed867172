"""Cutting a sheet's XML into chunks of whole rows, as the scan streams it.

:class:`SheetSplitter` cuts a large sheet's XML into chunks that threads
hand to calamine in parallel. A chunk goes out only once the scan has
checked it and every byte before it, and the sheet so far passes the same
limits as the whole sheet must (they only grow stricter as the scan goes
on): calamine never sees a byte the pre-flight has not checked, nor more
cells than an accepted sheet holds. If the scan then refuses the sheet, the
chunks' results are dropped and the refusal is what the user gets.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass, field

from .scanner import SheetScanner

_ROW_OPEN = re.compile(rb"<(?:[\w.-]+:)?row[\s/>]")
_SHEET_DATA_CLOSE = re.compile(rb"</(?:[\w.-]+:)?sheetData[\s>]")
HEAD_LIMIT = 1 << 20  # the XML before the cells, repeated in every chunk


@dataclass
class SheetChunk:
    """A run of whole rows of a sheet as a worksheet XML of its own: the
    sheet's XML before its cells, the rows, and the end of ``sheetData``
    (which ends calamine's reading). ``pieces`` joined are the XML."""

    index: int
    pieces: list = field(repr=False)

    @property
    def size(self) -> int:
        return sum(len(piece) for piece in self.pieces)


class SheetSplitter:
    """Cuts a sheet's XML into chunks of whole rows while
    :func:`.sheet_scan.scan_sheet` reads it, so that readers can read the
    chunks in parallel and get the cells reading the whole sheet gives.

    A chunk starts at the first row tag past ``chunk_bytes`` of XML, and is
    handed to ``ready(chunk)`` only when the scan has checked it and every
    byte before it, and the sheet so far is within the limits (the checks
    only grow stricter as the scan goes on, so the chunk is no larger than
    a sheet the scan accepts). The rest waits for the end of the scan.

    Splitting stops (``complete`` stays False: read the sheet whole) when a
    cell has no reference (its place would depend on the rows before it),
    or the XML holds markup other than tags (comments, CDATA, DTDs,
    processing instructions: a row tag could hide in them), or its head is
    larger than ``HEAD_LIMIT``, or the scan ends early. Readers must also
    check that the chunks' rows follow each other; see the caller.
    """

    def __init__(self, chunk_bytes: int, ready):
        self.chunk_bytes = max(int(chunk_bytes), 1)
        self.ready = ready
        self.active = True
        self.complete = False
        self.offset = 0  # where the next segment starts in the XML
        self.kept: list[tuple[int, bytes]] = []  # from the current chunk on
        self.head: bytes | None = None
        self.data_start = 0
        self.closing = b""
        self.starts = [0]  # where each chunk starts
        self.ended = False  # past </sheetData>: no more cuts
        self.pending: list[SheetChunk] = []
        self.sent = 0
        self.crc = 0  # of the XML: calamine would check the part's

    def stop(self) -> None:
        self.active = False
        self.kept, self.pending, self.head = [], [], None

    def feed(self, segment: bytes, scanner: SheetScanner, safe: bool) -> None:
        """The next segment, which ``scanner`` has accepted; ``safe``: the
        sheet so far is within the limits."""
        start = self.offset
        self.offset += len(segment)
        if not self.active:
            return
        self.crc = zlib.crc32(segment, self.crc)
        if (
            scanner.unplaced
            or _markup(segment, b"<!") >= 0
            or _instruction(segment, start)
        ):
            self.stop()
            return
        self.kept.append((start, segment))
        if self.head is None:
            if scanner.state != "data":
                if scanner.state == "done" or self.offset > HEAD_LIMIT:
                    self.stop()
                return
            self.data_start = start + scanner.data_offset
            if self.data_start > HEAD_LIMIT:
                self.stop()
                return
            self.head = b"".join(s for _, s in self.kept)[: self.data_start]
            self.closing = b"</" + scanner.prefix + b"sheetData>"
        if not self.ended:
            self._cut(segment, start)
        if safe:
            self._send()

    def _cut(self, segment: bytes, start: int) -> None:
        first = max(self.data_start - start, 0)
        close = _sheet_data_close(segment, first)
        limit = len(segment) if close is None else close
        while True:
            target = max(self.starts[-1] + self.chunk_bytes - start, first)
            if target >= limit:
                break
            found = _ROW_OPEN.search(segment, target, limit)
            if found is None:
                break
            self._close_chunk(start + found.start())
        if close is not None:
            self.ended = True

    def _slice(self, begin: int, end: int) -> list:
        views = []
        for offset, segment in self.kept:
            low, high = max(begin, offset), min(end, offset + len(segment))
            if low < high:
                views.append(memoryview(segment)[low - offset : high - offset])
        return views

    def _close_chunk(self, cut: int) -> None:
        index = len(self.starts) - 1
        pieces = self._slice(self.starts[-1], cut)
        if index:
            pieces.insert(0, self.head)
        pieces.append(self.closing)
        self.pending.append(SheetChunk(index, pieces))
        self.starts.append(cut)
        self.kept = [(o, s) for o, s in self.kept if o + len(s) > cut]

    def _send(self) -> None:
        for chunk in self.pending:
            self.ready(chunk)
            self.sent += 1
        self.pending = []

    def finish(self, crc: int) -> None:
        """The scan accepted the sheet, whose part declares ``crc``: hand
        over the rest."""
        if (
            not self.active
            or self.head is None
            or len(self.starts) < 2
            or self.crc != crc
        ):
            self.stop()
            return
        last = [self.head, *self._slice(self.starts[-1], self.offset)]
        self.pending.append(SheetChunk(len(self.starts) - 1, last))
        self.kept = []
        self._send()
        self.complete = True


def _sheet_data_close(segment: bytes, start: int) -> int | None:
    """Where the first '</sheetData>' tag (any prefix) opens, else None."""
    found = segment.find(b"sheetData", start)
    while found >= 0:
        opening = segment.rfind(b"<", start, found)
        if opening >= 0 and _SHEET_DATA_CLOSE.match(segment, opening):
            return opening
        found = segment.find(b"sheetData", found + 1)
    return None


def _markup(segment: bytes, pair: bytes, start: int = 0) -> int:
    """``segment.find(pair)`` for a '<' and a character that is rare in
    sheets ('!', '?'): memchr for the character, then a look at the byte
    before it."""
    mark = pair[1:]
    found = segment.find(mark, start + 1)
    for _ in range(64):
        if found < 0 or segment[found - 1] == pair[0]:
            return found - 1 if found >= 0 else -1
        found = segment.find(mark, found + 1)
    return segment.find(pair, start)  # the character is common here


def _instruction(segment: bytes, start: int) -> bool:
    """Whether a processing instruction other than the XML declaration
    (which opens the part, after a byte order mark) is in the segment."""
    found = _markup(segment, b"<?")
    if found < 0:
        return False
    declaration = start == 0 and segment[:found] in (b"", codecs.BOM_UTF8)
    return not declaration or _markup(segment, b"<?", found + 2) >= 0
