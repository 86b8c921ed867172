"""Functional core of sophos_ppu: read and check Sophos consumption files.

Plain Python and pandas, no Odoo import, so that it is tested without a
database and reused by the offline checker (``sophos-ppu-check``)::

    from sophos_ppu.core import read_consumption_file, summarize

    result = read_consumption_file("usage-2025-01.xlsx")
    result.rows, result.issues, result.skipped
    summarize(result).to_dict()
"""

from .model import (
    ConsumptionFileError,
    ConsumptionFileResult,
    ConsumptionRow,
    RowIssue,
    SkippedRow,
)
from .reader import read_consumption_file
from .summary import EndUserTotals, Summary, Totals, summarize

__all__ = [
    "ConsumptionFileError",
    "ConsumptionFileResult",
    "ConsumptionRow",
    "EndUserTotals",
    "RowIssue",
    "SkippedRow",
    "Summary",
    "Totals",
    "read_consumption_file",
    "summarize",
]
