"""Large .xlsx sheets read in chunks by parallel threads give exactly what
reading the sheet whole gives; and the vectorised steps of the reader give
what the row-by-row ones gave.

The chunks are made tiny here (a few hundred bytes of XML) so that small
files are cut into many of them: every row, value, issue, note, repeat and
refusal must come out as when the sheet is read whole.
"""

import datetime as dt
import gc
import io
import random
import zipfile
from dataclasses import fields

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import SOPHOS_HEADER, SOPHOS_TITLE_ROWS, sophos_row
from hostile import (
    data_row,
    sheet_xml,
    xlsx_bytes,
)

from sophos_ppu.core import (
    ConsumptionFileError,
    ConsumptionRow,
    Limits,
    formats,
    read_consumption_file,
)
from sophos_ppu.core.formats.grid import Grid, merge_factorized
from sophos_ppu.core.formats.xlsx import parallel_read
from sophos_ppu.core.formats.xlsx.chunk_zip import BuffersFile
from sophos_ppu.core.formats.xlsx.package import inspect_xlsx
from sophos_ppu.core.formats.xlsx.sheet_scan import scan_sheet
from sophos_ppu.core.formats.xlsx.split import SheetSplitter
from sophos_ppu.core.model import ROW_FIELDS, rows_from_columns
from sophos_ppu.core.xlsx_parts import error, inline, num

JAN_1, JAN_31 = dt.date(2025, 1, 1), dt.date(2025, 1, 31)


@pytest.fixture
def chunked(monkeypatch):
    """read(path, **kw) -> (whole, in chunks, number of chunks read, or 0
    when the chunks' cells were not used and the sheet was read whole)."""
    calls, used = [], []
    read_chunk, parallel_rows = parallel_read._read_chunk, parallel_read._parallel_rows

    def spy(package, info, chunk):
        calls.append(chunk.index)
        return read_chunk(package, info, chunk)

    def spy_rows(*args):
        scan, grid = parallel_rows(*args)
        used.append(grid is not None)
        return scan, grid

    monkeypatch.setattr(parallel_read, "_read_chunk", spy)
    monkeypatch.setattr(parallel_read, "_parallel_rows", spy_rows)
    monkeypatch.setattr(parallel_read, "SHARED_STRINGS_SHARE", 0)
    monkeypatch.setattr(parallel_read, "CHUNKS_PER_READER", 10_000)

    def read(path, chunk_bytes=400, **kw):
        monkeypatch.setattr(parallel_read, "PARALLEL_READERS", 1)
        whole = read_consumption_file(path, **kw)
        assert not calls
        monkeypatch.setattr(parallel_read, "PARALLEL_READERS", 2)
        monkeypatch.setattr(parallel_read, "MIN_CHUNK_BYTES", chunk_bytes)
        parallel = read_consumption_file(path, **kw)
        count = len(calls) if used == [True] else 0
        calls.clear()
        used.clear()
        return whole, parallel, count

    return read


def tricky_rows(count=400, seed=3):
    """Sophos rows cycling through what files hold: blanks, text numbers and
    dates, serials, negative and fractional quantities, 1 / 1.0 / True / "1"
    in one column, errors as text, unknown currencies, repeats, blank rows."""
    rng = random.Random(seed)
    quantities = [25, -3, 0.5, 1, 1.0, True, "1", "2,5", "1.234,5", None, "x", 1e-7]
    msrps = [4.5, "4,50", "€ 4,50", "4.50 USD", 0.1, "#N/A", None, 12, "1,234"]
    starts = [JAN_1, "01.01.2025", "2025-01-01", 45658, "1 Jan 2025", None, "32.1.25"]
    currencies = ["EUR", "eur", "USD", "XXX", None, "€"]
    rows = []
    for i in range(count):
        if i % 97 == 50:
            rows.append([None] * len(SOPHOS_HEADER))
            continue
        row = sophos_row(
            f"eu-{i % 60:03d}" if i % 31 else None,
            None if i % 17 == 0 else f"Customer {i % 45}",
            f"SKU{i % 7}",
            f"Product {i % 11}",
            quantities[i % len(quantities)],
            msrps[rng.randrange(len(msrps))],
            rng.choice([3.6, 3.6, "3,60", 9.6]),
            **{
                "Start Date": starts[i % len(starts)],
                "Currency": currencies[i % len(currencies)],
                "Discount": "" if i % 3 else "20%",
                "Country": None if i % 5 == 0 else "DE",
            },
        )
        rows.append(row)
        if i % 41 == 0:
            rows.append(list(row))  # repeats the row above
    return rows


