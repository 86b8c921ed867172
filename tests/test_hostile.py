"""Hostile files through ``python3 -m sophos_ppu.core.cli``: each one ends
with exit status 2 and a plain message (or 1 with its row issues), never a
crash, and the bombs and sparse sheets never take the process near 1 GiB.

Time and peak RSS of the bombs are printed (``pytest -s``) and gathered by
``scripts/hostile_figures.py``.
"""

import re

import pytest
from hostile import (
    data_row,
    ole2_bytes,
    run_checker,
    sheet_xml,
    write_sheet_bomb,
    write_string_bomb,
    xlsx_bytes,
)

from sophos_ppu.core.xlsx_parts import error, inline, num, zip_bytes

GIB = 1 << 30
RSS_CEILING_MB = 1024
LIFT_RATIO = ("--max-compression-ratio", "100000")


@pytest.fixture(scope="session")
def bombs(tmp_path_factory):
    """Zip bombs, written once per session by streaming (never in memory)."""
    folder = tmp_path_factory.mktemp("bombs")
    return {
        # 1 GiB of blanks between the header and a row: ~1 MB packed.
        "blank": write_sheet_bomb(folder / "blank.xlsx", GIB, "blank", level=9),
        # The issue's case: 4.7 MB unpacking to 1 GiB, 3.2 million rows
        # (rows without references pack 229 times).
        "rows": write_sheet_bomb(folder / "rows.xlsx", GIB, "bare-rows", level=6),
        # 1.2 million real rows (every cell referenced) in 31 MB: packs as
        # plainly as a real export; refused past Excel's last row (the
        # default rows limit), while streaming.
        "dense": write_sheet_bomb(folder / "dense.xlsx", 460 << 20, "rows", level=1),
        # One shared string of 1 GiB, used as an end customer's name.
        "string": write_string_bomb(folder / "string.xlsx", GIB, level=9),
    }


def check(path, *args, status=2, words=()):
    run = run_checker(path, *args)
    print(
        f"\n{path.name} {' '.join(args)}: exit {run.status}, {run.seconds:.2f} s, "
        f"peak RSS {run.peak_rss_mb:.0f} MB: {run.err.strip()[:160]}"
    )
    assert run.status == status, run.err
    assert "Traceback" not in run.err + run.out
    for word in words:
        assert word in run.err + run.out
    assert run.peak_rss_mb < RSS_CEILING_MB
    return run


# -- bombs -----------------------------------------------------------------


def test_blank_bomb_is_refused_by_its_ratio(bombs):
    check(bombs["blank"], words=["unpacks to 1.1 GB", "times its packed size"])


def test_blank_bomb_past_the_ratio_is_refused_while_streaming(bombs):
    check(bombs["blank"], *LIFT_RATIO, words=["no Excel cell holds that much"])


def test_row_bomb_is_refused_by_its_ratio(bombs):
    check(bombs["rows"], words=["sheet1.xml unpacks to 1.1 GB", "zip bomb"])
    assert bombs["rows"].stat().st_size < 6_000_000


# The rows limit is Excel's own by default: a sheet going on is refused at
# the first row no Excel sheet has, while streaming.


def test_row_bomb_past_the_ratio_stops_at_the_last_row_excel_holds(bombs):
    check(bombs["rows"], *LIFT_RATIO, words=["A1048577", "beyond what Excel"])


def test_dense_rows_stop_at_the_last_row_excel_holds(bombs):
    assert bombs["dense"].stat().st_size < 50_000_000
    check(bombs["dense"], words=["row 1048577", "beyond what Excel"])


def test_row_limit_of_the_command_line(bombs):
    check(bombs["dense"], "--max-rows", "1000", words=["more than 1 000 rows"])


def test_shared_string_bomb_is_refused_by_its_ratio(bombs):
    check(bombs["string"], words=["sharedStrings.xml unpacks to 1.1 GB"])


def test_shared_string_bomb_past_the_ratio_is_never_loaded(bombs):
    check(
        bombs["string"],
        *LIFT_RATIO,
        words=["text longer than 32 767 characters", "shared strings"],
    )


def test_total_inflated_size_limit(bombs):
    check(
        bombs["blank"],
        "--max-inflated-bytes",
        "100MB",
        words=["content unpacks to 1.1 GB", "more than the 100 MB allowed"],
    )


