"""A sheet's cells from calamine: read whole, or, for a large sheet, in
chunks of whole rows read by parallel threads as the scan checks them."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from ...limits import Limits, number
from ...model import ConsumptionFileError
from ..grid import Grid
from ..refusals import short
from .chunk_grid import ChunkGrid
from .chunk_zip import BuffersFile, chunk_workbook
from .sheet_scan import scan_sheet
from .split import SheetSplitter

# Parallel reading of large sheets: calamine releases the GIL while it
# parses, so threads each reading a chunk of whole rows (a worksheet XML of
# its own, in a copy of the workbook's zip with the other parts as packed)
# use every core; the cells are those of the whole sheet, by construction
# (every cell carries its reference, see SheetSplitter) and by
# check (the chunks' rows follow each other; anything else, or any failure,
# reads the sheet whole, as before). calamine reads the shared strings again
# for every chunk, hence chunks of at least SHARED_STRINGS_SHARE times their
# size. On 2 cores, 100 000 rows: 3.6 s read whole, about 2 s in chunks.
PARALLEL_READERS = min(
    4,
    len(os.sched_getaffinity(0))
    if hasattr(os, "sched_getaffinity")
    else os.cpu_count() or 1,
)
CHUNKS_PER_READER = 8  # at most; smaller chunks start sooner, end sooner
CHUNKS_IN_FLIGHT = 2  # per reader: read or waiting, not converted yet
MIN_CHUNK_BYTES = 4 << 20  # sheet XML
SHARED_STRINGS_SHARE = 4  # chunk XML per byte of shared strings (read per chunk)
SPLIT_MAX_BYTES = 256 << 20  # larger sheets are read whole
SPLIT_MAX_OTHER_BYTES = 32 << 20  # other parts, read again for every chunk
_ZIP_LIMIT = 0xFFFFFFFF  # no zip64 in the chunks' packages


def sheet_cells(package, workbook, info, limits: Limits) -> tuple[list | Grid, object]:
    """(rows, scan): the sheet's cells from A1 as calamine gives them (or
    their grid when read in chunks, in parallel, where that pays), and the
    pre-flight's scan."""
    splitter = _splitter(package, info)
    if splitter is None:
        scan = scan_sheet(package, info)
        return _whole_sheet_rows(workbook, info, limits), scan
    scan, rows = _parallel_rows(package, info, limits, splitter)
    if rows is None:
        rows = _whole_sheet_rows(workbook, info, limits)
    return rows, scan


def _parallel_rows(package, info, limits, splitter):
    """(scan, grid or None): the scan hands each chunk over to a thread as
    soon as it has checked it, and converts the chunks read so far when
    ``CHUNKS_IN_FLIGHT`` wait (so that their XML and cells do not pile up);
    None when the chunks cannot stand for the sheet."""
    chunks = ChunkGrid(limits)
    futures = deque()
    with ThreadPoolExecutor(PARALLEL_READERS, "sophos-ppu-xlsx") as pool:

        def ready(chunk):
            futures.append(pool.submit(_read_chunk, package, info, chunk))
            while len(futures) > CHUNKS_IN_FLIGHT * PARALLEL_READERS:
                chunks.add(futures.popleft().result)

        splitter.ready = ready
        try:
            scan = scan_sheet(package, info, splitter)
            if not splitter.complete:
                return scan, None
            while futures:
                chunks.add(futures.popleft().result)
            return scan, chunks.grid()
        finally:
            for future in futures:
                future.cancel()


def _whole_sheet_rows(workbook, info, limits: Limits) -> list:
    sheet = workbook.get_sheet_by_name(info.name)
    # What to_python builds: rows x columns from A1 (the scan made sure).
    if sheet.total_height * sheet.total_width > max(limits.max_cells, 1):
        raise ConsumptionFileError(
            f"Sheet '{short(info.name)}' spans "
            f"{number(sheet.total_height)} rows x "
            f"{number(sheet.total_width)} columns, more than the "
            f"{number(limits.max_cells)} cells allowed."
        )
    return sheet.to_python(skip_empty_area=False)


def _splitter(package, info):
    """A SheetSplitter when the sheet is worth reading in chunks, else None."""
    part = package.part(info.path or "")
    if PARALLEL_READERS < 2 or part is None:
        return None
    if not 2 * MIN_CHUNK_BYTES <= part.declared <= SPLIT_MAX_BYTES:
        return None
    sheets = package.sheet_part_names()
    others = [p for key, p in package.parts.items() if key not in sheets]
    if (
        len(others) > 10_000
        or sum(p.declared for p in others) > SPLIT_MAX_OTHER_BYTES
        or sum(p.info.compress_size for p in others) + part.declared > _ZIP_LIMIT // 2
    ):
        return None
    shared = package.part("xl/sharedStrings.xml")
    chunk_bytes = max(
        MIN_CHUNK_BYTES,
        SHARED_STRINGS_SHARE * (shared.declared if shared else 0),
        -(-part.declared // (CHUNKS_PER_READER * PARALLEL_READERS)),
    )
    return SheetSplitter(chunk_bytes, None)


def _read_chunk(package, info, chunk):
    """The CalamineSheet of one chunk (in a worker thread)."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(
        BuffersFile(chunk_workbook(package, info, chunk))
    )
    return workbook.get_sheet_by_name(info.name)
