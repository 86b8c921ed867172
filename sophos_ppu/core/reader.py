"""read_consumption_file: one Sophos consumption file to checked rows.

Normalisation is column-wise: each column is factorised and every distinct
value is parsed once (a month's file repeats the same dates, prices and
product names on thousands of rows), then the results are spread back over
the rows. Only the final assembly of rows and issues walks row by row.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import numpy as np
import pandas as pd

from .columns import (
    FIELDS_BY_NAME,
    REQUIRED,
    find_header_row,
    map_columns,
    no_header_error,
)
from .model import (
    ConsumptionFileError,
    ConsumptionFileResult,
    ConsumptionRow,
    RowIssue,
    SkippedRow,
)
from .sources import detect_format, iter_grids, load_bytes
from .values import (
    Bad,
    cell_text,
    date_order_hint,
    decimal_separator_hint,
    is_blank,
    parse_amount,
    parse_currency,
    parse_date,
)

EMPTY = "required value is empty"
TEXT_FIELDS = (
    "end_user_identifier",
    "product_description",
    "end_customer_name",
    "sku",
    "partner_name",
    "partner_identifier",
)
AMOUNT_FIELDS = ("quantity", "unit_msrp", "unit_price")
DATE_FIELDS = ("start_date", "end_date")
_TOTALS_LABEL = re.compile(
    r"^(grand\s*|sub\s*)?(totals?|sum|summe|gesamt\w*|totaal|totale?)\b", re.I
)


def read_consumption_file(source, filename=None, *, currency=None):
    """Read a consumption file (.xlsx, .xls or .csv) into a result.

    ``source`` is a path, the file's bytes or a binary file object;
    ``filename`` (for bytes) lends its extension. ``currency`` picks the
    price columns when an API export carries several currencies. Raises
    :class:`ConsumptionFileError` when the file as a whole cannot be used;
    bad cells become ``result.issues`` instead.
    """
    data, filename = load_bytes(source, filename)
    file_format = detect_format(data, filename)
    grid, header_index = _pick_sheet(iter_grids(data, file_format))
    header_number = int(grid.row_numbers[header_index])
    header_cells = grid.frame.iloc[header_index].tolist()
    column_map = map_columns(header_cells, header_number, currency)
    body = grid.frame.iloc[header_index + 1 :]
    numbers = grid.row_numbers[header_index + 1 :]
    normaliser = _Normaliser(body, numbers, column_map, grid.delimiter)
    rows, issues, skipped, row_count = normaliser.run()
    if not row_count:
        raise ConsumptionFileError(
            f"The file has no data rows below its header (row {header_number})."
        )
    return ConsumptionFileResult(
        rows=rows,
        issues=issues,
        skipped=skipped,
        row_count=row_count,
        header_row_number=header_number,
        columns={name: column_map.header(name) for name in column_map.indexes},
        file_format=grid.file_format,
        sheet_name=grid.sheet_name,
        encoding=grid.encoding,
        delimiter=grid.delimiter,
        price_currency=column_map.price_currency,
        notes=normaliser.notes,
    )


def _pick_sheet(grids):
    """The first sheet with every required column, else the best one."""
    best = None
    for grid in grids:
        index, score = find_header_row(grid.head())
        if index is not None and (best is None or score > best[2]):
            best = (grid, index, score)
        if score[0] == len(REQUIRED):
            break
    if best is None:
        raise no_header_error()
    return best[0], best[1]


def parse_unique(values: np.ndarray, func) -> tuple[np.ndarray, list]:
    """(codes, results): ``func`` applied once per distinct value.

    ``results[codes[i]]`` is the result for row i; code -1 (blank: None, NaN,
    NaT) picks the last result, ``func(None)``.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = [func(value) for value in uniques]
    results.append(func(None))
    return codes, results


def spread(results: list, codes: np.ndarray) -> list:
    table = np.empty(len(results), dtype=object)
    for position, result in enumerate(results):
        table[position] = result
    return table[codes].tolist()


def usable(results: list, codes: np.ndarray) -> np.ndarray:
    """Rows whose result is a value (neither blank nor Bad)."""
    flags = [r is not None and not isinstance(r, Bad) for r in results]
    return np.array(flags, dtype=bool)[codes]


