"""From a file (path or bytes) to grids of raw cells, one per sheet.

A grid holds a sheet's cells column by column (object arrays with one entry
per spreadsheet row, blank rows included, so that row numbers stay those the
user sees) and the 1-based row numbers beside them. Cells keep the types the
file gives: text, numbers, dates for Excel; text only for CSV. Excel error
cells arrive as their text ("#N/A"); rows hidden in the workbook are listed
in ``Grid.hidden_rows``. Only visible sheets are read.

Nothing reaches a reader library before :mod:`.preflight` has looked at the
bytes (see there): what the file really is, and for .xlsx whether reading it
is safe. Any failure inside a reader library, including the ``BaseException``
panics of python-calamine and ``MemoryError``, becomes one
:class:`ConsumptionFileError`.

- .xlsx/.xlsm: python-calamine, called directly. pandas' ``read_excel(engine=
  "calamine")`` wraps the same reader but converts every cell in Python and
  runs its text parser over the result: on 100 000 rows x 22 columns that
  took 4.1 s against 2.4 s here, for the same cells. A large sheet (from
  8 MB of XML, some 7 000 rows) is read in chunks of whole rows by parallel
  threads as the pre-flight checks them (calamine parses without the GIL):
  see ``PARALLEL_READERS`` below. Each chunk's cells are converted and
  factorised (:meth:`Grid.factorize`) while the threads read the next.
- .xls: xlrd, called directly with ``formatting_info`` (hidden rows need
  it); date cells become datetimes in the workbook's date mode, error cells
  their text.
- .csv/.txt: decoded as UTF-8 (BOM or not), UTF-16 (BOM or not: see
  :func:`utf16_without_bom`), else Windows-1252 and finally Latin-1; the
  delimiter (``,`` ``;`` tab ``|``) is the one under which a header row is
  recognised, an Excel ``sep=`` line wins. Row numbers are physical line
  numbers. A quote left open (which would swallow the rows after it into
  one value) refuses the file, naming the line where the quote starts.

The extension decides the format, except that the bytes win when they
plainly say otherwise (a zip is .xlsx, an OLE2 container is .xls), since
mis-named exports are common.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import struct
import zlib
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import preflight
from .columns import HEADER_SCAN_ROWS, find_header_row
from .limits import DEFAULT_LIMITS, Limits, number, size, too_many_rows
from .model import ConsumptionFileError

ZIP_MAGIC = preflight.ZIP_MAGIC
OLE2_MAGIC = preflight.OLE2_MAGIC
EXTENSIONS = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
}
DELIMITERS = (",", ";", "\t", "|")
TEXT_SAMPLE_BYTES = 4096  # looked at to tell text (UTF-16 too) from binary
NOT_OURS = (KeyboardInterrupt, SystemExit, GeneratorExit)


@dataclass
class Grid:
    """A sheet's cells, a column at a time: ``columns[j][i]`` is the cell of
    column j on the sheet's row ``row_numbers[i]`` (object arrays)."""

    columns: list[np.ndarray]
    row_numbers: np.ndarray
    file_format: str
    sheet_name: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    hidden_rows: frozenset[int] = frozenset()
    #: error_cells(columns) -> (row, column, "#N/A")... (1-based) for the
    #: error cells of those columns, which the reader handed over as empty
    #: (python-calamine); None when the cells carry their error text.
    error_cells: Callable[[set[int]], Iterator[tuple[int, int, str]]] | None = field(
        default=None, repr=False
    )

    #: Rows already factorised a block at a time (sheets read in chunks):
    #: (first row, number of rows, {column: pd.factorize of its cells}).
    blocks: list[tuple[int, int, dict]] = field(default_factory=list, repr=False)

    def row(self, i: int) -> list:
        return [column[i] for column in self.columns]

    def head(self) -> list[list]:
        count = min(HEADER_SCAN_ROWS, len(self.row_numbers))
        return [self.row(i) for i in range(count)]

    def factorize(self, index: int, start: int) -> tuple[np.ndarray, np.ndarray]:
        """``pd.factorize`` (blanks as -1) of column ``index`` from row
        ``start`` on; from the blocks' factorisations where known."""
        column = self.columns[index]
        if not self.blocks:
            return pd.factorize(column[start:], use_na_sentinel=True)
        pieces = []
        for first, count, factorized in self.blocks:
            if first + count <= start:
                continue
            known = factorized.get(index) if first >= start else None
            pieces.append(
                known
                or pd.factorize(
                    column[max(first, start) : first + count], use_na_sentinel=True
                )
            )
        return merge_factorized(pieces)


