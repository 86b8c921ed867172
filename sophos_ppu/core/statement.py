# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The reseller's consumption statements as files, and its month-over-month
comparison: plain Python, no Odoo.

The portal (``controllers/portal.py``) gathers what a reseller may read of
its billed rows and hands it here as plain values:

- ``statement_csv`` writes a .csv in the conventions of a language: where
  the decimal separator is a comma (German, French), the list separator is
  ``;`` and numbers are written with a decimal comma, as a spreadsheet of
  that locale opens them; elsewhere ``,`` and a decimal point.
- ``statement_xlsx`` writes a finished workbook: column widths, a bold and
  frozen header with a filter, dates and amounts formatted (amounts in their
  currency), then the totals per group (end customer) and overall, per
  currency, as values (never formulas).
- ``month_over_month`` lays each end customer's last months side by side
  with the change of the last month against the one before, in %.

Every text cell is neutralised against formulas (``billing.neutralise_cell``).
"""

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .billing import format_quantity, neutralise_cell

#: Kinds of statement columns and how each is written.
TEXT, DATE, QUANTITY, PRICE, AMOUNT = "text", "date", "quantity", "price", "amount"
NUMBER_KINDS = (QUANTITY, PRICE, AMOUNT)
#: Widths of the .xlsx columns, in characters.
MIN_WIDTH, MAX_WIDTH = 8, 50
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class Column:
    """One statement column: ``key`` in the row dicts, its translated
    ``label`` and its ``kind`` (TEXT, DATE, QUANTITY, PRICE or AMOUNT)."""

    key: str
    label: str
    kind: str = TEXT


@dataclass(frozen=True)
class Money:
    """How a currency is written: ISO ``code``, ``symbol``, whether the
    symbol comes ``before`` the amount, and its ``digits``."""

    code: str
    symbol: str
    before: bool = True
    digits: int = 2

    def number_format(self, extra_digits=0):
        """An Excel number format for amounts in this currency."""
        decimals = "0" * self.digits + "#" * extra_digits
        number = "#,##0" + (f".{decimals}" if decimals else "")
        symbol = '"{}"'.format((self.symbol or self.code).replace('"', ""))
        return f"{symbol}\u00a0{number}" if self.before else f"{number}\u00a0{symbol}"


def csv_separators(decimal_point):
    """(list separator, decimal separator) of a language whose decimal
    separator is ``decimal_point``: (';', ',') for a decimal comma,
    (',', '.') otherwise."""
    if (decimal_point or ".").strip() == ",":
        return ";", ","
    return ",", "."


def plain_number(value, decimal_point="."):
    """A number as plain text, without thousands separators or trailing
    zeros: 4.50 -> '4.5', 45.0 -> '45', with ``decimal_point``
    (``billing.format_quantity``)."""
    return format_quantity(value).replace(".", decimal_point)


def _cell_text(value):
    if isinstance(value, date):
        return value.isoformat()[:10]
    return "" if value is None else value


def statement_csv(columns, rows, decimal_point="."):
    """The statement as UTF-8 CSV bytes (with BOM, so Excel reads accents),
    in the conventions of a language whose decimal separator is
    ``decimal_point`` (see ``csv_separators``). Dates are ISO (2026-10-31),
    which spreadsheets of every locale read as dates. Every field is quoted
    and formula-starting text neutralised, as in the error report."""
    delimiter, decimal = csv_separators(decimal_point)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL)
    writer.writerow([neutralise_cell(column.label, True) for column in columns])
    for row in rows:
        writer.writerow(
            [
                plain_number(row[column.key], decimal)
                if column.kind in NUMBER_KINDS and row.get(column.key) is not None
                else neutralise_cell(_cell_text(row.get(column.key)), True)
                for column in columns
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _round(amount, money):
    return Decimal(str(amount)).quantize(
        Decimal(1).scaleb(-money.digits), rounding=ROUND_HALF_UP
    )


def group_totals(rows, group_key=None):
    """Per (group, currency) the sum of the rows' ``subtotal`` rounded to the
    currency, and the overall sum per currency:
    ([(group, money, total)], [(money, total)]), sorted by group and code."""
    groups = defaultdict(Decimal)
    overall = defaultdict(Decimal)
    for row in rows:
        amount = Decimal(str(row["subtotal"]))
        money = row["currency"]
        if group_key:
            groups[(row[group_key], money)] += amount
        overall[money] += amount
    by_group = [
        (group, money, _round(total, money))
        for (group, money), total in sorted(
            groups.items(), key=lambda item: (item[0][0].casefold(), item[0][1].code)
        )
    ]
    totals = [
        (money, _round(total, money))
        for money, total in sorted(overall.items(), key=lambda item: item[0].code)
    ]
    return by_group, totals


def _width(value):
    if isinstance(value, date):
        return 10
    if isinstance(value, float):
        return len(f"{value:,.2f}") + 5
    return max((len(line) for line in str(value).splitlines()), default=0)


def statement_xlsx(
    columns,
    rows,
    sheet_title,
    total_label,
    group_key=None,
    group_total_label=None,
):
    """The statement as a finished .xlsx workbook, as bytes.

    ``rows`` are dicts holding every column's ``key``, ``subtotal`` (the
    amount totalled) and ``currency`` (a ``Money``). The header is bold,
    frozen and filtered; the rows are the filter's range. Below them, after
    a blank row, one total per ``group_key`` value and currency (labelled
    ``group_total_label``, the group in its column) when ``group_key`` is
    given, then the overall total per currency (``total_label``). Totals are
    written as values: the workbook holds no formula.
    """
    sheet = _StatementSheet(columns, rows, sheet_title)
    sheet.write_rows(rows)
    if rows:
        sheet.write_totals(
            rows, group_key, group_total_label or total_label, total_label
        )
    return sheet.finish()


class _StatementSheet:
    """One statement sheet being written: formats by column kind, widths."""

    def __init__(self, columns, rows, title):
        from openpyxl import Workbook
        from openpyxl.styles import Font

        self.columns = columns
        self.keys = [column.key for column in columns]
        self.bold = Font(bold=True)
        self.workbook = Workbook()
        self.sheet = self.workbook.active
        self.sheet.title = re.sub(r"[\[\]:*?/\\]", "-", title)[:31]
        self.fractional = any(
            not float(row[column.key]).is_integer()
            for row in rows
            for column in columns
            if column.kind == QUANTITY and row.get(column.key) is not None
        )
        self.widths = [len(column.label) + 3 for column in columns]  # the filter

    def write(self, values, money=None, font=None):
        """Append one row, each cell formatted as its column's kind says."""
        self.sheet.append(
            [
                neutralise_cell(value) if isinstance(value, str) else value
                for value in values
            ]
        )
        row_index = self.sheet.max_row
        for index, column in enumerate(self.columns):
            cell = self.sheet.cell(row=row_index, column=index + 1)
            if font:
                cell.font = font
            if cell.value is None:
                continue
            self.widths[index] = max(self.widths[index], _width(cell.value))
            number_format = self._number_format(column.kind, money)
            if number_format:
                cell.number_format = number_format

    def _number_format(self, kind, money):
        if kind == DATE:
            return DATE_FORMAT
        if kind == QUANTITY:
            return "#,##0.00##" if self.fractional else "#,##0"
        if kind == PRICE and money:
            return money.number_format(extra_digits=2)
        if kind == AMOUNT and money:
            return money.number_format()
        return None

    def write_rows(self, rows):
        """The bold header, frozen and filtered over the rows below it."""
        from openpyxl.styles import Alignment
        from openpyxl.utils import get_column_letter

        self.write([column.label for column in self.columns], font=self.bold)
        for cell in self.sheet[1]:
            cell.alignment = Alignment(vertical="center")
        for row in rows:
            self.write(
                [
                    float(row[key]) if isinstance(row[key], Decimal) else row[key]
                    for key in self.keys
                ],
                money=row["currency"],
            )
        last_column = get_column_letter(len(self.columns))
        self.sheet.freeze_panes = "A2"
        self.sheet.auto_filter.ref = f"A1:{last_column}{self.sheet.max_row}"
        self.sheet.print_title_rows = "1:1"

    def write_totals(self, rows, group_key, group_total_label, total_label):
        """After a blank row: the totals per group and currency, then per
        currency."""
        by_group, totals = group_totals(rows, group_key)
        self.sheet.append([])
        for group, money, amount in by_group:
            self._write_total(group_total_label, money, amount, group_key, group)
        for money, amount in totals:
            self._write_total(total_label, money, amount)

    def _write_total(self, label, money, amount, group_key=None, group=None):
        values = dict.fromkeys(self.keys)
        values[self.keys[0]] = label
        if group_key in values:
            values[group_key] = group
        for column in self.columns:
            if column.kind == AMOUNT:
                values[column.key] = float(amount)
                break
        if "currency_code" in values:
            values["currency_code"] = money.code
        self.write(list(values.values()), money=money, font=self.bold)

    def finish(self) -> bytes:
        from openpyxl.utils import get_column_letter

        for index, width in enumerate(self.widths):
            self.sheet.column_dimensions[get_column_letter(index + 1)].width = min(
                max(width + 2, MIN_WIDTH), MAX_WIDTH
            )
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()