def resolve_currency(column_value, header_currency, msrp_currency, price_currency):
    """(row currency, [(field, reason)]).

    The Currency column wins, else the currency named in the price headers,
    else a symbol or code written next to the amounts; they must agree.
    """
    problems = []
    currency = None
    if isinstance(column_value, Bad):
        problems.append(("currency", column_value.reason))
    elif column_value:
        currency = column_value
        if header_currency and column_value != header_currency:
            problems.append(
                (
                    "currency",
                    f"currency {column_value} does not match the price columns "
                    f"({header_currency})",
                )
            )
    currency = currency or header_currency
    for name, found in (("unit_msrp", msrp_currency), ("unit_price", price_currency)):
        if found is None:
            continue
        if currency is None:
            currency = found
        elif found != currency:
            problems.append((name, f"amount in {found}, not {currency}"))
    return currency, problems


def _decimal_separator(columns, delimiter):
    """The file's decimal separator from its unambiguous text amounts."""
    votes = Counter()
    for values in columns:
        uniques = pd.unique(values)
        votes.update(filter(None, map(decimal_separator_hint, uniques)))
    if votes:
        (top, count), *rest = votes.most_common()
        if not rest or count > rest[0][1]:
            return top
        return None
    return "," if delimiter == ";" else None


def _date_order(columns):
    votes = Counter()
    for values in columns:
        votes.update(filter(None, map(date_order_hint, pd.unique(values))))
    return "mdy" if votes["mdy"] and not votes["dmy"] else "dmy"