def merge_factorized(pieces) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of consecutive pieces of a column from each piece's:
    the same codes and uniques (first seen first) as the whole column's."""
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=object)
    ids, uniques = pd.factorize(
        np.concatenate([u for _, u in pieces]), use_na_sentinel=True
    )
    codes, offset = [], 0
    for piece_codes, piece_uniques in pieces:
        end = offset + len(piece_uniques)
        codes.append(np.append(ids[offset:end], -1)[piece_codes])  # -1 stays
        offset = end
    return np.concatenate(codes), uniques


def _columns(rows) -> list[np.ndarray]:
    """The columns of a list of rows (short rows padded as pandas pads
    them)."""
    frame = pd.DataFrame(rows, dtype=object)
    return [frame[label].to_numpy(dtype=object) for label in frame.columns]


def load_bytes(source, filename=None, limits: Limits = DEFAULT_LIMITS):
    """(content, name) from a path, bytes or a binary file, refused past
    ``limits.max_file_bytes`` before it is read whole."""
    limit = limits.max_file_bytes
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        _check_size(len(data), limits)
        return data, filename
    if hasattr(source, "read"):
        data = source.read(limit + 1)
        _check_size(len(data), limits, at_least=True)
        return data, filename or getattr(source, "name", None)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            _check_size(path.stat().st_size, limits)
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
            _check_size(len(data), limits, at_least=True)
            return data, filename or path.name
        except FileNotFoundError:
            raise ConsumptionFileError(f"File not found: {path}") from None
        except IsADirectoryError:
            raise ConsumptionFileError(f"{path} is a folder, not a file.") from None
        except OSError as exc:
            raise ConsumptionFileError(f"Cannot open {path}: {exc}") from exc
    raise TypeError(f"Expected a path, bytes or a binary file, not {type(source)}")


def _check_size(found: int, limits: Limits, at_least=False) -> None:
    if found > limits.max_file_bytes:
        more = "more than " if at_least else ""
        raise ConsumptionFileError(
            f"The file is larger than {size(limits.max_file_bytes)} "
            f"({more}{size(found)}): no consumption file is that large; split it "
            "or raise the limit."
        )


def _looks_like_text(data: bytes) -> bool:
    sample = data[:TEXT_SAMPLE_BYTES]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    return b"\x00" not in sample or utf16_without_bom(data) is not None


