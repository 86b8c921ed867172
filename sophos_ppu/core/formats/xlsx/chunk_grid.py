"""The cells of a sheet's chunks, read in parallel, as one grid from A1."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...columns import HEADER_SCAN_ROWS
from ...limits import Limits
from ..grid import Grid, columns_of
from ..refusals import NOT_OURS


class ChunkGrid:
    """The chunks' cells, in order, as one grid from A1 (the cells
    ``to_python`` gives for the whole sheet). Each chunk is converted, and
    factorised past the header rows, as soon as it is read; a chunk that
    failed, or whose rows do not come after the previous chunk's, makes the
    chunks unable to stand for the sheet (``grid()`` is None)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.pieces = []  # (first row, first column, columns, factorised)
        self.next_row = self.height = self.width = 0
        self.failed = False

    def add(self, result) -> None:
        """The next chunk, from ``result()`` (its CalamineSheet)."""
        if self.failed:
            return
        try:
            sheet = result()
        except NOT_OURS:
            raise
        except BaseException:  # noqa: BLE001 - read whole, to fail as before
            self.failed = True
            return
        start, end = sheet.start, sheet.end
        if start is None:
            return  # no value in this chunk
        self.height = max(self.height, end[0])
        self.width = max(self.width, end[1])
        cells = self.height * self.width
        if start[0] < self.next_row or cells > max(self.limits.max_cells, 1):
            self.failed = True
            return
        columns = columns_of(sheet.to_python(skip_empty_area=True))
        del sheet
        factorized = {}
        if start[0] >= HEADER_SCAN_ROWS:  # the header is above: all data
            for offset, column in enumerate(columns):
                factorized[start[1] + offset] = pd.factorize(
                    column, use_na_sentinel=True
                )
        self.pieces.append((start[0], start[1], columns, factorized))
        self.next_row = end[0] + 1

    def grid(self) -> Grid | None:
        if self.failed:
            return None
        width = self.width + 1 if self.pieces else 0
        return _assemble_chunks(self.pieces, self.next_row, width)


def _assemble_chunks(pieces, height: int, width: int) -> Grid:
    """One grid from the chunks' pieces (first row, first column, columns,
    factorised), empty cells ('') where no chunk has any."""
    parts = [[] for _ in range(width)]
    blocks, row = [], 0
    for first, left, columns, factorized in pieces:
        if first > row:  # rows without any value between chunks
            for part in parts:
                part.append(np.full(first - row, "", dtype=object))
            blocks.append((row, first - row, {}))
        count = len(columns[0])
        for index, part in enumerate(parts):
            inside = 0 <= index - left < len(columns)
            part.append(
                columns[index - left] if inside else np.full(count, "", dtype=object)
            )
        blocks.append((first, count, factorized))
        row = first + count
    columns = [np.concatenate(part) if len(part) > 1 else part[0] for part in parts]
    return Grid(columns, np.arange(1, height + 1), "xlsx", blocks=blocks)