class _Normaliser:
    def __init__(self, body, numbers, column_map, delimiter):
        self.raw = {index: body[index].to_numpy(dtype=object) for index in body.columns}
        self.numbers = numbers.tolist()
        self.size = len(self.numbers)
        self.map = column_map
        self.delimiter = delimiter
        self.notes = list(column_map.notes)
        self.values: dict[str, list] = {}
        self.amount_currencies: dict[str, list] = {}
        self.ok = np.ones(self.size, dtype=bool)

    def column(self, name):
        index = self.map.indexes.get(name)
        return None if index is None else self.raw[index]

    def run(self):
        """(rows, issues, skipped, number of data rows considered)."""
        blank = self._blank_rows()
        totals = self._trailing_totals(blank)
        skipped = [
            SkippedRow(self.numbers[i], "blank row" if blank[i] else "totals row")
            for i in np.flatnonzero(blank | totals)
        ]
        keep = np.flatnonzero(~(blank | totals))
        self._parse_columns()
        rows, issues = self._assemble(keep)
        return rows, issues, skipped, len(keep)

    def _blank_rows(self) -> np.ndarray:
        """Rows whose every cell is blank.

        Checked column by column on the rows still blank so far: the first
        (identifier) column rules out nearly every row at once.
        """
        first = self.map.indexes["end_user_identifier"]
        order = [first, *(i for i in self.raw if i != first)]
        candidates = np.arange(self.size)
        for index in order:
            if not len(candidates):
                break
            cells = self.raw[index][candidates]
            still = np.fromiter(map(is_blank, cells), dtype=bool, count=len(cells))
            candidates = candidates[still]
        blank = np.zeros(self.size, dtype=bool)
        blank[candidates] = True
        return blank

    def _trailing_totals(self, blank) -> np.ndarray:
        totals = np.zeros(len(blank), dtype=bool)
        for i in range(len(blank) - 1, -1, -1):
            if blank[i]:
                continue
            if not self._is_totals_row(i):
                break
            totals[i] = True
        return totals

    def _is_totals_row(self, i) -> bool:
        cells = {index: values[i] for index, values in self.raw.items()}
        key_cells = [
            cells[self.map.indexes[name]]
            for name in ("end_user_identifier", "start_date", "end_date")
        ]
        label_index = next((k for k, v in cells.items() if not is_blank(v)), None)
        label = cell_text(cells[label_index]) if label_index is not None else None
        if label and _TOTALS_LABEL.match(label):
            ident_index = self.map.indexes["end_user_identifier"]
            if label_index == ident_index or any(map(is_blank, key_cells)):
                return True
        amounts = [cells[self.map.indexes[name]] for name in AMOUNT_FIELDS]
        return all(map(is_blank, key_cells)) and not all(map(is_blank, amounts))

    def _texts(self, index) -> list:
        codes, results = parse_unique(self.raw[index], cell_text)
        return spread(results, codes)

    def _parse(self, name, func, required=True):
        codes, results = parse_unique(self.column(name), func)
        self.values[name] = spread(results, codes)
        if required:
            self.ok &= usable(results, codes)

    def _parse_columns(self) -> None:
        for name in TEXT_FIELDS:
            if self.column(name) is not None:
                self._parse(name, cell_text, FIELDS_BY_NAME[name].required)
        separator = _decimal_separator(
            [self.column(name) for name in AMOUNT_FIELDS], self.delimiter
        )
        for name in AMOUNT_FIELDS:
            codes, results = parse_unique(
                self.column(name), lambda v: parse_amount(v, separator)
            )
            numbers = [r[0] if isinstance(r, tuple) else r for r in results]
            self.values[name] = spread(numbers, codes)
            self.ok &= usable(numbers, codes)
            currencies = [r[1] if isinstance(r, tuple) else None for r in results]
            if any(currencies):
                self.amount_currencies[name] = spread(currencies, codes)
        order = _date_order([self.column(name) for name in DATE_FIELDS])
        if order == "mdy":
            self.notes.append("Dates read month first (e.g. 01/31/2025).")
        for name in DATE_FIELDS:
            self._parse(name, lambda v: parse_date(v, order))
        if self.column("currency") is not None:
            self._parse("currency", parse_currency, required=False)

    def _row_currencies(self) -> list:
        """The currency of every row; rows where they disagree lose ``ok``."""
        header_currency = self.map.price_currency
        column = self.values.get("currency")
        msrp = self.amount_currencies.get("unit_msrp")
        price = self.amount_currencies.get("unit_price")
        if column is None and msrp is None and price is None:
            return [header_currency] * self.size
        nothing = [None] * self.size
        currencies = []
        for i, found in enumerate(
            zip(column or nothing, msrp or nothing, price or nothing, strict=True)
        ):
            currency, problems = resolve_currency(
                found[0], header_currency, found[1], found[2]
            )
            currencies.append(currency)
            if problems:
                self.ok[i] = False
        return currencies

    def _assemble(self, keep):
        values, numbers = self.values, self.numbers
        nothing = [None] * self.size
        ident, product = values["end_user_identifier"], values["product_description"]
        start, end = values["start_date"], values["end_date"]
        quantity, msrp, price = (values[name] for name in AMOUNT_FIELDS)
        customer, sku, partner, partner_id = (
            values.get(name, nothing)
            for name in (
                "end_customer_name",
                "sku",
                "partner_name",
                "partner_identifier",
            )
        )
        currencies = self._row_currencies()
        extra_headers = [self.map.headers[i] for i in self.map.extra_indexes]
        extra_columns = [self._texts(i) for i in self.map.extra_indexes]
        extra_rows = list(zip(*extra_columns, strict=True)) or [()] * self.size
        ok = self.ok.tolist()
        rows, issues = [], []
        for i in keep.tolist():
            if ok[i] and not end[i] < start[i]:
                extra = {
                    h: v
                    for h, v in zip(extra_headers, extra_rows[i], strict=True)
                    if v is not None
                }
                rows.append(
                    ConsumptionRow(
                        numbers[i],
                        ident[i],
                        start[i],
                        end[i],
                        product[i],
                        quantity[i],
                        msrp[i],
                        price[i],
                        customer[i],
                        sku[i],
                        currencies[i],
                        partner[i],
                        partner_id[i],
                        extra,
                    )
                )
            else:
                issues += self._row_issues(i)
        return rows, issues

    def _row_issues(self, i) -> list[RowIssue]:
        """Every bad cell of row i, left to right."""
        found = []

        def add(name, reason):
            raw = cell_text(self.column(name)[i]) or ""
            issue = RowIssue(self.numbers[i], self.map.header(name), raw, reason)
            found.append((self.map.indexes[name], issue))

        for field in REQUIRED:
            value = self.values[field.name][i]
            if value is None:
                add(field.name, EMPTY)
            elif isinstance(value, Bad):
                add(field.name, value.reason)
        start, end = self.values["start_date"][i], self.values["end_date"][i]
        if isinstance(start, date) and isinstance(end, date) and end < start:
            add("end_date", "end date before start date")
        _, problems = resolve_currency(
            self.values["currency"][i] if "currency" in self.values else None,
            self.map.price_currency,
            *(
                self.amount_currencies[name][i]
                if name in self.amount_currencies
                else None
                for name in ("unit_msrp", "unit_price")
            ),
        )
        for name, reason in problems:
            add(name, reason)
        assert found, f"row {self.numbers[i]} rejected without a reason"
        found.sort(key=lambda item: item[0])
        return [issue for _, issue in found]