def utf16_without_bom(data: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" when the text is UTF-16 without a byte
    order mark (Excel's "Unicode text" saved by some tools without one),
    else None.

    Headers, dates, amounts and most names are ASCII, so in UTF-16 a NUL
    byte comes every other byte: at odd positions in little-endian, at even
    ones in big-endian, while the other positions have (almost) none.
    """
    sample = data[:TEXT_SAMPLE_BYTES]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    if odd > pairs // 2 and even * 8 < odd:
        return "utf-16-le"
    if even > pairs // 2 and odd * 8 < even:
        return "utf-16-be"
    return None


def detect_format(data: bytes, filename: str | None) -> str:
    """ "xlsx", "xls" or "csv", from the extension and the leading bytes;
    files that are plainly something else are refused, named."""
    if not data.strip():
        raise ConsumptionFileError("The file is empty.")
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        return "xls"
    foreign = preflight.foreign_format(data)
    if foreign:
        raise ConsumptionFileError(
            f"The file is {foreign}, not a spreadsheet: upload the consumption "
            "file itself (.xlsx, .xls or .csv)."
        )
    if data[:5] in (b"UEsDB", b"0M8R4"):
        raise ConsumptionFileError(
            "The file content is base64-encoded; decode it before reading."
        )
    head = data[:512].lstrip(codecs.BOM_UTF8).lstrip().lower()
    if head.startswith((b"<html", b"<!doctype", b"<?xml", b"<table")):
        raise ConsumptionFileError(
            "The file is an HTML/XML page, not a spreadsheet: open it in Excel "
            "and save it as .xlsx or .csv."
        )
    by_name = EXTENSIONS.get(Path(filename or "").suffix.lower())
    if by_name in ("xlsx", "xls") and not _looks_like_text(data):
        raise ConsumptionFileError(
            f"The file is named .{by_name} but is no workbook (neither a zip nor "
            f"an OLE2 container): it is damaged or not a .{by_name} file; "
            "export or download it again."
        )
    return "csv"  # text, even when named .xls (some portals export TSV so)


def iter_grids(
    data: bytes, file_format: str, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Grid]:
    """Grids of the visible sheets, in order; reader failures of every kind
    (panics and MemoryError included) become ConsumptionFileError."""
    readers = {"xlsx": _xlsx_grids, "xls": _xls_grids, "csv": _csv_grids}
    try:  # (library warnings go to stderr as Python sends them)
        yield from readers[file_format](data, limits)
    except ConsumptionFileError:
        raise
    except NOT_OURS:
        raise
    except MemoryError:
        raise ConsumptionFileError(
            f"The file cannot be read as .{file_format}: it needs more memory "
            "than this process has."
        ) from None
    except BaseException as exc:  # noqa: BLE001 - any reader failure is the file's
        raise ConsumptionFileError(
            f"The file cannot be read as .{file_format}: {_reason(exc)}"
        ) from None


def _reason(exc: BaseException) -> str:
    """One line about a reader's failure, without its internals' noise."""
    name = type(exc).__name__
    text = " ".join(str(exc).split())[:200] or name
    if name == "PanicException":
        return (
            "the workbook is damaged (its reader stopped on it: "
            f"{text}); export or download it again."
        )
    if "encrypt" in text.lower() or "password" in text.lower():
        return (
            "it is password-protected (encrypted): remove the password in "
            "Excel and save it again."
        )
    return f"{text} (the file is damaged or not a real .xlsx/.xls/.csv file)."


def _grid(rows, file_format, **kwargs) -> Grid:
    numbers = np.arange(1, len(rows) + 1)
    return Grid(_columns(rows), numbers, file_format, **kwargs)


def _all_hidden(names) -> ConsumptionFileError:
    shown = ", ".join(f"'{preflight._short(name)}'" for name in names[:10])
    return ConsumptionFileError(
        f"Every sheet of the workbook is hidden ({shown or 'no sheets'}): "
        "unhide the consumption sheet in Excel and save the file again."
    )


def _xlsx_grids(data: bytes, limits: Limits) -> Iterator[Grid]:
    package = preflight.inspect_xlsx(data, limits)
    visible = package.visible_sheets
    if not visible:
        raise _all_hidden([s.name for s in package.sheets])
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = set(workbook.sheet_names)
    for info in visible:
        if info.name not in names:
            continue
        if package.part(info.path or "") is None:
            continue  # calamine could not find it either: never read unscanned
        cells, scan = _xlsx_rows(package, workbook, info, limits)
        grid = cells if isinstance(cells, Grid) else _grid(cells, "xlsx")
        del cells
        yield replace(
            grid,
            sheet_name=info.name,
            hidden_rows=frozenset(scan.hidden_rows),
            error_cells=lambda columns, scan=scan: preflight.error_cells(
                package, scan, columns
            ),
        )
        del grid


def _xlsx_rows(package, workbook, info, limits: Limits) -> tuple[list | Grid, object]:
    """(rows, scan): the sheet's cells from A1 as calamine gives them (or
    their grid when read in chunks, in parallel, where that pays), and the
    pre-flight's scan."""
    splitter = _splitter(package, info)
    if splitter is None:
        scan = preflight.scan_sheet(package, info)
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
    chunks = _ChunkGrid(limits)
    futures = deque()
    with ThreadPoolExecutor(PARALLEL_READERS, "sophos-ppu-xlsx") as pool:

        def ready(chunk):
            futures.append(pool.submit(_read_chunk, package, info, chunk))
            while len(futures) > CHUNKS_IN_FLIGHT * PARALLEL_READERS:
                chunks.add(futures.popleft().result)

        splitter.ready = ready
        try:
            scan = preflight.scan_sheet(package, info, splitter)
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
            f"Sheet '{preflight._short(info.name)}' spans "
            f"{number(sheet.total_height)} rows x "
            f"{number(sheet.total_width)} columns, more than the "
            f"{number(limits.max_cells)} cells allowed."
        )
    return sheet.to_python(skip_empty_area=False)


