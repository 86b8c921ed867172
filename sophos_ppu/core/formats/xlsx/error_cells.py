"""Finding the cells that hold an Excel error, which calamine hands over empty."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .parts import SheetInfo, XlsxPackage
from .scanner import SheetScan, SheetScanner
from .xml_bytes import (
    CELL_ATTRIBUTE,
    CELL_REF,
    ERROR_VALUE,
    ROW_OR_CELL_TAG,
    before_last_cell,
    column_number,
    unescape,
    xml_segments,
)

_ERROR_TYPE = re.compile(rb"""\st\s*=\s*["']e["']""")


def sheet_error_cells(
    package: XlsxPackage, scan: SheetScan, columns: set[int]
) -> Iterator[tuple[int, int, str]]:
    """(row, column, "#N/A") of the cells of ``columns`` holding an Excel error.

    The sheet scan leaves them out (calamine hands error cells over as empty
    strings); the reader asks only when it meets empty cells where values are
    expected, so clean files never pay for this pass. Nothing is gathered:
    errors are yielded a segment at a time.
    """
    part = package.part(scan.path) if scan.path else None
    if part is None or not columns:
        return
    cut = before_last_cell(scan.prefix)
    limit = package.limits.max_inflated_bytes
    for segment in xml_segments(package, part, limit, "sheet", cut):
        found = []
        for quoted in (b'"e"', b"'e'"):
            position = segment.find(quoted)
            while position >= 0:
                start = segment.rfind(b"<", 0, position)
                end = segment.find(b">", position)
                tag = segment[start : end + 1] if start >= 0 and end > 0 else b""
                match = ROW_OR_CELL_TAG.fullmatch(tag)
                if match and match[2] == b"c" and _ERROR_TYPE.search(match[3]):
                    ref = next(
                        (
                            a[2] if a[3] is None else a[3]
                            for a in CELL_ATTRIBUTE.finditer(match[3])
                            if a[1] == b"r"
                        ),
                        None,
                    )
                    parts = CELL_REF.fullmatch(ref.strip()) if ref else None
                    if parts is None:  # placed by counting: scan exactly
                        yield from _counted_errors(package, scan, part, columns)
                        return
                    column = column_number(parts[1])
                    value = ERROR_VALUE.match(segment, end + 1)
                    if column in columns and value and value[1].strip():
                        text = unescape(value[1]).strip()[:20]
                        found.append((int(parts[2]), column, text))
                position = segment.find(quoted, position + 1)
        yield from found


def _counted_errors(package, scan, part, columns):
    sink: list[tuple[int, int, str]] = []
    sheet = SheetInfo(scan.name, scan.path, "visible")
    scanner = SheetScanner(package, sheet, False, exact=True, errors=(columns, sink))
    limit = package.limits.max_inflated_bytes
    for segment in xml_segments(package, part, limit, "sheet", scanner.cut):
        scanner.feed(segment)
        yield from sink
        sink.clear()
