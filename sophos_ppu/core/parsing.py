"""Column-wise parsing: every distinct cell of a column parsed once.

A month's file repeats the same dates, prices and product names on
thousands of rows: a column is factorised, each distinct value parsed once
(:func:`parse_unique`), and the results kept as a :class:`Column` (one
result per distinct cell, spread over the rows only when they are taken).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .values import ERROR_STARTS, EXCEL_ERROR, Bad, excel_error


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


def currency_codes(column: Column) -> np.ndarray:
    """The currency code of every row, "" where the cell holds none."""
    codes = [r if isinstance(r, str) else "" for r in column.table]
    return np.array(codes, dtype=object)[column.codes]


def ordinals(column: Column, rows: np.ndarray) -> np.ndarray:
    """The day numbers of a date column's values at ``rows`` (which are
    dates)."""
    days = [r.toordinal() if isinstance(r, date) else 0 for r in column.table]
    return np.array(days, dtype=np.int64)[column.codes[rows]]
