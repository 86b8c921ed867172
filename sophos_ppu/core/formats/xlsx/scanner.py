"""Where calamine places each cell of a sheet's XML, streamed a segment at a
time: the sheet's last row and column holding a cell, the cell that
stretches them, references beyond Excel's grid, hidden rows, shared-string
cells.

Speed. The common writers (Excel, openpyxl, LibreOffice) write every cell as
``<c r="B7" ...>``, rows and cells in order. For each 4 MiB piece one
compiled regular expression confirms that every cell tag is of that form,
one column letter and a row no greater than the last cell's (so the last
cell's row is the piece's largest), and memchr-speed ``find`` calls look for
hidden rows and prefixed elements; only pieces where they find something
else are counted (no references at all) or tokenised tag by tag (anything
else: columns past Z, reordered attributes, rows out of order...). Columns
are then only known to be <= Z; when that bound would matter, the sheet is
scanned again exactly. On a 100 000-row, 119 MB sheet the pre-flight takes
about 0.4 s, in which the threads already read the first chunks
(``scripts/benchmark_read.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ...columns import column_letter
from ...limits import EXCEL_MAX_ROWS
from ..refusals import refuse, short
from .parts import damaged
from .xml_bytes import (
    CELL_ATTRIBUTE,
    CELL_REF,
    ERROR_VALUE,
    ROW_OR_CELL_TAG,
    column_number,
    tag_attributes,
    unescape,
)

EXCEL_MAX_COLUMNS = 16_384  # XFD


def _greater(digits: str) -> bytes:
    """Regex for the integers of len(digits) digits greater than ``digits``,
    as a trie so that each digit is compared once."""
    first, rest = int(digits[0]), len(digits) - 1
    options = []
    if first < 9:
        options.append(b"[%d-9]" % (first + 1) + (b"[0-9]{%d}" % rest if rest else b""))
    if rest:
        options.append(digits[0].encode() + _greater(digits[1:]))
    return b"(?:" + b"|".join(options) + b")" if options else b"(?!)"


@lru_cache(maxsize=64)
def _odd_cell(prefix: bytes, limit: int):
    """A cell tag other than '<c r="B7"...' with one letter and a row from 1 to
    ``limit`` written without leading zeros: an error cell is not odd, a cell
    past ``limit``, past column Z or without a reference is."""
    if limit < 1:
        return re.compile(b"<" + re.escape(prefix) + rb"c[\s>/]")
    digits = str(limit)
    return re.compile(
        b"<"
        + re.escape(prefix)
        + b'c(?! r="[A-Z](?=[1-9][0-9]{0,%d}+")(?!' % (len(digits) - 1)
        + _greater(digits)
        + rb'"))[\s>/]'
    )


_FOREIGN_PREFIX = re.compile(rb":(?:c|row)[\s>/]")
_R_ATTRIBUTE = re.compile(rb"r\s*=")
_EMPTY_ROW = re.compile(rb"<row\b[^>]*/>")
_ROW_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?row(?=[\s/>])([^>]*)>")
_ROW_REF = re.compile(rb"[A-Za-z]*([0-9]+)")
_SHEET_DATA = re.compile(rb"<(?:([\w.-]+):)?sheetData\b[^>]*?(/?)>")
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\sref\s*=\s*[\"']([^\"']*)")


class ScanRestart(Exception):
    """A cell without a reference after rows calamine counts but we skipped."""


@dataclass
class SheetScan:
    """What :func:`.sheet_scan.scan_sheet` found in a sheet's XML (1-based numbers)."""

    name: str
    rows: int = 0  # the last row holding a cell
    columns: int = 0  # the last column holding a cell (26 may stand for <= Z)
    exact_columns: bool = True
    hidden_rows: set[int] = field(default_factory=set)
    dimension: str | None = None
    xml_bytes: int = 0
    shared_cells: int = 0
    far_cell: tuple[int, int] | None = None  # the cell that stretched it last
    prefix: bytes = b""
    path: str | None = None

    @property
    def cells(self) -> int:
        """Rows x columns from A1: what the reader allocates."""
        return self.rows * self.columns


