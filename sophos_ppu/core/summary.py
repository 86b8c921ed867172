"""Totals and facts about a read file, for the checker and the ops summary.

Amounts are never added across currencies: totals come one per currency
(``None`` when the file names no currency), and so do end-user totals.
Amounts are exact (quantity x unit price, unrounded); rounding to the cent
belongs to invoicing. They are added in ``values.EXACT``, a context that
cannot trap, over amounts the reader bounded: no total overflows.

Two kinds of repetition are reported apart: ``repeats`` are rows equal cell
for cell to an earlier row (held for ops to confirm), ``duplicates`` rows
billed under the same consumption key as an earlier row (which an exact
repeat also is).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from .billing import consumption_key
from .model import ConsumptionFileResult, RowIssue, SkippedRow
from .values import EXACT


@dataclass
class Totals:
    currency: str | None
    rows: int = 0
    quantity: Decimal = Decimal(0)
    msrp_amount: Decimal = Decimal(0)
    cost_amount: Decimal = Decimal(0)

    def add(self, row) -> None:
        self.rows += 1
        self.quantity = EXACT.add(self.quantity, row.quantity)
        self.msrp_amount = EXACT.add(self.msrp_amount, row.msrp_amount)
        self.cost_amount = EXACT.add(self.cost_amount, row.cost_amount)

    def to_dict(self) -> dict:
        return _jsonable(asdict(self))


@dataclass
class EndUserTotals(Totals):
    end_user_identifier: str = ""
    end_customer_name: str | None = None


@dataclass
class Summary:
    file_format: str
    header_row_number: int
    rows_read: int
    valid_rows: int
    rows_with_issues: int
    skipped: int
    periods: list[tuple[date, date]]
    months: list[str]
    currencies: list[str]
    totals: list[Totals]
    end_users: list[EndUserTotals]
    issues: list[RowIssue] = field(default_factory=list)
    skipped_rows: list[SkippedRow] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repeats: list[tuple[int, int]] = field(default_factory=list)

    @property
    def total_quantity(self) -> Decimal:
        total = Decimal(0)
        for totals in self.totals:
            total = EXACT.add(total, totals.quantity)
        return total

    def totals_for(self, currency: str | None = None) -> Totals:
        """Totals of one currency (of the only one when not given)."""
        if currency is None and len(self.totals) == 1:
            return self.totals[0]
        for totals in self.totals:
            if totals.currency == currency:
                return totals
        return Totals(currency)

    def end_user(self, identifier: str, currency: str | None = None):
        for totals in self.end_users:
            if totals.end_user_identifier == identifier and (
                currency is None or totals.currency == currency
            ):
                return totals
        return None

    def to_dict(self) -> dict:
        data = {
            "file_format": self.file_format,
            "header_row_number": self.header_row_number,
            "rows_read": self.rows_read,
            "valid_rows": self.valid_rows,
            "rows_with_issues": self.rows_with_issues,
            "skipped": self.skipped,
            "periods": [{"start": s, "end": e} for s, e in self.periods],
            "months": self.months,
            "currencies": self.currencies,
            "totals": [t.to_dict() for t in self.totals],
            "end_users": [t.to_dict() for t in self.end_users],
            "issues": [asdict(i) for i in self.issues],
            "skipped_rows": [asdict(s) for s in self.skipped_rows],
            "duplicates": [
                {"row_number": r, "same_as_row": first} for r, first in self.duplicates
            ],
            "repeats": [
                {"row_number": r, "repeats_row": first} for r, first in self.repeats
            ],
            "notes": self.notes,
        }
        return _jsonable(data)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def summarize(result: ConsumptionFileResult) -> Summary:
    totals: dict[str | None, Totals] = {}
    end_users: dict[tuple[str, str | None], EndUserTotals] = {}
    periods, first_row_of_key, duplicates = set(), {}, []
    for row in result.rows:
        totals.setdefault(row.file_currency, Totals(row.file_currency)).add(row)
        key = (row.end_user_identifier, row.file_currency)
        if key not in end_users:
            end_users[key] = EndUserTotals(
                row.file_currency, end_user_identifier=row.end_user_identifier
            )
        entry = end_users[key]
        entry.add(row)
        entry.end_customer_name = entry.end_customer_name or row.end_customer_name
        periods.add((row.start_date, row.end_date))
        # The same key the addon refuses to bill twice (case/space-insensitive).
        billed_as = consumption_key(*row.consumption_key)
        first = first_row_of_key.setdefault(billed_as, row.row_number)
        if first != row.row_number:
            duplicates.append((row.row_number, first))

    def by_currency(item):
        return (item.currency is None, item.currency or "")

    return Summary(
        file_format=result.file_format,
        header_row_number=result.header_row_number,
        rows_read=result.row_count,
        valid_rows=len(result.rows),
        rows_with_issues=len(result.invalid_row_numbers),
        skipped=len(result.skipped),
        periods=sorted(periods),
        months=sorted({start.strftime("%Y-%m") for start, _ in periods}),
        currencies=sorted(c for c in totals if c),
        totals=sorted(totals.values(), key=by_currency),
        end_users=sorted(
            end_users.values(),
            key=lambda t: (t.end_user_identifier, *by_currency(t)),
        ),
        issues=list(result.issues),
        skipped_rows=list(result.skipped),
        duplicates=duplicates,
        notes=list(result.notes),
        repeats=sorted(result.repeats.items()),
    )
