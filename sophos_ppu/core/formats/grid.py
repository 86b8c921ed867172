"""The grid every reader returns: a sheet's raw cells, a column at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..columns import HEADER_SCAN_ROWS


@dataclass
class Grid:
    """A sheet's cells, a column at a time: ``columns[j][i]`` is the cell of
    column j on the sheet's row ``row_numbers[i]`` (object arrays)."""

    columns: list[np.ndarray]
    row_numbers: np.ndarray
    file_format: str
    sheet_name: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    hidden_rows: frozenset[int] = frozenset()
    #: error_cells(columns) -> (row, column, "#N/A")... (1-based) for the
    #: error cells of those columns, which the reader handed over as empty
    #: (python-calamine); None when the cells carry their error text.
    error_cells: Callable[[set[int]], Iterator[tuple[int, int, str]]] | None = field(
        default=None, repr=False
    )

    #: Rows already factorised a block at a time (sheets read in chunks):
    #: (first row, number of rows, {column: pd.factorize of its cells}).
    blocks: list[tuple[int, int, dict]] = field(default_factory=list, repr=False)

    def row(self, i: int) -> list:
        return [column[i] for column in self.columns]

    def head(self) -> list[list]:
        count = min(HEADER_SCAN_ROWS, len(self.row_numbers))
        return [self.row(i) for i in range(count)]

    def factorize(self, index: int, start: int) -> tuple[np.ndarray, np.ndarray]:
        """``pd.factorize`` (blanks as -1) of column ``index`` from row
        ``start`` on; from the blocks' factorisations where known."""
        column = self.columns[index]
        if not self.blocks:
            return pd.factorize(column[start:], use_na_sentinel=True)
        pieces = []
        for first, count, factorized in self.blocks:
            if first + count <= start:
                continue
            known = factorized.get(index) if first >= start else None
            pieces.append(
                known
                or pd.factorize(
                    column[max(first, start) : first + count], use_na_sentinel=True
                )
            )
        return merge_factorized(pieces)


def merge_factorized(pieces) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of consecutive pieces of a column from each piece's:
    the same codes and uniques (first seen first) as the whole column's."""
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=object)
    ids, uniques = pd.factorize(
        np.concatenate([u for _, u in pieces]), use_na_sentinel=True
    )
    codes, offset = [], 0
    for piece_codes, piece_uniques in pieces:
        end = offset + len(piece_uniques)
        codes.append(np.append(ids[offset:end], -1)[piece_codes])  # -1 stays
        offset = end
    return np.concatenate(codes), uniques


def columns_of(rows) -> list[np.ndarray]:
    """The columns of a list of rows (short rows padded as pandas pads
    them)."""
    frame = pd.DataFrame(rows, dtype=object)
    return [frame[label].to_numpy(dtype=object) for label in frame.columns]


def grid_of_rows(rows, file_format, **kwargs) -> Grid:
    numbers = np.arange(1, len(rows) + 1)
    return Grid(columns_of(rows), numbers, file_format, **kwargs)