# Parallel reading of large sheets: calamine releases the GIL while it
# parses, so threads each reading a chunk of whole rows (a worksheet XML of
# its own, in a copy of the workbook's zip with the other parts as packed)
# use every core; the cells are those of the whole sheet, by construction
# (every cell carries its reference, see preflight.SheetSplitter) and by
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


def _splitter(package, info):
    """A SheetSplitter when the sheet is worth reading in chunks, else None."""
    part = package.part(info.path or "")
    if PARALLEL_READERS < 2 or part is None:
        return None
    if not 2 * MIN_CHUNK_BYTES <= part.declared <= SPLIT_MAX_BYTES:
        return None
    sheets = {preflight._part_name(s.path) for s in package.sheets if s.path}
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
    return preflight.SheetSplitter(chunk_bytes, None)


def _read_chunk(package, info, chunk):
    """The CalamineSheet of one chunk (in a worker thread)."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(
        _BuffersFile(_chunk_package(package, info, chunk))
    )
    return workbook.get_sheet_by_name(info.name)


def _chunk_package(package, info, chunk) -> list:
    """The workbook's zip with the chunk as its sheet (stored), the other
    parts as packed, and the other sheets left out."""
    sheet_part = package.part(info.path)
    sheets = {preflight._part_name(s.path) for s in package.sheets if s.path}
    entries = []
    for key, part in package.parts.items():
        if part is sheet_part or key in sheets:
            continue
        z = part.info
        raw = preflight.packed_bytes(package.data, part)
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


class _BuffersFile:
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


class _ChunkGrid:
    """The chunks' cells, in order, as one grid from A1 (the cells
    ``to_python`` gives for the whole sheet). Each chunk is converted, and
    factorised past the header rows, as soon as it is read; a chunk that
    failed, or whose rows do not come after the previous chunk's, makes the
    chunks unable to stand for the sheet (``grid()`` is None)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.pieces = []  # (first row, first column, columns, factorised)
        self.next_row = self.height = self.width = 0
        self.failed = False

    def add(self, result) -> None:
        """The next chunk, from ``result()`` (its CalamineSheet)."""
        if self.failed:
            return
        try:
            sheet = result()
        except NOT_OURS:
            raise
        except BaseException:  # noqa: BLE001 - read whole, to fail as before
            self.failed = True
            return
        start, end = sheet.start, sheet.end
        if start is None:
            return  # no value in this chunk
        self.height = max(self.height, end[0])
        self.width = max(self.width, end[1])
        cells = self.height * self.width
        if start[0] < self.next_row or cells > max(self.limits.max_cells, 1):
            self.failed = True
            return
        columns = _columns(sheet.to_python(skip_empty_area=True))
        del sheet
        factorized = {}
        if start[0] >= HEADER_SCAN_ROWS:  # the header is above: all data
            for offset, column in enumerate(columns):
                factorized[start[1] + offset] = pd.factorize(
                    column, use_na_sentinel=True
                )
        self.pieces.append((start[0], start[1], columns, factorized))
        self.next_row = end[0] + 1

    def grid(self) -> Grid | None:
        if self.failed:
            return None
        width = self.width + 1 if self.pieces else 0
        return _assemble_chunks(self.pieces, self.next_row, width)


