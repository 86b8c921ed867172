"""The grids of a workbook's visible sheets, each read only once checked."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace

from ...limits import Limits
from ..grid import Grid, grid_of_rows
from ..refusals import all_sheets_hidden
from .error_cells import sheet_error_cells
from .package import inspect_xlsx
from .parallel_read import sheet_cells


def xlsx_grids(data: bytes, limits: Limits) -> Iterator[Grid]:
    """Grids of an .xlsx workbook's visible sheets, each sheet scanned before
    calamine reads it; its error cells are found on demand."""
    package = inspect_xlsx(data, limits)
    visible = package.visible_sheets
    if not visible:
        raise all_sheets_hidden([s.name for s in package.sheets])
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = set(workbook.sheet_names)
    for info in visible:
        if info.name not in names:
            continue
        if package.part(info.path or "") is None:
            continue  # calamine could not find it either: never read unscanned
        cells, scan = sheet_cells(package, workbook, info, limits)
        grid = cells if isinstance(cells, Grid) else grid_of_rows(cells, "xlsx")
        del cells
        yield replace(
            grid,
            sheet_name=info.name,
            hidden_rows=frozenset(scan.hidden_rows),
            error_cells=lambda columns, scan=scan: sheet_error_cells(
                package, scan, columns
            ),
        )
        del grid