# -- sparse and impossible sheets ---------------------------------------------


def test_far_cell_is_refused_without_a_dense_grid(tmp_path):
    path = tmp_path / "far.xlsx"
    far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    path.write_bytes(xlsx_bytes(data_row(2) + far))
    assert path.stat().st_size < 3000
    check(path, words=["A1:XFD1048576", "cell XFD1048576", "17 179 869 184 cells"])


def test_far_cell_in_a_sparse_column_is_refused(tmp_path):
    path = tmp_path / "far-row.xlsx"
    path.write_bytes(
        xlsx_bytes(data_row(2) + '<row r="900000"><c r="A900000"><v>1</v></c></row>')
    )
    check(path, words=["A1:G900000", "stray value"])


@pytest.mark.parametrize(
    "rows_xml, words",
    [
        ('<row r="99999999999"><c r="A99999999999"><v>1</v></c></row>', "row 999"),
        ('<row r="99999999999"><c><v>1</v></c></row>', "row 99999999999"),
        ('<row r="2"><c r="A99999999999"><v>1</v></c></row>', "cell A99999999999"),
        ('<row r="2"><c r="XFE2"><v>1</v></c></row>', "cell XFE2"),
        ('<row r="1048577"><c r="A1048577"><v>1</v></c></row>', "1048577"),
    ],
)
def test_cells_excel_cannot_hold_are_refused(tmp_path, rows_xml, words):
    path = tmp_path / "giant.xlsx"
    path.write_bytes(xlsx_bytes(rows_xml))
    check(path, words=[words, "beyond what Excel can hold"])


def test_text_cells_without_shared_strings_are_refused(tmp_path):
    path = tmp_path / "nostrings.xlsx"
    path.write_bytes(xlsx_bytes('<row r="2"><c r="A2" t="s"><v>7</v></c></row>'))
    check(path, words=["shared-strings table", "does not contain"])


def test_text_cell_past_the_shared_strings_is_refused(tmp_path):
    path = tmp_path / "short-strings.xlsx"
    rows = '<row r="2"><c r="A2" t="s"><v>7</v></c></row>'
    path.write_bytes(xlsx_bytes(rows, shared_strings=["only one"]))
    check(path, words=["damaged"])


def test_shared_text_repeated_past_the_limit_is_refused(tmp_path):
    """30 000 characters shared by 2 000 cells would be 60 MB of text."""
    path = tmp_path / "repeated.xlsx"
    rows = "".join(
        f'<row r="{r}">{inline(f"A{r}", "EU")}<c r="B{r}" t="s"><v>0</v></c></row>'
        for r in range(2, 2002)
    )
    path.write_bytes(xlsx_bytes(rows, shared_strings=["x" * 30_000]))
    check(
        path,
        "--max-inflated-bytes",
        "20MB",
        words=["repeats its shared texts into more than 20 MB"],
    )
    check(path, status=1)  # within the default limits: read, rows have issues


# -- what the bytes really are --------------------------------------------------


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("usage.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF document"),
        ("usage.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(64), "a PNG image"),
        ("usage.xls", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64), "JPEG image"),
        ("usage.csv", b"GIF89a" + bytes(64), "a GIF image"),
        ("usage.xlsx", zip_bytes({"notes.txt": "x", "usage.csv": "a"}), "unzip it"),
        ("usage.xlsx", zip_bytes({"word/document.xml": "<w/>"}), "Word document"),
        (
            "usage.xlsx",
            ole2_bytes("EncryptionInfo", "EncryptedPackage"),
            "password-protected (encrypted)",
        ),
        ("usage.xls", ole2_bytes("WordDocument"), "a Word document (.doc)"),
        ("usage.xls", ole2_bytes("Something"), "without a workbook"),
    ],
)
def test_files_that_are_no_spreadsheet_are_named(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    check(path, words=[words])


def test_truncated_workbook_is_refused(tmp_path):
    data = xlsx_bytes(data_row(2))
    path = tmp_path / "cut.xlsx"
    for length in (len(data) // 2, len(data) - 30, 200):
        path.write_bytes(data[:length])
        check(path, words=["damaged or truncated"])


def test_damaged_part_is_refused(tmp_path):
    data = bytearray(xlsx_bytes(data_row(2)))
    start = data.find(b"xl/worksheets/sheet1.xml") + 40
    data[start : start + 40] = bytes(40)  # garbage in the packed sheet
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(data))
    check(path, words=["damaged"])


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2_000_001)
    check(path, "--max-file-bytes", "2MB", words=["larger than 2 MB (2.0 MB)"])


