"""read_consumption_file: one Sophos consumption file to checked rows.

Normalisation is column-wise: each column is factorised and every distinct
value is parsed once (a month's file repeats the same dates, prices and
product names on thousands of rows), then the results are taken for the
rows, a column at a time, and the rows are filled a field at a time
(:func:`~.model.rows_from_columns`); only rows with issues are looked at one
by one. The same factorisation finds rows that repeat an earlier row cell
for cell. The cyclic garbage collector is paused while a file is read.

A row becomes issues (never a silent value) when a cell of a known column
cannot be used: empty where required, not a number / date, a number out of
range or with too many decimals, an Excel error ("#N/A"), a date out of the
billing range, an unknown currency, a text longer than the cell limit (any
column); and when the row is hidden in the workbook ("hidden row", on the
first column).
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from contextlib import contextmanager
from datetime import date
from itertools import repeat

import numpy as np
import pandas as pd

from .columns import (
    FIELDS,
    FIELDS_BY_NAME,
    REQUIRED,
    find_header_row,
    map_columns,
    no_header_error,
)
from .limits import DEFAULT_LIMITS, Limits, number
from .model import (
    ROW_FIELDS,
    ConsumptionFileError,
    ConsumptionFileResult,
    RowIssue,
    SkippedRow,
    rows_from_columns,
)
from .sources import detect_format, iter_grids, load_bytes
from .values import (
    ERROR_STARTS,
    EXCEL_ERROR,
    Bad,
    cell_text,
    check_date_range,
    date_order_hint,
    decimal_separator_hint,
    excel_error,
    is_blank,
    latest_date,
    parse_amount,
    parse_currency,
    parse_date,
    strip_blanks,
)

# Odd 64-bit weights: a row's hash is the weighted sum of its column codes.
_HASH_WEIGHTS = np.random.default_rng(20250101).integers(
    1, 2**62, size=256, dtype=np.uint64
) * np.uint64(2) + np.uint64(1)

EMPTY = "required value is empty"
HIDDEN_ROW = "hidden row"
ISSUE_VALUE_CHARS = 200
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


def read_consumption_file(source, filename=None, *, currency=None, limits=None):
    """Read a consumption file (.xlsx, .xls or .csv) into a result.

    ``source`` is a path, the file's bytes or a binary file object;
    ``filename`` (for bytes) lends its extension. ``currency`` picks the
    price columns when an API export carries several currencies. ``limits``
    (:class:`~.limits.Limits`, defaults when None) bounds what the file may
    hold. Raises :class:`ConsumptionFileError` when the file as a whole
    cannot be used, or must not be read (see :mod:`.preflight`); bad cells
    become ``result.issues`` instead.
    """
    limits = limits or DEFAULT_LIMITS
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be a Limits, not {type(limits).__name__}")
    try:
        with _collector_paused():
            return _read(source, filename, currency, limits)
    except MemoryError:
        raise ConsumptionFileError(
            "The file needs more memory than this process has: lower its size "
            "or the limits."
        ) from None


@contextmanager
def _collector_paused():
    """No cyclic garbage collection while a file is read: the read makes no
    cycles, but its hundreds of thousands of rows, lists and dicts would
    make the collector walk the heap over and over (a tenth of the time).
    The collector runs again as before afterwards."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _read(source, filename, currency, limits):
    data, filename = load_bytes(source, filename, limits)
    file_format = detect_format(data, filename)
    grid, header_index = _pick_sheet(iter_grids(data, file_format, limits))
    del data
    header_number = int(grid.row_numbers[header_index])
    header_cells = grid.row(header_index)
    column_map = map_columns(header_cells, header_number, currency)
    normaliser = _Normaliser(grid, header_index + 1, column_map, limits)
    rows, issues, skipped, row_count = normaliser.run()
    issue_cells = normaliser.issue_cells
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
        repeats=normaliser.repeats,
        issue_cells=issue_cells,
        headers=[column_map.headers[i] for i in sorted(column_map.headers)],
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