def write_workbook(path, rows, hidden=()):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Usage"
    for row in rows:
        sheet.append(list(row) if row else [None])
    for number in hidden:
        sheet.row_dimensions[number].hidden = True
    workbook.save(path)
    return path


def test_chunks_give_the_whole_sheet_s_rows_issues_and_repeats(chunked, tmp_path):
    rows = [*SOPHOS_TITLE_ROWS, SOPHOS_HEADER, *tricky_rows()]
    rows.append(["Total", *[None] * 16, 12345])
    path = write_workbook(tmp_path / "usage.xlsx", rows, hidden=(9, 200, 333))

    whole, parallel, chunks = chunked(path)

    assert chunks > 20
    assert parallel == whole
    assert whole.rows and whole.issues and whole.repeats and whole.skipped
    assert {issue.reason for issue in whole.issues} >= {
        "hidden row",
        "not a number",
        "required value is empty",
        "cell holds an Excel error",
        "unknown currency code",
    }


@pytest.mark.parametrize("chunk_bytes", [1, 700, 5000])
def test_any_chunk_size_gives_the_same_result(chunked, tmp_path, chunk_bytes):
    rows = [SOPHOS_HEADER, *tricky_rows(150, seed=chunk_bytes)]
    path = write_workbook(tmp_path / "usage.xlsx", rows)

    whole, parallel, chunks = chunked(path, chunk_bytes=chunk_bytes)

    assert chunks >= 2
    assert parallel == whole


def test_rows_without_values_between_chunks_and_short_rows(chunked, tmp_path):
    """Chunks whose cells start right of column A or end left of the last
    column, and rows no chunk holds, read as empty cells."""
    body = "".join(data_row(r, f"EU-{r}") for r in range(2, 60))
    body += '<row r="70">' + inline("C70", "2025-01-31") + "</row>"
    body += "".join(data_row(r, f"EU-{r}") for r in range(90, 150))
    body += '<row r="151">' + num("H151", 7) + "</row>"
    path = tmp_path / "gaps.xlsx"
    path.write_bytes(xlsx_bytes(body))

    whole, parallel, chunks = chunked(path, chunk_bytes=300)

    assert chunks > 5
    assert parallel == whole
    assert len(whole.rows) == 118
    grids = []
    for readers in (1, 2):
        parallel_read.PARALLEL_READERS = readers  # (restored by the fixture)
        grid = next(formats.iter_grids(path.read_bytes(), "xlsx", Limits()))
        grids.append([[(type(v), v) for v in c] for c in grid.columns])
        assert grid.row_numbers.tolist() == list(range(1, 152))
    assert grids[0] == grids[1]


def test_error_cells_and_hidden_rows_of_raw_xml(chunked, tmp_path):
    body = "".join(
        data_row(r, f"EU-{r}", msrp=error(f"F{r}", "#N/A") if r % 10 == 0 else "4.5")
        if r % 7
        else data_row(r, f"EU-{r}", attrs=' hidden="1"')
        for r in range(2, 120)
    )
    path = tmp_path / "errors.xlsx"
    path.write_bytes(xlsx_bytes(body))

    whole, parallel, chunks = chunked(path)

    assert chunks > 5
    assert parallel == whole
    assert any(i.reason == "cell holds an Excel error" for i in whole.issues)
    assert any(i.reason == "hidden row" for i in whole.issues)


def data_rows(first, last):
    return "".join(data_row(r, f"EU-{r}") for r in range(first, last))


@pytest.mark.parametrize(
    "body",
    [
        # rows out of order: the chunks' rows overlap, the sheet is read whole
        data_rows(40, 80) + data_rows(2, 40),
        # cells without references are placed by counting: never cut
        data_rows(2, 40)
        + '<row><c t="inlineStr"><is><t>EU-X</t></is></c></row>'
        + data_rows(41, 80),
        # a comment, CDATA or processing instruction could hide a row tag
        data_rows(2, 40) + '<!-- <row r="5"> -->' + data_rows(40, 80),
        data_rows(2, 40) + "<?pi <row r='5'>?>" + data_rows(40, 80),
    ],
    ids=["out-of-order", "unreferenced", "comment", "instruction"],
)
def test_sheets_chunks_cannot_stand_for_are_read_whole(chunked, tmp_path, body):
    path = tmp_path / "odd.xlsx"
    path.write_bytes(xlsx_bytes(body))

    whole, parallel, chunks = chunked(path, chunk_bytes=300)

    assert parallel == whole
    assert chunks == 0


