"""What a consumption file may hold before it is refused unread.

The defaults are far beyond any file a distributor sends by accident (a
Sophos month is thousands of rows, 22 columns, a few MB) and small enough
that no file can take a worker down. The Odoo layer passes the values ops
set in Settings (:data:`SETTING`); the checker takes them as flags
(``--max-rows`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

EXCEL_MAX_ROWS = 1_048_576  # rows of an Excel sheet, its header's included
#: Where ops set the limits in Odoo.
SETTING = "Settings > Sales > Sophos Pay-Per-Use > Consumption file limits"


@dataclass(frozen=True)
class Limits:
    """Limits of one consumption file; every value must be a positive int.

    ``max_file_bytes`` (50 MB)
        the file as uploaded. Checked before the file is read into memory.
    ``max_rows`` (1 048 576)
        rows of the sheet (or lines of the CSV), blank rows and the header
        included, as the user sees them numbered: by default Excel's own
        limit, a full sheet (1 048 575 rows below the header).
    ``max_cell_chars`` (32 767)
        the longest text a cell may hold: Excel's own limit. A longer cell
        makes its row an issue; a text more than 8 times longer (bytes no
        Excel cell can hold, even as XML entities) refuses the file while it
        is still packed, before any reader would load it whole.
    ``max_cells`` (30 000 000)
        rows x columns of a sheet counted from A1: what the spreadsheet
        reader allocates, empty cells included (about 50 bytes each once in
        Python). 1 000 000 rows of 30 columns; about 1.5 GB of memory, below
        Odoo's default hard memory limit for a worker (2.5 GB).
    ``max_inflated_bytes`` (2 GB)
        what an .xlsx unpacks to: every part of the zip together, and again
        for a sheet, its XML plus the shared text its cells repeat (a cell
        pointing at a shared string costs as much as the text written out).
        A 1 000 000-row Sophos export unpacks to 0.9-1.2 GB of XML.
    ``max_compression_ratio`` (100)
        inflated / packed size of any part unpacking to more than 1 MiB.
        Sheet XML packs 10-30 times (a real 100 000-row export: 12); zip
        bombs pack about 1 000 times.
    """

    max_file_bytes: int = 50_000_000
    max_rows: int = EXCEL_MAX_ROWS
    max_cell_chars: int = 32_767
    max_cells: int = 30_000_000
    max_inflated_bytes: int = 2_000_000_000
    max_compression_ratio: int = 100

    def __post_init__(self):
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{item.name} must be a positive integer: {value!r}")

    @property
    def absurd_text_bytes(self) -> int:
        """XML bytes of one text beyond which the file is refused unread."""
        return self.max_cell_chars * 8


DEFAULT_LIMITS = Limits()


def too_many_rows(what: str, limits: Limits) -> str:
    """The refusal of ``what`` ("Sheet 'Usage'", "The CSV file") for more
    rows than ``limits.max_rows``."""
    limit = number(limits.max_rows)
    return (
        f"{what} has more than {limit} rows (the limit is {limit}, set in "
        f"{SETTING}): split the file or raise the limit."
    )


def number(value: int) -> str:
    """1000000 -> '1 000 000' (thin space free, readable in any language)."""
    return f"{value:,}".replace(",", " ")


def size(value: int) -> str:
    """Bytes for people: '50 MB', '1.2 GB', '812 bytes' (powers of 1000)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if value >= scale:
            amount = value / scale
            text = (
                f"{amount:.0f}"
                if amount >= 100 or value % scale == 0
                else (f"{amount:.1f}")
            )
            return f"{text} {unit}"
    return f"{value} bytes"
