"""read_consumption_file: one Sophos consumption file to checked rows.

Normalisation is column-wise: each column is factorised and every distinct
value is parsed once (a month's file repeats the same dates, prices and
product names on thousands of rows), then the results are spread back over
the rows. Only the final assembly of rows and issues walks row by row.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from .columns import REQUIRED, find_header_row, map_columns, no_header_error
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
    result = _Normaliser(body, numbers, column_map, grid.delimiter).run()
    if not result.row_count:
        raise ConsumptionFileError(
            f"The file has no data rows below its header (row {header_number})."
        )
    result.header_row_number = header_number
    result.file_format = grid.file_format
    result.sheet_name = grid.sheet_name
    result.encoding = grid.encoding
    result.delimiter = grid.delimiter
    return result


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


def map_unique(values: np.ndarray, func) -> np.ndarray:
    """func applied once per distinct value, spread back over ``values``."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    for position, value in enumerate(uniques):
        results[position] = func(value)
    results[-1] = func(None)  # code -1: None / NaN / NaT
    return results[codes]


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
        self.numbers = numbers
        self.map = column_map
        self.delimiter = delimiter
        self.notes = list(column_map.notes)

    def column(self, name):
        index = self.map.indexes.get(name)
        if index is None:
            return None
        return self.raw[index]

    def run(self) -> ConsumptionFileResult:
        blank = self._blank_rows()
        totals = self._trailing_totals(blank)
        skipped = [
            SkippedRow(int(self.numbers[i]), "blank row" if blank[i] else "totals row")
            for i in np.flatnonzero(blank | totals)
        ]
        keep = np.flatnonzero(~(blank | totals))
        parsed = self._parse_columns()
        rows, issues = self._assemble(keep, parsed)
        return ConsumptionFileResult(
            rows=rows,
            issues=issues,
            skipped=skipped,
            row_count=len(keep),
            header_row_number=0,
            columns={name: self.map.header(name) for name in self.map.indexes},
            file_format="",
            price_currency=self.map.price_currency,
            notes=self.notes,
        )

    def _blank_rows(self) -> np.ndarray:
        blank = np.ones(len(self.numbers), dtype=bool)
        for values in self.raw.values():
            blank &= map_unique(values, is_blank).astype(bool)
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

    def _parse_columns(self) -> dict[str, np.ndarray]:
        parsed = {}
        for name in TEXT_FIELDS:
            values = self.column(name)
            if values is not None:
                parsed[name] = map_unique(values, cell_text)
        amounts = [self.column(name) for name in AMOUNT_FIELDS]
        separator = _decimal_separator(amounts, self.delimiter)
        for name, values in zip(AMOUNT_FIELDS, amounts, strict=True):
            parsed[name] = map_unique(values, lambda v: parse_amount(v, separator))
        dates = [self.column(name) for name in DATE_FIELDS]
        order = _date_order(dates)
        if order == "mdy":
            self.notes.append("Dates read month first (e.g. 01/31/2025).")
        for name, values in zip(DATE_FIELDS, dates, strict=True):
            parsed[name] = map_unique(values, lambda v: parse_date(v, order))
        currencies = self.column("currency")
        if currencies is not None:
            parsed["currency"] = map_unique(currencies, parse_currency)
        return parsed

    def _assemble(self, keep, parsed):
        headers = {name: self.map.header(name) for name in self.map.indexes}
        extras = [
            (self.map.headers[i], map_unique(self.raw[i], cell_text))
            for i in self.map.extra_indexes
        ]
        optional = [
            parsed.get(name)
            for name in (
                "end_customer_name",
                "sku",
                "partner_name",
                "partner_identifier",
            )
        ]
        header_currency = self.map.price_currency
        rows, issues = [], []
        for i in keep:
            number = int(self.numbers[i])
            row_issues = []

            def bad(name, reason, number=number, row_issues=row_issues, i=i):
                raw = self.column(name)[i]
                issue = RowIssue(number, headers[name], cell_text(raw) or "", reason)
                row_issues.append((self.map.indexes[name], issue))

            values = {}
            for name in REQUIRED:
                value = parsed[name.name][i]
                if value is None:
                    bad(name.name, EMPTY)
                elif isinstance(value, Bad):
                    bad(name.name, value.reason)
                values[name.name] = value
            start, end = values["start_date"], values["end_date"]
            if (
                start is not None
                and end is not None
                and not isinstance(start, Bad)
                and not isinstance(end, Bad)
                and end < start
            ):
                bad("end_date", "end date before start date")
            currency = self._row_currency(i, parsed, values, header_currency, bad)
            if row_issues:
                row_issues.sort(key=lambda item: item[0])
                issues.extend(issue for _, issue in row_issues)
                continue
            quantity, unit_msrp, unit_price = (
                values[name][0] for name in AMOUNT_FIELDS
            )
            customer, sku, partner, partner_id = (
                column[i] if column is not None else None for column in optional
            )
            extra = {h: col[i] for h, col in extras if col[i] is not None}
            rows.append(
                ConsumptionRow(
                    number,
                    values["end_user_identifier"],
                    start,
                    end,
                    values["product_description"],
                    quantity,
                    unit_msrp,
                    unit_price,
                    customer,
                    sku,
                    currency,
                    partner,
                    partner_id,
                    extra,
                )
            )
        return rows, issues

    def _row_currency(self, i, parsed, values, header_currency, bad):
        """Currency column, else price header, else symbol next to amounts."""
        currency = None
        if "currency" in parsed:
            currency = parsed["currency"][i]
            if isinstance(currency, Bad):
                bad("currency", currency.reason)
                currency = None
            elif currency and header_currency and currency != header_currency:
                bad(
                    "currency",
                    f"currency {currency} does not match the price columns "
                    f"({header_currency})",
                )
        currency = currency or header_currency
        for name in ("unit_msrp", "unit_price"):
            value = values[name]
            if isinstance(value, Bad) or value is None or value[1] is None:
                continue
            if currency is None:
                currency = value[1]
            elif value[1] != currency:
                bad(name, f"amount in {value[1]}, not {currency}")
        return currency