# -- rows that become issues -----------------------------------------------------


def test_absurd_numbers_are_row_issues(tmp_path):
    path = tmp_path / "numbers.xlsx"
    rows = (
        data_row(2, msrp="9e999999")
        + data_row(3, msrp="1e999999999")
        + data_row(4, price="1" * 50)
        + data_row(5, msrp=num("F5", "1e308"))
        + data_row(6, price="0.000000000000000000000001")
        + data_row(7)
    )
    path.write_bytes(xlsx_bytes(rows))
    run = check(path, status=1)
    issues = re.findall(r"^\s+(\d+)\s+Unit \w+\s+\S+\s+(.+)$", run.out, re.M)
    assert issues == [
        ("2", "number out of range"),
        ("3", "number out of range"),
        ("4", "number out of range"),
        ("5", "number out of range"),
        ("6", "too many decimals"),
    ]
    assert "Valid rows: 1" in run.out


def test_excel_errors_are_row_issues(tmp_path):
    path = tmp_path / "errors.xlsx"
    rows = (
        data_row(2, msrp=error("F2", "#DIV/0!"))
        + data_row(3, end_user="#N/A")
        + data_row(4, price='<c r="G4" t="e"><v>#REF!</v></c>')
        + data_row(5)
    )
    path.write_bytes(xlsx_bytes(rows))
    run = check(path, status=1)
    assert run.out.count("cell holds an Excel error") == 3
    for code in ("#DIV/0!", "#N/A", "#REF!"):
        assert code in run.out
    assert "required value is empty" not in run.out


def test_hidden_rows_and_sheets(tmp_path):
    path = tmp_path / "hidden.xlsx"
    secret = ("Prices", "hidden", sheet_xml(data_row(2, end_user="SECRET")))
    usage = sheet_xml(data_row(2) + data_row(3, "EU-2", attrs=' hidden="1"'))
    path.write_bytes(xlsx_bytes(sheets=[secret, ("Usage", "visible", usage)]))
    run = check(path, status=1)
    assert "SECRET" not in run.out
    assert re.search(r"3\s+End User Identifier\s+EU-2\s+hidden row", run.out)


def test_unknown_currency_is_a_row_issue(tmp_path):
    path = tmp_path / "currency.csv"
    path.write_text(
        "End User Identifier,Start Date,End Date,Product Description,"
        "Total Quantity,Unit MSRP,Unit Price,Currency\n"
        "EU-1,2025-01-01,2025-01-31,X,1,4.5,3.6,XYZ\n"
        "EU-2,2025-01-01,2025-01-31,X,1,4.5,3.6,EUR\n"
    )
    run = check(path, status=1)
    assert re.search(r"2\s+Currency\s+XYZ\s+unknown currency code", run.out)


def test_stray_quote_in_a_csv_is_refused_at_its_line(tmp_path):
    path = tmp_path / "quote.csv"
    lines = [
        "End User Identifier,Start Date,End Date,Product Description,"
        "Total Quantity,Unit MSRP,Unit Price",
        *(f"EU-{n},2025-01-01,2025-01-31,X,1,4.5,3.6" for n in range(1, 4)),
        'EU-4,2025-01-01,2025-01-31,"Intercept X,1,4.5,3.6',
        *(f"EU-{n},2025-01-01,2025-01-31,X,1,4.5,3.6" for n in range(5, 9)),
    ]
    path.write_text("\n".join(lines) + "\n")
    check(path, words=["unbalanced quote", "line 5"])


def test_sparse_and_bomb_figures_stay_small(tmp_path):
    """A file that reads normally still costs little memory."""
    path = tmp_path / "ok.xlsx"
    path.write_bytes(xlsx_bytes("".join(data_row(r, f"EU-{r}") for r in range(2, 500))))
    run = check(path, status=0)
    assert "Valid rows: 498" in run.out