def parse_unique(
    values: np.ndarray, func, factorized=None, guard=None
) -> tuple[np.ndarray, list]:
    """(codes, results): ``func`` applied once per distinct value.

    ``results[codes[i]]`` is the result for row i; code -1 (blank: None, NaN,
    NaT) picks the last result, ``func(None)``. ``factorized`` is
    ``pd.factorize(values)`` when already known. ``guard`` is (max_chars,
    too_long): the checks every known column shares, a text past the cell
    limit (``too_long``) and an Excel error, before ``func``.
    """
    codes, uniques = factorized or pd.factorize(values, use_na_sentinel=True)
    if guard is None:
        results = [func(value) for value in uniques]
    else:
        max_chars, too_long = guard
        results = []
        append = results.append
        for value in uniques:
            if value.__class__ is str:
                if len(value) > max_chars:
                    append(too_long)
                    continue
                if value[:1] in ERROR_STARTS and excel_error(value):
                    append(EXCEL_ERROR)
                    continue
            append(func(value))
    results.append(func(None))
    return codes, results


def text_of(value) -> str | None:
    """:func:`~.values.cell_text`, its common case (a text) first."""
    if value.__class__ is str:
        return strip_blanks(value) or None
    return cell_text(value)


def object_table(results: list) -> np.ndarray:
    table = np.empty(len(results), dtype=object)
    for position, result in enumerate(results):
        table[position] = result
    return table


class Column:
    """Parsed values of a column, kept as :func:`parse_unique` gives them:
    row i's value is ``column[i]`` (one result per distinct cell, spread
    only over the rows that are taken)."""

    __slots__ = ("table", "codes")

    def __init__(self, results: list, codes: np.ndarray):
        self.table = object_table(results)
        self.codes = codes

    def __getitem__(self, i):
        return self.table[self.codes[i]]

    def take(self, rows: np.ndarray) -> list:
        """The values of ``rows`` (positions), in their order."""
        return self.table[self.codes[rows]].tolist()

    def flags(self, test) -> np.ndarray:
        """``test(value)`` of every row, as booleans."""
        return np.array([bool(test(r)) for r in self.table], dtype=bool)[self.codes]


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


def _ordinals(column: Column, rows: np.ndarray) -> np.ndarray:
    """The day numbers of a date column's values at ``rows`` (which are
    dates)."""
    days = [r.toordinal() if isinstance(r, date) else 0 for r in column.table]
    return np.array(days, dtype=np.int64)[column.codes[rows]]


