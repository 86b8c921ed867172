"""Refusing a sheet when reading it would not be safe.

:func:`scan_sheet` streams a sheet's XML (raw deflate of the packed bytes,
so the *actual* inflated size is counted, not the declared one) in 4 MiB
pieces, never holding the sheet, through a :class:`.scanner.SheetScanner`:
Excel's own limits (row 1 048 576, column XFD), ``max_rows`` (stopping as
soon as it is passed), the used range, runs of text no cell holds, and the
text its shared-string cells would repeat.

Sparse sheets. A sheet with a few cells far apart (A1 and XFD1048576) is
refused, not read another way. Calamine, and then Python, build a dense grid
from A1 to the last row and column, so what a sheet costs to read is rows x
columns, not the cells it holds. A used range larger than ``max_cells``, or
larger than 8 times the cells the sheet could possibly hold (its XML size /
12 bytes, the smallest cell with a value) and over a million cells, is
refused with the cell that stretches it, which the user can delete in a
minute. Sophos exports are dense tables; reading sparse sheets with a second,
streaming xlsx reader would mean two readers whose dates, numbers and
strings must agree cell for cell with what ops see in the import, for files
nobody sends on purpose.
"""

from __future__ import annotations

import numpy as np

from ...columns import column_letter
from ...limits import Limits, number, size, too_many_rows
from ..refusals import refuse, short
from .parts import Part, SheetInfo, XlsxPackage, damaged
from .scanner import ScanRestart, SheetScan, SheetScanner
from .split import SheetSplitter
from .xml_bytes import SHARED_STRING_INDEX, before_last_cell, xml_segments

MIN_CELL_BYTES = 12  # '<c><v>1</v></c>' is 15 bytes: the smallest cell
SPARSE_FACTOR = 8
SPARSE_FLOOR = 1_000_000  # used ranges this small are always fine


def scan_sheet(
    package: XlsxPackage, sheet: SheetInfo, splitter: SheetSplitter | None = None
) -> SheetScan:
    """Stream one sheet's XML and refuse it when reading it would not be safe.

    Raises :class:`ConsumptionFileError` for cells beyond Excel's grid, more
    rows than ``max_rows``, a used range over ``max_cells`` or far sparser
    than the sheet (see the module doc), texts no cell holds, shared text
    repeated past ``max_inflated_bytes``; returns the hidden rows (and where
    to look for error cells: :func:`.error_cells.sheet_error_cells`).

    ``splitter`` (:class:`.split.SheetSplitter`) cuts the XML into chunks
    of whole rows as it is scanned, for readers working in parallel.
    """
    limits = package.limits
    part = package.part(sheet.path) if sheet.path else None
    if part is None:
        if splitter is not None:
            splitter.stop()
        return SheetScan(sheet.name)
    shared = package.shared
    # Shared text is counted only when it could matter: cells x longest text.
    possible_cells = part.declared // MIN_CELL_BYTES + 1
    count_shared = bool(
        shared
        and shared.longest * possible_cells + part.declared > limits.max_inflated_bytes
    )
    scan = _run(package, sheet, part, count_shared, exact=False, splitter=splitter)
    if not scan.exact_columns and (scan.cells > limits.max_cells or _too_sparse(scan)):
        scan = _run(package, sheet, part, count_shared, exact=True)
    _check_range(scan, limits)
    if count_shared:
        _check_shared_text(package, part, scan)
    if splitter is not None:
        splitter.finish(part.info.CRC)
    return scan


def _run(package, sheet, part, count_shared, exact, splitter=None) -> SheetScan:
    limits = package.limits
    scanner = SheetScanner(package, sheet, count_shared, exact)
    what = f"sheet '{short(sheet.name)}'"
    try:
        for segment in xml_segments(
            package, part, limits.max_inflated_bytes, what, scanner.cut
        ):
            scanner.feed(segment)
            if scanner.state == "done" or scanner.scan.rows > limits.max_rows:
                if splitter is not None:
                    splitter.stop()
                break
            if splitter is not None:
                splitter.feed(
                    segment,
                    scanner,
                    safe=not count_shared
                    and _within_limits(scanner.scan, limits, part.declared),
                )
    except ScanRestart:
        if exact:  # pragma: no cover - exact scans know every row
            raise
        if splitter is not None:
            splitter.stop()
        return _run(package, sheet, part, count_shared, exact=True)
    scan = scanner.scan
    scan.xml_bytes = part.declared
    return scan


def _too_sparse(scan: SheetScan) -> bool:
    return _sparse(scan.cells, scan.xml_bytes)


def _sparse(cells: int, xml_bytes: int) -> bool:
    possible = xml_bytes // MIN_CELL_BYTES + 1
    return cells > max(SPARSE_FLOOR, SPARSE_FACTOR * possible)


def _within_limits(scan: SheetScan, limits: Limits, xml_bytes: int) -> bool:
    """Whether the sheet so far passes :func:`_check_range` (which only ever
    grows stricter as the scan goes on)."""
    cells = scan.cells
    return (
        scan.rows <= limits.max_rows
        and cells <= limits.max_cells
        and not _sparse(cells, xml_bytes)
    )


def _check_range(scan: SheetScan, limits: Limits) -> None:
    if not scan.cells:
        return
    used = f"A1:{column_letter(scan.columns - 1)}{scan.rows}"
    far = ""
    if scan.far_cell and scan.exact_columns:
        row, column = scan.far_cell
        far = f", stretched by cell {column_letter(column - 1)}{row}"
    if _too_sparse(scan):
        raise refuse(
            f"Sheet '{short(scan.name)}' spans {used}{far}: "
            f"{number(scan.cells)} cells, far more than its "
            f"{size(scan.xml_bytes)} of cell data can fill (a stray value far "
            "from the data?). Delete the rows and columns beyond the data in "
            "Excel and save the file again."
        )
    if scan.rows > limits.max_rows:
        raise refuse(too_many_rows(f"Sheet '{short(scan.name)}'", limits))
    if scan.cells > limits.max_cells:
        raise refuse(
            f"Sheet '{short(scan.name)}' spans {used}{far}: "
            f"{number(scan.cells)} cells, more than the "
            f"{number(limits.max_cells)} allowed. Split the file or delete the "
            "columns beyond the data."
        )


def _check_shared_text(package: XlsxPackage, part: Part, scan: SheetScan) -> None:
    """Text the sheet's shared-string cells repeat, exact when it matters."""
    shared, limits = package.shared, package.limits
    budget = limits.max_inflated_bytes - part.declared
    if scan.shared_cells * shared.longest <= budget:
        return
    cut = before_last_cell(scan.prefix)
    lengths, total, matched = shared.lengths, 0, 0
    for segment in xml_segments(package, part, limits.max_inflated_bytes, "sheet", cut):
        found = SHARED_STRING_INDEX.findall(segment)
        if found:
            indexes = np.array([int(i) if len(i) < 12 else -1 for i in found])
            if indexes.min() < 0 or indexes.max() >= len(lengths):
                raise damaged(
                    "a text cell points past the end of its shared-strings table"
                )
            total += int(lengths[indexes].sum())
            matched += len(indexes)
        if total > budget:
            break
    total += max(0, scan.shared_cells - matched) * shared.longest
    if total > budget:
        raise refuse(
            f"Sheet '{short(scan.name)}' repeats its shared texts into more "
            f"than {size(limits.max_inflated_bytes)} of text (the limit for what "
            "a workbook unpacks to): it is not a consumption file a distributor "
            "sends."
        )