def _assemble_chunks(pieces, height: int, width: int) -> Grid:
    """One grid from the chunks' pieces (first row, first column, columns,
    factorised), empty cells ('') where no chunk has any."""
    parts = [[] for _ in range(width)]
    blocks, row = [], 0
    for first, left, columns, factorized in pieces:
        if first > row:  # rows without any value between chunks
            for part in parts:
                part.append(np.full(first - row, "", dtype=object))
            blocks.append((row, first - row, {}))
        count = len(columns[0])
        for index, part in enumerate(parts):
            inside = 0 <= index - left < len(columns)
            part.append(
                columns[index - left] if inside else np.full(count, "", dtype=object)
            )
        blocks.append((first, count, factorized))
        row = first + count
    columns = [np.concatenate(part) if len(part) > 1 else part[0] for part in parts]
    return Grid(columns, np.arange(1, height + 1), "xlsx", blocks=blocks)


def _xls_grids(data: bytes, limits: Limits) -> Iterator[Grid]:
    preflight.inspect_ole2(data)
    import xlrd

    book = xlrd.open_workbook(
        file_contents=data,
        formatting_info=True,
        on_demand=True,
        logfile=io.StringIO(),
        verbosity=0,
    )
    try:
        if book.nsheets and all(getattr(book, "_sheet_visibility", [0])):
            raise _all_hidden(book.sheet_names())
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if sheet.visibility:
                continue
            if sheet.nrows > limits.max_rows:
                raise ConsumptionFileError(
                    too_many_rows(f"Sheet '{preflight._short(sheet.name)}'", limits)
                )
            if sheet.nrows * sheet.ncols > limits.max_cells:
                raise ConsumptionFileError(
                    f"Sheet '{preflight._short(sheet.name)}' spans "
                    f"{number(sheet.nrows * sheet.ncols)} cells, more than the "
                    f"{number(limits.max_cells)} allowed."
                )
            rows = _xls_rows(sheet, book.datemode)
            hidden = frozenset(
                r + 1 for r, info in sheet.rowinfo_map.items() if info.hidden
            )
            numbers = np.arange(1, len(rows) + 1)
            columns = _columns(rows)
            del rows
            yield Grid(columns, numbers, "xls", sheet.name, hidden_rows=hidden)
            book.unload_sheet(index)
    finally:
        book.release_resources()