class _Normaliser:
    """The rows of ``grid`` from row ``start`` on (below the header)."""

    def __init__(self, grid, start: int, column_map, limits: Limits):
        self.grid, self.start = grid, start
        self.raw = {index: column[start:] for index, column in enumerate(grid.columns)}
        self.numbers = grid.row_numbers[start:].tolist()
        self.size = len(self.numbers)
        self.map = column_map
        self.delimiter = grid.delimiter
        self.notes = list(column_map.notes)
        self.values: dict[str, list] = {}
        self.amount_currencies: dict[str, list] = {}
        self.ok = np.ones(self.size, dtype=bool)
        self.max_chars = limits.max_cell_chars
        self.too_long = Bad(
            f"text longer than {number(limits.max_cell_chars)} characters"
        )
        self.guard = (self.max_chars, self.too_long)
        self.hidden = np.zeros(self.size, dtype=bool)
        if grid.hidden_rows:
            self.hidden[[n in grid.hidden_rows for n in self.numbers]] = True
        self.long_extras: dict[int, np.ndarray] = {}
        self.repeats: dict[int, int] = {}
        self.issue_cells: dict[int, dict[str, str]] = {}
        self._factorized: dict[int, tuple] = {}
        self._changed: set[int] = set()  # columns the grid no longer holds
        if grid.error_cells is not None and self._blank_known_cells():
            columns = {index + 1 for index in column_map.indexes.values()}
            self._put_errors(grid.error_cells(columns))

    def column(self, name):
        index = self.map.indexes.get(name)
        return None if index is None else self.raw[index]

    def factorized(self, index):
        if index not in self._factorized:
            if index in self._changed:
                found = pd.factorize(self.raw[index], use_na_sentinel=True)
            else:
                found = self.grid.factorize(index, self.start)
            self._factorized[index] = found
        return self._factorized[index]

    def _blank_known_cells(self) -> bool:
        """Whether a known column has empty cells: calamine hands an Excel
        error cell over as an empty string."""
        for index in self.map.indexes.values():
            codes, uniques = self.factorized(index)
            if (codes < 0).any() or (uniques == "").any():
                return True
        return False

    def _put_errors(self, errors) -> None:
        """Excel error cells (row, column, text: sheet positions) back into
        the columns."""
        position = {n: i for i, n in enumerate(self.numbers)}
        for row, column, text in errors:
            index = column - 1
            if row in position and index in self.raw:
                if not self.raw[index].flags.writeable:
                    self.raw[index] = self.raw[index].copy()
                self.raw[index][position[row]] = text
                self._factorized.pop(index, None)
                self._changed.add(index)

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
        self.ok &= ~self.hidden
        self._find_repeats(keep)
        rows, issues = self._assemble(keep)
        return rows, issues, skipped, len(keep)

    def _blank_rows(self) -> np.ndarray:
        """Rows whose every cell is blank.

        Checked column by column on the rows still blank so far: the first
        (identifier) column rules out nearly every row at once.
        """
        first = self.map.indexes["end_user_identifier"]
        codes, uniques = self.factorized(first)
        flags = np.fromiter(map(is_blank, uniques), dtype=bool, count=len(uniques))
        candidates = np.flatnonzero(np.append(flags, True)[codes])
        for index in self.raw:
            if not len(candidates):
                break
            if index == first:
                continue
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
        if label and len(label) < 200 and _TOTALS_LABEL.match(label):
            ident_index = self.map.indexes["end_user_identifier"]
            if label_index == ident_index or any(map(is_blank, key_cells)):
                return True
        amounts = [cells[self.map.indexes[name]] for name in AMOUNT_FIELDS]
        return all(map(is_blank, key_cells)) and not all(map(is_blank, amounts))

    def _find_repeats(self, keep) -> None:
        """Rows equal cell for cell to an earlier data row.

        Each row's column codes are hashed into one number (vectorised); only
        rows whose hash occurs twice are compared code for code.
        """
        if len(keep) < 2 or not self.raw:
            return
        matrix = np.column_stack(
            [self.factorized(index)[0][keep] for index in self.raw]
        ).astype(np.uint64)
        weights = _HASH_WEIGHTS[: matrix.shape[1]]
        if len(weights) < matrix.shape[1]:
            weights = np.resize(_HASH_WEIGHTS, matrix.shape[1])
        hashes = (matrix * weights).sum(axis=1, dtype=np.uint64)
        involved = np.flatnonzero(pd.Series(hashes).duplicated(keep=False).to_numpy())
        first: dict[tuple, int] = {}
        for position in involved.tolist():
            key = tuple(matrix[position].tolist())
            number_ = self.numbers[keep[position]]
            earlier = first.setdefault(key, number_)
            if earlier != number_:
                self.repeats[number_] = earlier

    def _texts(self, index) -> Column:
        codes, results = parse_unique(self.raw[index], text_of, self.factorized(index))
        return Column(results, codes)

    def _parse(self, name, func, required=True):
        index = self.map.indexes[name]
        codes, results = parse_unique(
            self.raw[index], func, self.factorized(index), self.guard
        )
        self.values[name] = Column(results, codes)
        if required:
            self.ok &= usable(results, codes)
        else:
            bad = np.array([isinstance(r, Bad) for r in results], dtype=bool)
            self.ok &= ~bad[codes]

    def _parse_columns(self) -> None:
        for name in TEXT_FIELDS:  # the guard already tells Excel errors
            if self.column(name) is not None:
                self._parse(name, text_of, FIELDS_BY_NAME[name].required)
        separator = _decimal_separator(
            [self.column(name) for name in AMOUNT_FIELDS], self.delimiter
        )
        for name in AMOUNT_FIELDS:
            index = self.map.indexes[name]
            codes, results = parse_unique(
                self.raw[index],
                lambda v: parse_amount(v, separator),
                self.factorized(index),
                self.guard,
            )
            numbers = [r[0] if isinstance(r, tuple) else r for r in results]
            self.values[name] = Column(numbers, codes)
            self.ok &= usable(numbers, codes)
            currencies = [r[1] if isinstance(r, tuple) else None for r in results]
            if any(currencies):
                self.amount_currencies[name] = Column(currencies, codes)
        order = _date_order([self.column(name) for name in DATE_FIELDS])
        if order == "mdy":
            self.notes.append("Dates read month first (e.g. 01/31/2025).")
        latest = latest_date()
        for name in DATE_FIELDS:
            self._parse(name, lambda v: check_date_range(parse_date(v, order), latest))
        if self.column("currency") is not None:
            self._parse("currency", parse_currency, required=False)
        for index in self.map.extra_indexes:
            codes, uniques = self.factorized(index)
            flags = [isinstance(u, str) and len(u) > self.max_chars for u in uniques]
            if any(flags):
                long = np.array([*flags, False], dtype=bool)[codes]
                self.long_extras[index] = long
                self.ok &= ~long

    def _row_currencies(self) -> Column:
        """The currency of every row; rows where they disagree lose ``ok``.

        Resolved once per distinct (Currency column, MSRP currency, price
        currency) of the rows: a file holds a handful of them.
        """
        header_currency = self.map.price_currency
        sources = (
            self.values.get("currency"),
            self.amount_currencies.get("unit_msrp"),
            self.amount_currencies.get("unit_price"),
        )
        if all(source is None for source in sources):
            return Column([header_currency], np.zeros(self.size, dtype=np.intp))
        key = np.zeros(self.size, dtype=np.int64)
        for source in sources:
            if source is not None:
                ids, distinct = pd.factorize(source.table, use_na_sentinel=True)
                key = key * (len(distinct) + 1) + (ids + 1)[source.codes]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        currencies, disagree = [], []
        for i in first.tolist():
            found = [None if c is None else c[i] for c in sources]
            currency, problems = resolve_currency(
                found[0], header_currency, found[1], found[2]
            )
            currencies.append(currency)
            disagree.append(bool(problems))
        self.ok &= ~np.array(disagree, dtype=bool)[inverse]
        return Column(currencies, inverse.reshape(-1))

    def _assemble(self, keep):
        """(rows, issues) of the rows at ``keep`` (positions), in order."""
        values = self.values
        currencies = self._row_currencies()
        start, end = values["start_date"], values["end_date"]
        good = self.ok[keep]
        # the dates of ok rows are dates: end before start, by their ordinals
        candidates = keep[good]
        good[good] = _ordinals(start, candidates) <= _ordinals(end, candidates)
        taken, rejected = keep[good], keep[~good]
        columns = {
            name: values[name].take(taken) if name in values else None
            for name in ROW_FIELDS
        }
        columns["row_number"] = np.asarray(self.numbers)[taken].tolist()
        columns["currency"] = currencies.take(taken)
        columns["extra"] = self._extras(taken)
        rows = rows_from_columns(columns, len(taken))
        issues = []
        numbers = self.numbers
        for i in rejected.tolist():
            issues += self._row_issues(i)
            self.issue_cells[numbers[i]] = self._row_cells(i)
        return rows, issues

    def _extras(self, taken) -> list[dict]:
        """The non-blank cells of the other columns of rows ``taken``, by
        header."""
        headers = [self.map.headers[i] for i in self.map.extra_indexes]
        if not headers:
            return [{} for _ in range(len(taken))]
        texts = [self._texts(i) for i in self.map.extra_indexes]
        cells = list(zip(*(column.take(taken) for column in texts), strict=True))
        extras = list(map(dict, map(zip, repeat(headers), cells)))
        blank = np.zeros(len(taken), dtype=bool)
        for column in texts:
            blank |= column.flags(lambda value: value is None)[taken]
        for position in np.flatnonzero(blank).tolist():
            extras[position] = {
                header: value
                for header, value in zip(headers, cells[position], strict=True)
                if value is not None
            }
        return extras

    def _row_cells(self, i) -> dict[str, str]:
        """Every non-blank cell of row i as text, by header, left to right
        (cut like an issue's value)."""
        cells = {}
        for index, header in self.map.headers.items():
            text = cell_text(self.raw[index][i]) if index in self.raw else None
            if text:
                if len(text) > ISSUE_VALUE_CHARS:
                    text = text[:ISSUE_VALUE_CHARS] + "…"
                cells[header] = text
        return cells

    def _issue(self, i, index, reason) -> RowIssue:
        raw = self.raw[index][i] if index in self.raw else None
        text = cell_text(raw) or ""
        if len(text) > ISSUE_VALUE_CHARS:
            text = text[:ISSUE_VALUE_CHARS] + "…"
        return RowIssue(self.numbers[i], self.map.headers[index], text, reason)

    def _row_issues(self, i) -> list[RowIssue]:
        """Every bad cell of row i, left to right (a hidden row first)."""
        found = []

        def add(name, reason):
            index = self.map.indexes[name]
            found.append((index, self._issue(i, index, reason)))

        if self.hidden[i]:
            found.append((-1, self._issue(i, 0, HIDDEN_ROW)))
        for field in FIELDS:
            if field.name not in self.values or field.name == "currency":
                continue
            value = self.values[field.name][i]
            if value is None and field.required:
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
        for index, long in self.long_extras.items():
            if long[i]:
                found.append((index, self._issue(i, index, self.too_long.reason)))
        assert found, f"row {self.numbers[i]} rejected without a reason"
        found.sort(key=lambda item: item[0])
        return [issue for _, issue in found]
