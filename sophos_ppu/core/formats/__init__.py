"""From a file's bytes to grids of raw cells, one per visible sheet.

A grid (:class:`.grid.Grid`) holds a sheet's cells column by column, one
entry per spreadsheet row, blank rows included, so that row numbers stay
those the user sees. Cells keep the types the file gives: text, numbers,
dates for Excel; text only for CSV. Excel error cells arrive as their text
("#N/A"); rows hidden in the workbook are listed in ``Grid.hidden_rows``.
Only visible sheets are read.

The extension decides the format, except that the bytes win when they
plainly say otherwise (:mod:`.sniff`). Nothing reaches a reader library
before the pre-flight beside it has looked at the bytes:

============================  ==============================================
:mod:`.sniff`                 what the file is; its bytes, within the limit
:mod:`.xlsx`                  .xlsx/.xlsm: package and sheet checks, then
                              python-calamine, in parallel for large sheets
:mod:`.xls`                   .xls: the OLE2 directory, then xlrd
:mod:`.text`                  .csv/.txt: encoding, delimiter, records
:mod:`.grid`                  the grid every reader returns
:mod:`.refusals`              the words of refusals the readers share
============================  ==============================================

Any failure inside a reader library, including the ``BaseException`` panics
of python-calamine and ``MemoryError``, becomes one
:class:`ConsumptionFileError` (:func:`iter_grids`).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..limits import DEFAULT_LIMITS, Limits
from ..model import ConsumptionFileError
from .grid import Grid
from .refusals import NOT_OURS, failure_reason
from .text import csv_grids
from .xls import xls_grids
from .xlsx.grids import xlsx_grids


def iter_grids(
    data: bytes, file_format: str, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Grid]:
    """Grids of the visible sheets, in order; reader failures of every kind
    (panics and MemoryError included) become ConsumptionFileError."""
    readers = {"xlsx": xlsx_grids, "xls": xls_grids, "csv": csv_grids}
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
            f"The file cannot be read as .{file_format}: {failure_reason(exc)}"
        ) from None