def test_rows_after_the_end_of_the_cells_are_not_cut(chunked, tmp_path):
    """calamine stops at the first end of sheetData: so do the chunks."""
    body = data_rows(2, 40) + "</sheetData><sheetData>" + data_rows(40, 80)
    path = tmp_path / "odd.xlsx"
    path.write_bytes(xlsx_bytes(body))

    whole, parallel, chunks = chunked(path, chunk_bytes=300)

    assert chunks > 5
    assert parallel == whole
    assert len(whole.rows) == 38


@pytest.mark.parametrize(
    "body, limits, words",
    [
        (
            "".join(data_row(r, f"EU-{r}") for r in range(2, 80))
            + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
            Limits(),
            "XFD1048576",
        ),
        (
            "".join(data_row(r, f"EU-{r}") for r in range(2, 80)),
            Limits(max_rows=50),
            "more than 50 rows",
        ),
        (
            "".join(data_row(r, f"EU-{r}") for r in range(2, 80))
            + '<row r="80"><c r="A80" t="s"><v>9</v></c></row>',
            Limits(),
            "workbook is damaged",
        ),
    ],
    ids=["far-cell", "rows-limit", "damaged"],
)
def test_refused_sheets_are_refused_as_when_read_whole(
    monkeypatch, tmp_path, body, limits, words
):
    path = tmp_path / "refused.xlsx"
    path.write_bytes(xlsx_bytes(body, shared_strings=["only"]))
    monkeypatch.setattr(parallel_read, "PARALLEL_READERS", 1)
    with pytest.raises(ConsumptionFileError) as whole:
        read_consumption_file(path, limits=limits)
    monkeypatch.setattr(parallel_read, "PARALLEL_READERS", 2)
    monkeypatch.setattr(parallel_read, "MIN_CHUNK_BYTES", 300)
    monkeypatch.setattr(parallel_read, "SHARED_STRINGS_SHARE", 0)
    monkeypatch.setattr(parallel_read, "CHUNKS_PER_READER", 10_000)
    with pytest.raises(ConsumptionFileError) as parallel:
        read_consumption_file(path, limits=limits)

    assert str(parallel.value) == str(whole.value)
    assert words in str(whole.value)


def test_sheet_with_a_wrong_checksum_fails_as_when_read_whole(monkeypatch, tmp_path):
    data = xlsx_bytes("".join(data_row(r, f"EU-{r}") for r in range(2, 80)))
    crc = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml").CRC
    path = tmp_path / "checksum.xlsx"
    path.write_bytes(data.replace(crc.to_bytes(4, "little"), b"\0\0\0\0"))
    read_chunk, calls = parallel_read._read_chunk, []
    monkeypatch.setattr(
        parallel_read, "_read_chunk", lambda *a: calls.append(a) or read_chunk(*a)
    )
    monkeypatch.setattr(parallel_read, "MIN_CHUNK_BYTES", 300)
    monkeypatch.setattr(parallel_read, "SHARED_STRINGS_SHARE", 0)
    monkeypatch.setattr(parallel_read, "CHUNKS_PER_READER", 10_000)

    for readers in (1, 2):
        monkeypatch.setattr(parallel_read, "PARALLEL_READERS", readers)
        with pytest.raises(ConsumptionFileError, match="Invalid checksum"):
            read_consumption_file(path)
    assert calls  # the chunks were read, their result dropped


def test_chunks_are_worksheets_of_whole_rows(tmp_path):
    body = "".join(data_row(r, f"EU-{r}") for r in range(2, 50))
    data = xlsx_bytes(body)
    package = inspect_xlsx(data, Limits())
    sheet = package.visible_sheets[0]
    chunks = []
    splitter = SheetSplitter(500, chunks.append)

    scan_sheet(package, sheet, splitter)

    assert splitter.complete and len(chunks) > 5
    xml = sheet_xml(body).encode()
    texts = [b"".join(bytes(p) for p in chunk.pieces) for chunk in chunks]
    head = xml[: xml.index(b"<sheetData>") + len(b"<sheetData>")]
    rows = b"".join(text[len(head) :].removesuffix(b"</sheetData>") for text in texts)
    assert texts[0].startswith(head) and all(t.startswith(head) for t in texts)
    assert head + rows == xml
    for text in texts[1:]:
        assert text[len(head) :].startswith(b'<row r="')