def previous_months(latest, count):
    """The ``count`` months ending with ``latest`` (a first of month),
    oldest first."""
    months = []
    year, month = latest.year, latest.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def percent_change(previous, last):
    """The change from ``previous`` to ``last`` in %, to one decimal; None
    when there was nothing the month before (no base to compare with)."""
    previous, last = Decimal(str(previous)), Decimal(str(last))
    if not previous:
        return None
    change = (last - previous) / abs(previous) * 100
    return change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def month_over_month(entries, months):
    """Each end customer's consumption of ``months`` side by side.

    ``entries`` are (end customer, money, period, amount); ``months`` the
    periods to show, oldest first. Returns one line per end customer and
    currency with any amount in those months, sorted by end customer then
    currency code: {"end_customer", "currency", "amounts": [Decimal per
    month, rounded to the currency], "change": % of the last month against
    the one before (``percent_change``)}.
    """
    index = {period: i for i, period in enumerate(months)}
    lines = defaultdict(lambda: [Decimal(0)] * len(months))
    for end_customer, money, period, amount in entries:
        if period in index:
            lines[(end_customer, money)][index[period]] += Decimal(str(amount))
    result = []
    for (end_customer, money), amounts in sorted(
        lines.items(), key=lambda item: (item[0][0].casefold(), item[0][1].code)
    ):
        amounts = [_round(amount, money) for amount in amounts]
        result.append(
            {
                "end_customer": end_customer,
                "currency": money,
                "amounts": amounts,
                "change": percent_change(amounts[-2], amounts[-1])
                if len(amounts) > 1
                else None,
            }
        )
    return result


def file_slug(text):
    """A file name part of ``text``: letters, digits and hyphens."""
    slug = re.sub(r"[^\w]+", "-", text or "", flags=re.UNICODE).strip("-_")
    return slug[:60] or "end-customer"