def _where(what: str, letters: bytes, digits: bytes) -> str:
    shown = digits.decode()
    if len(shown) > 20:
        shown = shown[:20] + "…"
    return f"{what} {letters.decode().upper()[:10]}{shown}"


class SheetScanner:
    """Stateful scan of one sheet's cell XML; see :func:`.sheet_scan.scan_sheet`.

    Positions follow calamine: a row tag with ``r`` sets the row, ``</row>``
    moves to the next, a cell with ``r`` sets the column, any cell moves one
    column right; cells without ``r`` take the current position.
    """

    def __init__(self, package, sheet, count_shared, exact=False, errors=None):
        self.package = package
        self.limits = package.limits
        self.scan = SheetScan(sheet.name, path=sheet.path)
        self.count_shared = count_shared
        self.exact = exact
        self.has_shared_strings = package.shared is not None
        self.prefix: bytes | None = None
        self.state = "head"  # head -> data (-> done for <sheetData/>)
        self.row_index: int | None = 0  # calamine's 0-based row; None: unknown
        self.col_index = 0
        self.pending_error: tuple[int, int] | None = None
        # (columns, list): error cells of those columns go to the list
        self.errors = errors
        self.first = True
        #: A cell without a reference was met (placed by counting).
        self.unplaced = False
        #: Where the cell data starts in the segment that opened sheetData.
        self.data_offset: int | None = None

    def cut(self, buffer: bytes) -> int:
        """Where a segment may end: before the last cell or row tag, so that a
        cell (and an error cell's value) stays in one segment."""
        if self.prefix is None:
            return buffer.rfind(b"<")
        prefix = self.prefix
        best = buffer.rfind(b"<" + prefix + b"c ")
        if best < 0:
            best = buffer.rfind(b"<" + prefix + b"c>")
        else:  # only the tail after the last plain cell needs a look
            best = max(best, buffer.rfind(b"<" + prefix + b"c>", best))
        best = max(best, buffer.rfind(b"<" + prefix + b"row", max(best, 0)))
        return best if best > 0 else buffer.rfind(b"<")

    def feed(self, segment: bytes) -> None:
        if self.state == "head":
            segment = self._head(segment)
            if segment is None or self.state != "data":
                return
        if self.pending_error is not None:
            self._resolve_error(segment, 0)  # its value opens this segment
        if self.exact or not (self._fast(segment) or self._counted(segment)):
            self._slow(segment)

    def _head(self, segment: bytes):
        if self.scan.dimension is None:
            found = _DIMENSION.search(segment)
            if found:
                self.scan.dimension = found[1].decode("ascii", "replace")[:40]
                for ref in found[1].split(b":"):
                    parts = CELL_REF.fullmatch(ref.strip())
                    if parts:
                        self._check_ref(parts[1], parts[2], "dimension")
        match = _SHEET_DATA.search(segment)
        if match is None:
            return None
        self.prefix = (match[1] + b":") if match[1] else b""
        self.scan.prefix = self.prefix
        self.state = "done" if match[2] else "data"
        self.data_offset = match.end()
        return segment[match.end() :]

    def _check_ref(self, letters: bytes, digits: bytes, what: str) -> tuple[int, int]:
        """(row, column) of a reference, refused beyond Excel's grid."""
        column = column_number(letters) if len(letters) <= 4 else 10**9
        row = int(digits) if len(digits) <= 8 else 10**9
        if row > EXCEL_MAX_ROWS or column > EXCEL_MAX_COLUMNS or row < 1:
            raise refuse(
                f"Sheet '{short(self.scan.name)}' has a "
                f"{_where(what, letters, digits)}, beyond what Excel can hold "
                "(rows 1 to 1 048 576, columns A to XFD): the workbook is damaged "
                "or was not written by a spreadsheet program."
            )
        return row, column

    # -- fast path: plain cell tags only -------------------------------------

    def _fast(self, segment: bytes) -> bool:
        prefix = self.prefix
        cell_open = b"<" + prefix + b'c r="'
        last_cell = segment.rfind(cell_open)
        top = self.scan.rows
        if last_cell >= 0:
            start = last_cell + len(cell_open) + 1
            end = segment.find(b'"', start, start + 9)
            digits = segment[start:end] if end > 0 else b""
            if not digits.isdigit() or len(digits) > 7:
                return False
            top = max(top, int(digits))
        if top > EXCEL_MAX_ROWS or _odd_cell(prefix, top).search(segment):
            return False
        if prefix:
            own = segment.count(b"<" + prefix + b"c") + segment.count(
                b"</" + prefix + b"c"
            )
            rows = segment.count(b"<" + prefix + b"row") + segment.count(
                b"</" + prefix + b"row"
            )
            if segment.count(b":c") != own or segment.count(b":row") != rows:
                return False
        elif segment.find(b":") >= 0 and _FOREIGN_PREFIX.search(segment):
            return False
        # Every cell here is <c r="X<n>" ...> with n <= top: one letter.
        if not self.has_shared_strings and self.first and b't="s"' in segment:
            self._no_shared_strings()  # later ones: calamine's panic, caught
        self.first = False
        if self.count_shared:
            self.scan.shared_cells += segment.count(b't="s"')
        if last_cell >= 0:
            self.scan.rows = top
            self.scan.columns = max(self.scan.columns, 26)
            self.scan.exact_columns = False
        if segment.find(b"hidden") >= 0:
            for match in _ROW_TAG.finditer(segment):
                self._row_tag(match[1], match[2])
        else:
            self._count_rows(segment)
        row_close = b"</" + prefix + b"row>"
        last_close = segment.rfind(row_close)
        if last_cell > last_close:
            position = last_cell + len(cell_open)
            self.col_index = column_number(segment[position : position + 1])
        elif last_close >= 0:
            self.col_index = 0
        return True

    def _count_rows(self, segment: bytes) -> None:
        """calamine's row counter after a segment, from its last row tag."""
        prefix = self.prefix
        row_open = b"<" + prefix + b'row r="'
        row_close = b"</" + prefix + b"row>"
        last_plain = segment.rfind(row_open)
        last_any = segment.rfind(b"<" + prefix + b"row")
        if last_any < 0:
            if self.row_index is not None:
                self.row_index += segment.count(row_close)
            return
        start = last_plain + len(row_open)
        end = segment.find(b'"', start, start + 9)
        digits = segment[start:end] if last_plain == last_any and end > 0 else b""
        if digits.isdigit() and len(digits) <= 7:
            self.row_index = int(digits) - 1 + segment.count(row_close, last_plain)
        else:
            self.row_index = None  # only matters for a later cell without r

    def _row_tag(self, closing: bytes, attrs_text: bytes) -> None:
        if closing:
            if self.row_index is not None:
                self.row_index += 1
            self.col_index = 0
            return
        attrs = tag_attributes(attrs_text)
        ref = attrs.get(b"r")
        if ref is not None:
            found = _ROW_REF.fullmatch(ref.strip())
            if not found:
                raise damaged(f"row reference '{short(unescape(ref))}'")
            row, _ = self._check_ref(b"", found[1], "row")
            self.row_index = row - 1
        if attrs.get(b"hidden", b"").strip() in (b"1", b"true"):
            if self.row_index is None:
                raise ScanRestart
            if self.row_index < EXCEL_MAX_ROWS:  # no cell can lie further
                self.scan.hidden_rows.add(self.row_index + 1)
        if attrs_text.rstrip().endswith(b"/"):
            if self.row_index is not None:
                self.row_index += 1
            self.col_index = 0

    # -- counted path: no references at all, cells placed by counting ---------

    def _counted(self, segment: bytes) -> bool:
        """A segment without any r attribute, hidden row, self-closing row or
        foreign prefix: cells per row counted between '</row>' tags."""
        prefix = self.prefix
        if (
            prefix
            or self.row_index is None
            or _R_ATTRIBUTE.search(segment)
            or segment.find(b"hidden") >= 0
            or _EMPTY_ROW.search(segment)
            or (segment.find(b":") >= 0 and _FOREIGN_PREFIX.search(segment))
        ):
            return False
        pieces = segment.split(b"</row>")
        counts = [piece.count(b"<c") for piece in pieces]
        first = self.col_index + counts[0]
        widest = max(first, max(counts[1:], default=0))
        last = max((k for k, n in enumerate(counts) if n), default=None)
        if last is not None:
            self.unplaced = True
            row = self.row_index + 1 + last
            if row > EXCEL_MAX_ROWS or widest > EXCEL_MAX_COLUMNS:
                return False  # the slow path names the cell
            if self.first and not self.has_shared_strings and b't="s"' in segment:
                self._no_shared_strings()
            if row > self.scan.rows or widest > self.scan.columns:
                self.scan.far_cell = (row, widest)
            self.scan.rows = max(self.scan.rows, row)
            self.scan.columns = max(self.scan.columns, widest)
        if self.count_shared:
            self.scan.shared_cells += segment.count(b't="s"')
        self.first = False
        self.row_index += len(pieces) - 1
        self.col_index = first if len(pieces) == 1 else counts[-1]
        return True

    # -- slow path: tag by tag ------------------------------------------------

    def _slow(self, segment: bytes) -> None:
        scan = self.scan
        for match in ROW_OR_CELL_TAG.finditer(segment):
            closing, name, attrs_text = match.groups()
            if name != b"c":
                self._row_tag(closing, attrs_text)
                continue
            ref = kind = None
            if b"=" in attrs_text:
                for attr in CELL_ATTRIBUTE.finditer(attrs_text):
                    value = attr[2] if attr[3] is None else attr[3]
                    if attr[1] == b"r":
                        ref = value
                    else:
                        kind = value
            if ref is not None:
                found = CELL_REF.fullmatch(ref.strip())
                if not found:
                    raise damaged(f"cell reference '{short(unescape(ref))}'")
                row, column = self._check_ref(found[1], found[2], "cell")
                self.col_index = column - 1
            else:
                self.unplaced = True
                if self.row_index is None:
                    raise ScanRestart
                row, column = self.row_index + 1, self.col_index + 1
                if row > EXCEL_MAX_ROWS or column > EXCEL_MAX_COLUMNS:
                    self._check_ref(
                        column_letter(column - 1).encode(), str(row).encode(), "cell"
                    )
            self.col_index += 1
            if kind == b"s":
                if not self.has_shared_strings:
                    self._no_shared_strings()
                if self.count_shared:
                    scan.shared_cells += 1
            if row > scan.rows or column > scan.columns:
                scan.far_cell = (row, column)
                scan.rows = max(scan.rows, row)
                scan.columns = max(scan.columns, column)
            if (
                kind == b"e"
                and self.errors is not None
                and column in self.errors[0]
                and not attrs_text.rstrip().endswith(b"/")
            ):
                self.pending_error = (row, column)
                self._resolve_error(segment, match.end())

    def _resolve_error(self, segment: bytes, start: int) -> None:
        found = ERROR_VALUE.match(segment, start)
        if found:
            text = unescape(found[1]).strip()
            if text:
                self.errors[1].append((*self.pending_error, text[:20]))
            self.pending_error = None
        elif start == 0 or segment.find(b"<", start) >= 0:
            self.pending_error = None  # no value: calamine sees an empty cell

    def _no_shared_strings(self):
        raise damaged(
            "its text cells point into a shared-strings table "
            "(xl/sharedStrings.xml) that the file does not contain"
        )
