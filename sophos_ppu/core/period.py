"""Which month a consumption file bills, to propose it before an import.

A Sophos monthly workbook bills the month its consumption was used in: the
month most of its rows start in (corrections, negative quantities, may
credit earlier months and do not count). A file too large to read at
upload time says it by its name at best (``usage-2026-10.xlsx``).
"""

import re
from collections import Counter
from datetime import date

#: A year and month in a file name: 2026-10, 2026_10, 202610.
FILENAME_MONTH = re.compile(r"(?<!\d)(20\d\d)[-_. ]?(0[1-9]|1[0-2])(?!\d)")


def month_of_rows(rows) -> date | None:
    """The first day of the month most consumption ``rows`` start in."""
    months = Counter(
        row.start_date.replace(day=1)
        for row in rows
        if row.start_date is not None and row.quantity >= 0
    )
    return months.most_common(1)[0][0] if months else None


def month_of_filename(filename: str | None) -> date | None:
    """The first day of the year and month a file's name holds, if one."""
    found = FILENAME_MONTH.search(filename or "")
    return date(int(found[1]), int(found[2]), 1) if found else None
