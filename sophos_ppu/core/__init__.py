"""Functional core of sophos_ppu: read and check Sophos consumption files.

Plain Python and pandas, no Odoo import, so that it is tested without a
database and reused by the offline checker (``sophos-ppu-check``)::

    from sophos_ppu.core import Limits, read_consumption_file, summarize

    result = read_consumption_file("usage-2025-01.xlsx", limits=Limits())
    result.rows, result.issues, result.skipped, result.repeats
    summarize(result).to_dict()

Files beyond :class:`Limits` or unsafe to read are refused before any
reader library sees them (:mod:`.formats`). Checking rows against
subscriptions (which subscription a row bills, why it cannot be billed,
duplicates, End User Identifiers learnt) is :mod:`.checking`, on plain
values.
"""

from .checking import (
    Checker,
    IdentifierDecision,
    Issue,
    RowCheck,
    SubscriptionFacts,
    decide_identifiers,
    duplicate_keys,
    mark_duplicates,
)
from .limits import Limits
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
    "Checker",
    "ConsumptionFileError",
    "ConsumptionFileResult",
    "ConsumptionRow",
    "EndUserTotals",
    "IdentifierDecision",
    "Issue",
    "Limits",
    "RowCheck",
    "RowIssue",
    "SkippedRow",
    "SubscriptionFacts",
    "Summary",
    "Totals",
    "decide_identifiers",
    "duplicate_keys",
    "mark_duplicates",
    "read_consumption_file",
    "summarize",
]
