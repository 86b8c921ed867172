"""Reading legacy .xls workbooks: the OLE2 container checked, then xlrd.

:func:`inspect_ole2` tells a legacy .xls from a Word, PowerPoint or Outlook
file in the same OLE2 container, and from a password-protected (encrypted)
.xlsx, which Office stores as an OLE2 holding ``EncryptionInfo`` and
``EncryptedPackage`` streams. Only then does xlrd read the workbook, with
``formatting_info`` (hidden rows need it); date cells become datetimes in the
workbook's date mode, error cells their text.
"""

from __future__ import annotations

import io
import struct
import sys
from array import array
from collections.abc import Iterator

import numpy as np

from ..limits import Limits, number, too_many_rows
from ..model import ConsumptionFileError
from .grid import Grid, columns_of
from .refusals import SAVE_AS, all_sheets_hidden, refuse, short, what_it_is
from .sniff import OLE2_MAGIC

_OLE_FREE = 0xFFFFFFFF
_OLE_END = 0xFFFFFFFE
_OLE_STREAMS = (
    ("EncryptedPackage", "a password-protected (encrypted) Office file"),
    ("EncryptionInfo", "a password-protected (encrypted) Office file"),
    ("WordDocument", "a Word document (.doc)"),
    ("PowerPoint Document", "a PowerPoint presentation (.ppt)"),
    ("__properties_version1.0", "an Outlook message (.msg)"),
    ("VisioDocument", "a Visio drawing"),
)


def ole2_stream_names(data: bytes) -> list[str] | None:
    """Names in an OLE2 container's directory, or None when it is damaged.

    Only the directory is read (a few sectors, followed through the FAT with
    a guard against loops); stream contents are never touched.
    """
    if len(data) < 512 or not data.startswith(OLE2_MAGIC):
        return None
    shift = struct.unpack_from("<H", data, 30)[0]
    if shift not in (9, 12):
        return None
    sector = 1 << shift
    fat_count, first_dir = struct.unpack_from("<II", data, 44)
    first_difat, difat_count = struct.unpack_from("<II", data, 68)
    total = max(0, (len(data) - sector) // sector)
    if fat_count > total + 1:
        return None

    def sector_bytes(number_):
        start = (number_ + 1) * sector
        if number_ >= total or start + sector > len(data):
            raise ValueError(number_)
        return data[start : start + sector]

    try:
        fat_sectors = list(array("I", data[76 : 76 + 109 * 4]))
        next_difat, seen = first_difat, 0
        while next_difat not in (_OLE_FREE, _OLE_END) and seen <= difat_count:
            entries = array("I", sector_bytes(next_difat))
            fat_sectors += entries[:-1]
            next_difat = entries[-1]
            seen += 1
        if sys.byteorder == "big":  # pragma: no cover - x86/arm are little
            fat_sectors = array("I", fat_sectors)
            fat_sectors.byteswap()
        fat = array("I")
        for number_ in fat_sectors[:fat_count]:
            fat.frombytes(sector_bytes(number_))
        if sys.byteorder == "big":  # pragma: no cover
            fat.byteswap()
        names, current, steps = [], first_dir, 0
        while current not in (_OLE_FREE, _OLE_END):
            if steps > total or current >= len(fat):
                return None
            chunk = sector_bytes(current)
            for offset in range(0, sector, 128):
                length = struct.unpack_from("<H", chunk, offset + 64)[0]
                kind = chunk[offset + 66]
                if kind in (1, 2, 5) and 2 <= length <= 64:
                    raw = chunk[offset : offset + length - 2]
                    names.append(raw.decode("utf-16-le", "replace"))
            current, steps = fat[current], steps + 1
        return names
    except (ValueError, IndexError, struct.error):
        return None


def inspect_ole2(data: bytes) -> None:
    """Refuse OLE2 containers that are not .xls workbooks, naming them."""
    names = ole2_stream_names(data)
    if names is None:
        raise refuse(
            "The .xls file is damaged or truncated (its OLE2 directory cannot "
            "be read): export or download it again."
        )
    for stream, description in _OLE_STREAMS:
        if stream in names:
            if "encrypted" in description:
                raise refuse(
                    f"The file is {description}: open it in Excel, remove the "
                    "password (File > Info > Protect Workbook) and save it again."
                )
            raise what_it_is(description, SAVE_AS)
    if not {"Workbook", "Book", "WORKBOOK", "BOOK"} & set(names):
        raise refuse(
            "The file is an OLE2 container (a legacy Office file) without a "
            "workbook in it: " + SAVE_AS
        )


def xls_grids(data: bytes, limits: Limits) -> Iterator[Grid]:
    """Grids of an .xls workbook's visible sheets, once its OLE2 directory
    shows a workbook."""
    inspect_ole2(data)
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
            raise all_sheets_hidden(book.sheet_names())
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if sheet.visibility:
                continue
            if sheet.nrows > limits.max_rows:
                raise ConsumptionFileError(
                    too_many_rows(f"Sheet '{short(sheet.name)}'", limits)
                )
            if sheet.nrows * sheet.ncols > limits.max_cells:
                raise ConsumptionFileError(
                    f"Sheet '{short(sheet.name)}' spans "
                    f"{number(sheet.nrows * sheet.ncols)} cells, more than the "
                    f"{number(limits.max_cells)} allowed."
                )
            rows = _xls_rows(sheet, book.datemode)
            hidden = frozenset(
                r + 1 for r, info in sheet.rowinfo_map.items() if info.hidden
            )
            numbers = np.arange(1, len(rows) + 1)
            columns = columns_of(rows)
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