def _xls_rows(sheet, datemode) -> list[list]:
    """Cell values as pandas' xlrd reader gives them, errors as their text."""
    from xlrd import XL_CELL_BOOLEAN, XL_CELL_DATE, XL_CELL_ERROR, xldate
    from xlrd.biffh import error_text_from_code

    special = (XL_CELL_DATE, XL_CELL_BOOLEAN, XL_CELL_ERROR)
    dates: dict[float, object] = {}
    rows = []
    for r in range(sheet.nrows):
        values = sheet.row_values(r)
        types = sheet.row_types(r)
        if XL_CELL_DATE in types or XL_CELL_BOOLEAN in types or XL_CELL_ERROR in types:
            for c, kind in enumerate(types):
                if kind not in special:
                    continue
                value = values[c]
                if kind == XL_CELL_BOOLEAN:
                    values[c] = bool(value)
                elif kind == XL_CELL_ERROR:
                    values[c] = error_text_from_code.get(value, "#N/A")
                else:
                    if value not in dates:
                        try:
                            dates[value] = xldate.xldate_as_datetime(value, datemode)
                        except (ValueError, OverflowError, xldate.XLDateError):
                            dates[value] = value
                    values[c] = dates[value]
        rows.append(values)
    return rows


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): BOMs first, UTF-16 without one, then UTF-8,
    Windows-1252, Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    if utf16 := utf16_without_bom(data):
        return data.decode(utf16, "replace"), utf16
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    lines = text[:65536].splitlines()[:HEADER_SCAN_ROWS]
    if lines and lines[0].lower().startswith("sep=") and len(lines[0]) == 5:
        return lines[0][4]
    scores = {}
    for delimiter in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delimiter))
        widths = [len(r) for r in rows if len(r) > 1]
        scores[delimiter] = (find_header_row(rows)[1], max(widths, default=0))
    return max(DELIMITERS, key=scores.__getitem__)


def _csv_records(text: str, delimiter: str) -> tuple[list[list[str]], np.ndarray]:
    """Records and the physical line each starts on.

    One record per line is the rule, read at C speed; only when quoted
    fields span lines is the file read again record by record, and then a
    quoted value running over lines that look like rows is refused (a quote
    left open swallows the rows after it).
    """
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    try:
        rows = list(reader)
        if reader.line_num == len(rows):
            return rows, np.arange(1, len(rows) + 1)
    except csv.Error:
        pass  # read again record by record, to say where
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    rows, numbers, spanning, last_line = [], [], [], 0
    try:
        for record in reader:
            rows.append(record)
            numbers.append(last_line + 1)
            if reader.line_num - last_line > 1:
                spanning.append(len(rows) - 1)
            last_line = reader.line_num
    except csv.Error as exc:
        start = last_line + 1
        if "field larger" in str(exc):
            raise ConsumptionFileError(
                "The CSV file has a value of more than "
                f"{number(csv.field_size_limit())} characters in the row "
                f"starting on line {start}: most likely a "
                'quote (") opened there is never closed. Fix the quote and export '
                "the file again."
            ) from None
        raise ConsumptionFileError(
            f"The CSV file is malformed at line {reader.line_num}: {exc}"
        ) from None
    if spanning:
        _check_open_quotes(rows, numbers, spanning, delimiter)
    return rows, np.asarray(numbers, dtype=np.int64)


def _check_open_quotes(rows, numbers, spanning, delimiter) -> None:
    """Refuse a quoted value whose lines look like rows of the file."""
    widths = Counter(len(r) for i, r in enumerate(rows) if len(r) > 1)
    width = widths.most_common(1)[0][0] if widths else 2
    enough = max(1, (width - 1) // 2)
    for index in spanning:
        line = numbers[index]
        for value in rows[index]:
            inner = value.split("\n")
            swallowed = [part for part in inner[1:] if part.count(delimiter) >= enough]
            if swallowed:
                raise ConsumptionFileError(
                    f"The CSV file has an unbalanced quote: the value starting on "
                    f"line {line} runs over {len(inner) - 1} more line(s) that look "
                    f'like rows (to line {line + len(inner) - 1}). A quote (") '
                    f"opened on line {line} is not closed; fix it and export the "
                    "file again."
                )
            line += len(inner) - 1


def _csv_grids(data: bytes, limits: Limits) -> Iterator[Grid]:
    text, encoding = decode_text(data)
    breaks = text.count("\n") or text.count("\r")
    if breaks + (not text.endswith(("\n", "\r"))) > limits.max_rows:
        raise ConsumptionFileError(too_many_rows("The CSV file", limits))
    delimiter = sniff_delimiter(text)
    rows, numbers = _csv_records(text, delimiter)
    del text
    columns = _columns(rows)
    del rows
    yield Grid(columns, numbers, "csv", encoding=encoding, delimiter=delimiter)
