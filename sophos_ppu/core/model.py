"""Plain data returned by the reader: rows, per-cell issues, skipped rows."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, fields, make_dataclass
from datetime import date
from decimal import Decimal
from itertools import repeat

from .row import FIELDS, RowField, consumption_source
from .values import EXACT


class ConsumptionFileError(Exception):
    """The file as a whole cannot be used (unreadable, no header, missing columns).

    ``message`` is meant for the user as is; ``missing_columns`` lists the
    human names of the required columns that were not found (may be empty);
    ``currencies`` lists the price currencies offered when the choice between
    them is ambiguous.
    """

    def __init__(self, message, missing_columns=None, currencies=None):
        super().__init__(message)
        self.message = message
        self.missing_columns = list(missing_columns or [])
        self.currencies = list(currencies or [])

    def __str__(self):
        return self.message


class _RowMethods:
    """What a ConsumptionRow computes from its fields."""

    __slots__ = ()

    def __getitem__(self, name):
        """A field by name, as an import line or a row of values gives it."""
        return getattr(self, name)

    @property
    def consumption_key(self) -> tuple[str, str, date, date, Decimal]:
        """What the row is billed under once: the arguments of
        :func:`~.billing.consumption_key` (:func:`~.row.consumption_source`).
        The caller adds what the file does not know (company)."""
        return consumption_source(self)

    @property
    def msrp_amount(self) -> Decimal:
        """Quantity x Unit MSRP, exact (see ``values.EXACT``)."""
        return EXACT.multiply(self.quantity, self.unit_msrp)

    @property
    def cost_amount(self) -> Decimal:
        """Quantity x unit cost (the file's Unit Price), exact."""
        return EXACT.multiply(self.quantity, self.unit_cost)


def _row_field(declared: RowField):
    if declared.required:
        return (declared.name, declared.python_type)
    return (declared.name, declared.python_type | None, None)


ConsumptionRow = make_dataclass(
    "ConsumptionRow",
    [
        *map(_row_field, sorted(FIELDS, key=lambda f: not f.required)),
        ("extra", dict[str, str], field(default_factory=dict, hash=False)),
    ],
    bases=(_RowMethods,),
    frozen=True,
    slots=True,
)
ConsumptionRow.__module__ = __name__
ConsumptionRow.__doc__ = """One valid consumption line of the file: the fields
declared in :mod:`.row` (their names are the import line's), then ``extra``,
the cells of the file's other columns by header."""

#: ConsumptionRow's fields, in order.
ROW_FIELDS = tuple(f.name for f in fields(ConsumptionRow))
_SETTERS = tuple(getattr(ConsumptionRow, name).__set__ for name in ROW_FIELDS)


def rows_from_columns(columns: dict[str, list | None], count: int) -> list:
    """``count`` ConsumptionRows from one list of values per field (None:
    None for every row), each row as ``ConsumptionRow(**its values)``.

    Filled a field at a time through the slots, not a row at a time through
    the frozen dataclass's ``__init__`` (which sets each field through
    ``object.__setattr__``): a third of the time, for the same rows.
    """
    rows = list(map(object.__new__, repeat(ConsumptionRow, count)))
    for name, setter in zip(ROW_FIELDS, _SETTERS, strict=True):
        values = columns[name]
        if values is None:
            values = repeat(None, count)
        elif len(values) != count:
            raise ValueError(f"{name}: {len(values)} values for {count} rows")
        deque(map(setter, rows, values), maxlen=0)
    return rows


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One bad cell: the row is left out of ``rows``.

    ``value`` is the cell as written, cut at 200 characters; ``reason`` is
    plain English ("not a number", "number out of range", "too many
    decimals", "cell holds an Excel error", "date out of range (...)",
    "unknown currency code", "text longer than N characters", "hidden
    row" on the row's first column...).
    """

    row_number: int
    column: str
    value: str
    reason: str

    def __str__(self):
        where = f"row {self.row_number}, column '{self.column}'"
        if self.value and self.reason.startswith(("not ", "ambiguous")):
            return f"{where}: '{self.value}' is {self.reason}"
        if self.value:
            return f"{where}: {self.reason} ('{self.value}')"
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SkippedRow:
    row_number: int
    reason: str


@dataclass(slots=True)
class ConsumptionFileResult:
    """What :func:`read_consumption_file` found in one file."""

    rows: list[ConsumptionRow]
    issues: list[RowIssue]
    skipped: list[SkippedRow]
    row_count: int
    header_row_number: int
    columns: dict[str, str]
    file_format: str
    sheet_name: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    price_currency: str | None = None
    notes: list[str] = field(default_factory=list)
    #: {row number: the earlier row number it repeats cell for cell}; the
    #: repeating rows stay in ``rows`` (or ``issues``): ops confirm them.
    repeats: dict[int, int] = field(default_factory=dict)
    #: {row number: {header: the cell as text}} of every row with issues:
    #: all its non-blank cells, so that nothing of a bad row is lost.
    issue_cells: dict[int, dict[str, str]] = field(default_factory=dict)
    #: The file's column names, left to right.
    headers: list[str] = field(default_factory=list)

    @property
    def invalid_row_numbers(self) -> list[int]:
        return sorted({issue.row_number for issue in self.issues})