def test_buffers_file_reads_as_the_joined_bytes():
    buffers = [b"abc", b"", memoryview(b"0123456789")[2:7], b"xy"]
    joined = b"abc23456xy"
    stream = BuffersFile(buffers)
    assert [stream.read(n) for n in (2, 0, 3, 4, 100, 1)] == [
        b"ab",
        b"",
        b"c23",
        b"456x",
        b"y",
        b"",
    ]
    for offset in range(len(joined) + 2):
        assert stream.seek(offset) == offset
        assert stream.read() == joined[offset:]
    assert stream.seek(-3, 2) == 7 and stream.read(None) == b"6xy"
    assert stream.seek(-20, 1) == 0 and stream.tell() == 0


def test_merged_factorisations_are_the_column_s():
    rng = random.Random(5)
    values = [None, np.nan, True, 1, 1.0, "1", "", " ", "a", "b", 2.5, JAN_1, pd.NaT]
    column = np.empty(3000, dtype=object)
    for i in range(len(column)):
        column[i] = rng.choice(values)
    cuts = sorted(rng.sample(range(1, len(column)), 12))
    pieces = [
        pd.factorize(column[a:b], use_na_sentinel=True)
        for a, b in zip([0, *cuts], [*cuts, len(column)], strict=True)
    ]

    codes, uniques = merge_factorized(pieces)
    expected_codes, expected_uniques = pd.factorize(column, use_na_sentinel=True)

    assert codes.tolist() == expected_codes.tolist()
    assert [(type(u), u) for u in uniques] == [(type(u), u) for u in expected_uniques]


def test_grid_factorises_from_any_row_like_pandas():
    rng = random.Random(8)
    columns = [
        np.array([rng.choice(["x", "y", 1.0, None, ""]) for _ in range(200)], object)
    ]
    blocks, first = [], 0
    for count in (20, 13, 40, 1, 126):
        part = columns[0][first : first + count]
        known = {0: pd.factorize(part, use_na_sentinel=True)} if first >= 30 else {}
        blocks.append((first, count, known))
        first += count
    grid = Grid(columns, np.arange(1, 201), "xlsx", blocks=blocks)

    for start in (0, 5, 20, 30, 33, 199, 200):
        codes, uniques = grid.factorize(0, start)
        expected_codes, expected_uniques = pd.factorize(
            columns[0][start:], use_na_sentinel=True
        )
        assert codes.tolist() == expected_codes.tolist()
        assert uniques.tolist() == expected_uniques.tolist()


def test_rows_from_columns_are_the_dataclass_s_rows():
    values = {
        "row_number": [2, 3],
        "end_user_identifier": ["EU-1", "EU-2"],
        "start_date": [JAN_1, JAN_1],
        "end_date": [JAN_31, JAN_31],
        "product_description": ["X", "Y"],
        "quantity": [1, -2],
        "unit_msrp": [4, 5],
        "unit_cost": [3, 4],
        "end_customer_name": None,
        "sku": ["S", None],
        "file_currency": ["EUR", "EUR"],
        "file_partner_name": None,
        "file_partner_ref": None,
        "extra": [{"Country": "DE"}, {}],
    }
    assert tuple(f.name for f in fields(ConsumptionRow)) == ROW_FIELDS

    rows = rows_from_columns(values, 2)

    expected = [
        ConsumptionRow(**{n: v[i] if v else None for n, v in values.items()})
        for i in range(2)
    ]
    assert rows == expected
    assert [hash(r) for r in rows] == [hash(r) for r in expected]
    assert [repr(r) for r in rows] == [repr(r) for r in expected]
    with pytest.raises(AttributeError):
        rows[0].quantity = 3
    with pytest.raises(ValueError):
        rows_from_columns({**values, "sku": ["S"]}, 2)


@pytest.mark.parametrize("enabled", [True, False])
def test_collector_state_is_kept(tmp_path, enabled):
    path = write_workbook(tmp_path / "usage.xlsx", [SOPHOS_HEADER, *tricky_rows(20)])
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        read_consumption_file(path)
        assert gc.isenabled() is enabled
        with pytest.raises(ConsumptionFileError):
            read_consumption_file(b"not a spreadsheet", "x.pdf")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
