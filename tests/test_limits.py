"""read_consumption_file refuses unsafe files with ConsumptionFileError and
words the Odoo layer shows as they are; Limits bound what a file may hold."""

import dataclasses
import io

import pytest
import xlwt
from conftest import HEADER
from hostile import (
    bare,
    data_row,
    header_row,
    ole2_bytes,
    sheet_xml,
    xlsx_bytes,
)

from sophos_ppu.core import (
    ConsumptionFileError,
    Limits,
    RowIssue,
    read_consumption_file,
)
from sophos_ppu.core.formats.xls import ole2_stream_names
from sophos_ppu.core.limits import EXCEL_MAX_ROWS
from sophos_ppu.core.xlsx_parts import inline, workbook_parts, zip_bytes


def refused(data, name="usage.xlsx", **kwargs) -> str:
    with pytest.raises(ConsumptionFileError) as caught:
        read_consumption_file(data, filename=name, **kwargs)
    message = caught.value.message
    assert "Traceback" not in message and "\n" not in message
    return message


def csv_bytes(rows: int) -> bytes:
    lines = [",".join(HEADER)]
    lines += [f"EU-{n},2025-01-01,2025-01-31,X,1,4.5,3.6" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


# -- Limits ------------------------------------------------------------------


def test_limits_defaults_and_immutability():
    limits = Limits()
    assert (limits.max_file_bytes, limits.max_rows, limits.max_cell_chars) == (
        50_000_000,
        1_048_576,
        32_767,
    )
    assert limits.max_cells == 30_000_000
    assert limits.max_inflated_bytes == 2_000_000_000
    assert limits.max_compression_ratio == 100
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_rows = 5
    assert Limits(max_rows=5).max_rows == 5


@pytest.mark.parametrize("value", [0, -1, 1.5, "10", True, None])
def test_limits_must_be_positive_integers(value):
    with pytest.raises(ValueError, match="max_rows"):
        Limits(max_rows=value)


def test_limits_must_be_limits():
    with pytest.raises(TypeError):
        read_consumption_file(csv_bytes(1), "usage.csv", limits={"max_rows": 5})


# -- size and rows -----------------------------------------------------------------


def test_file_size_limit_for_bytes_paths_and_file_objects(tmp_path):
    data = csv_bytes(40_000)
    limits = Limits(max_file_bytes=1_000_000)
    assert len(data) > 1_000_000
    assert "larger than 1 MB" in refused(data, "big.csv", limits=limits)
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    for source in (path, str(path), io.BytesIO(data)):
        with pytest.raises(ConsumptionFileError, match="larger than 1 MB"):
            read_consumption_file(source, limits=limits)


def test_default_rows_limit_is_a_full_excel_sheet():
    """Rows of the sheet, the header's included: 1 048 575 data rows."""
    assert Limits().max_rows == EXCEL_MAX_ROWS == 1_048_576


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "xls"])
def test_rows_limit_in_every_format(write_file, fmt):
    rows = [HEADER] + [["EU-1", "2025-01-01", "2025-01-31", "X", 1, 4.5, 3.6]] * 10
    path = write_file(fmt, rows)
    with pytest.raises(ConsumptionFileError, match="more than 10 rows") as caught:
        read_consumption_file(path, limits=Limits(max_rows=10))
    assert caught.value.message.endswith(
        "(the limit is 10, set in Settings > Sales > Sophos Pay-Per-Use > "
        "Consumption file limits): split the file or raise the limit."
    )
    assert len(read_consumption_file(path, limits=Limits(max_rows=11)).rows) == 10


def test_cells_limit(write_file):
    path = write_file(
        "xlsx", [HEADER, ["EU-1", "2025-01-01", "2025-01-31", "X", 1, 4.5, 3.6]]
    )
    message = refused(path.read_bytes(), limits=Limits(max_cells=10))
    assert "A1:G2" in message and "14 cells" in message and "10 allowed" in message


def test_inflated_size_and_ratio_limits():
    rows = "".join(data_row(r, f"EU-{r}") for r in range(2, 3000))
    data = xlsx_bytes(rows)
    assert read_consumption_file(data, "usage.xlsx").row_count == 2998
    message = refused(data, limits=Limits(max_inflated_bytes=100_000))
    assert "unpacks to" in message and "100 KB allowed" in message
    message = refused(data, limits=Limits(max_compression_ratio=3))
    assert "times its packed size (at most 3 allowed)" in message


# -- sheets Excel cannot hold, sparse sheets ----------------------------------------


@pytest.mark.parametrize(
    "rows_xml, words",
    [
        ('<row r="99999999999"><c r="A99999999999"><v>1</v></c></row>', "row 99999"),
        ('<row r="5"><c r="XFE5"><v>1</v></c></row>', "cell XFE5"),
        ('<row r="5"><c r="AAAAA5"><v>1</v></c></row>', "cell AAAAA5"),
        ('<row r="1048577"><c><v>1</v></c></row>', "row 1048577"),
    ],
)
def test_beyond_excel_is_refused(rows_xml, words):
    message = refused(xlsx_bytes(rows_xml))
    assert words in message and "beyond what Excel can hold" in message


def test_dimension_beyond_excel_is_refused():
    sheet = sheet_xml(data_row(2)).replace(
        "<sheetData>", '<dimension ref="A1:XFD2000000"/><sheetData>'
    )
    message = refused(xlsx_bytes(sheets=[("Usage", "visible", sheet)]))
    assert "dimension XFD2000000" in message


def test_sparse_sheet_names_the_far_cell():
    far = '<row r="700000"><c r="ZZ700000"><v>1</v></c></row>'
    message = refused(xlsx_bytes(data_row(2) + far))
    assert "A1:ZZ700000" in message and "cell ZZ700000" in message
    assert "stray value" in message


def test_far_cell_within_reason_is_read():
    """A stray value a few columns and rows away costs nothing: read it."""
    stray = '<row r="40"><c r="Z40"><v>1</v></c></row>'
    result = read_consumption_file(xlsx_bytes(data_row(2) + stray), "u.xlsx")
    assert [row.row_number for row in result.rows] == [2]
    assert {issue.row_number for issue in result.issues} == {40}


def test_cells_without_references_are_placed_as_calamine_does():
    bare = "".join(
        f"<row>{''.join(f'<c><v>{n}</v></c>' for n in range(3))}</row>"
        for _ in range(3)
    )
    sheet = sheet_xml(bare)  # header on row 1, three bare rows after it
    result = read_consumption_file(
        xlsx_bytes(sheets=[("Usage", "visible", sheet)]), "u.xlsx"
    )
    assert [i.row_number for i in result.issues][:1] == [2]
    far = sheet_xml('<row r="2"/>' * 1 + "<row>" + "<c><v>1</v></c>" * 17000 + "</row>")
    message = refused(xlsx_bytes(sheets=[("Usage", "visible", far)]))
    assert "cell XFE" in message


def test_missing_shared_strings_are_named():
    message = refused(xlsx_bytes('<row r="2"><c r="A2" t="s"><v>7</v></c></row>'))
    assert "shared-strings table" in message


def test_shared_string_index_past_the_table_is_one_clear_error():
    data = xlsx_bytes(
        '<row r="2"><c r="A2" t="s"><v>7</v></c></row>', shared_strings=["one"]
    )
    message = refused(data)
    assert message.startswith(
        "The file cannot be read as .xlsx: the workbook is damaged"
    )


def test_absurd_text_is_refused_unread():
    limits = Limits(max_cell_chars=100)
    data = xlsx_bytes(inline("A2", "x" * 5000).join(['<row r="2">', "</row>"]))
    message = refused(data, limits=limits)
    assert "text longer than 100 characters" in message
    shared = xlsx_bytes(
        '<row r="2"><c r="A2" t="s"><v>0</v></c></row>', shared_strings=["y" * 5000]
    )
    assert "in shared strings" in refused(shared, limits=limits)


# -- what the bytes are ---------------------------------------------------------


@pytest.mark.parametrize(
    "content, words",
    [
        (b"%PDF-1.4\n", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a PNG image"),
        (b"\xff\xd8\xff\xe0", "a JPEG image"),
        (b"GIF87a\x01\x00", "a GIF image"),
        (b"\x1f\x8b\x08\x00", "a gzip archive"),
        (b"PK\x05\x06" + bytes(18), "an empty zip archive"),
        (zip_bytes({"readme.txt": "hi"}), "a zip archive, not an Excel workbook"),
        (zip_bytes({"report.xlsx": "x"}), "unzip it and upload report.xlsx"),
        (zip_bytes({"word/document.xml": "x"}), "a Word document (.docx)"),
        (zip_bytes({"ppt/presentation.xml": "x"}), "a PowerPoint presentation"),
        (zip_bytes({"xl/workbook.bin": "x"}), "an Excel binary workbook (.xlsb)"),
        (
            zip_bytes({"mimetype": "application/vnd.oasis.opendocument.spreadsheet"}),
            "an OpenDocument spreadsheet (.ods)",
        ),
        (ole2_bytes("EncryptionInfo", "EncryptedPackage"), "password-protected"),
        (ole2_bytes("PowerPoint Document"), "a PowerPoint presentation (.ppt)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), ".xls file is damaged"),
        (b"\x00\x01\x02 binary junk", "no workbook"),
    ],
)
def test_real_format_is_named(content, words):
    assert words in refused(content)


def test_ole2_directory_is_read():
    assert ole2_stream_names(ole2_bytes("EncryptionInfo", "EncryptedPackage")) == [
        "Root Entry",
        "EncryptionInfo",
        "EncryptedPackage",
    ]
    book = xlwt.Workbook()
    book.add_sheet("Usage").write(0, 0, "x")
    buffer = io.BytesIO()
    book.save(buffer)
    assert "Workbook" in ole2_stream_names(buffer.getvalue())


def test_legacy_encrypted_xls_is_named(monkeypatch):
    """xlrd's own words for an .xls with a password become ours."""
    import xlrd

    def encrypted(**kwargs):
        raise xlrd.XLRDError("Workbook is encrypted")

    monkeypatch.setattr(xlrd, "open_workbook", encrypted)
    book = xlwt.Workbook()
    book.add_sheet("Usage").write(0, 0, "x")
    buffer = io.BytesIO()
    book.save(buffer)
    assert "password-protected (encrypted)" in refused(buffer.getvalue(), "u.xls")


def test_truncated_and_damaged_workbooks():
    data = xlsx_bytes(data_row(2))
    assert "damaged or truncated" in refused(data[: len(data) // 2])
    parts = workbook_parts([("Usage", "visible", sheet_xml(data_row(2)))])
    twice = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(twice, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        archive.writestr("XL/Worksheets/Sheet1.xml", "<x/>")
    assert "appears twice" in refused(twice.getvalue())


def test_reader_panics_and_memory_errors_become_file_errors(monkeypatch):
    from sophos_ppu.core import formats

    class PanicException(BaseException):
        pass

    def panic(data, limits):
        raise PanicException("called `Option::unwrap()` on a `None` value")
        yield  # pragma: no cover

    monkeypatch.setattr(formats, "xlsx_grids", panic)
    message = refused(xlsx_bytes(data_row(2)))
    assert "the workbook is damaged" in message

    def out_of_memory(data, limits):
        raise MemoryError
        yield  # pragma: no cover

    monkeypatch.setattr(formats, "xlsx_grids", out_of_memory)
    assert "more memory" in refused(xlsx_bytes(data_row(2)))

    def interrupted(data, limits):
        raise KeyboardInterrupt
        yield  # pragma: no cover

    monkeypatch.setattr(formats, "xlsx_grids", interrupted)
    with pytest.raises(KeyboardInterrupt):
        read_consumption_file(xlsx_bytes(data_row(2)), "u.xlsx")


def test_every_sheet_hidden_is_refused():
    hidden = ("Usage", "hidden", sheet_xml(data_row(2)))
    very = ("Other", "veryHidden", sheet_xml(data_row(2)))
    assert "Every sheet of the workbook is hidden" in refused(
        xlsx_bytes(sheets=[hidden, very])
    )


def test_prefixed_and_reordered_xml_is_scanned_exactly():
    """x: prefixes, attributes in another order: read, and far cells found."""
    sheet = (
        '<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main"><x:sheetData>'
        + header_row()
        .replace("<row", "<x:row")
        .replace("</row>", "</x:row>")
        .replace("<c ", "<x:c ")
        .replace("</c>", "</x:c>")
        .replace("<is>", "<x:is>")
        .replace("</is>", "</x:is>")
        .replace("<t>", "<x:t>")
        .replace("</t>", "</x:t>")
        + '<x:row r="2"><x:c t="n" r="A2"><x:v>7</x:v></x:c></x:row>'
        + "</x:sheetData></x:worksheet>"
    )
    result = read_consumption_file(
        xlsx_bytes(sheets=[("Usage", "visible", sheet)]), "u.xlsx"
    )
    assert result.header_row_number == 1 and result.issues[0].row_number == 2
    far = sheet.replace('r="A2"', 'r="XFD1048576"')
    assert "XFD1048576" in refused(xlsx_bytes(sheets=[("Usage", "visible", far)]))


# -- what the scan hands the reader ---------------------------------------------


def test_error_cells_of_known_columns_are_found_by_reference_or_count():
    by_reference = (
        data_row(2, msrp='<c r="F2" t="e"><v>#DIV/0!</v></c>')
        + data_row(3, price="<c r='G3' t='e'><f>A1</f><v>#REF!</v></c>")
        + '<row r="4">'
        + inline("A4", "EU-4")
        + '<c r="Z4" t="e"><v>#N/A</v></c></row>'
    )
    result = read_consumption_file(xlsx_bytes(by_reference), "u.xlsx")
    assert [(i.row_number, i.column, i.value, i.reason) for i in result.issues][:2] == [
        (2, "Unit MSRP", "#DIV/0!", "cell holds an Excel error"),
        (3, "Unit Price", "#REF!", "cell holds an Excel error"),
    ]
    assert {i.reason for i in result.issues if i.row_number == 4} == {
        "required value is empty"  # an error in an unknown column is no issue
    }
    counted = (
        "<row>"
        + "".join(
            f'<c t="inlineStr"><is><t>{v}</t></is></c>'
            for v in ("EU-1", "2025-01-01", "2025-01-31", "X")
        )
        + '<c><v>1</v></c><c t="e"><v>#NUM!</v></c><c><v>3</v></c></row>'
    )
    result = read_consumption_file(xlsx_bytes(counted), "u.xlsx")
    assert result.issues == [
        RowIssue(2, "Unit MSRP", "#NUM!", "cell holds an Excel error")
    ]


def test_hidden_rows_without_references_are_counted():
    rows = data_row(2) + bare(data_row(3, "EU-3")).replace("<row>", '<row hidden="1">')
    rows += bare(data_row(4, "EU-4"))
    result = read_consumption_file(xlsx_bytes(rows), "u.xlsx")
    assert [r.row_number for r in result.rows] == [2, 4]
    assert result.issues == [RowIssue(3, "End User Identifier", "EU-3", "hidden row")]


def test_shared_strings_count_is_bounded():
    data = xlsx_bytes(data_row(2), shared_strings=[str(n) for n in range(50)])
    assert "shared-strings table holds more than 40 texts" in refused(
        data, limits=Limits(max_cells=40)
    )


def test_every_xls_sheet_hidden_is_refused():
    book = xlwt.Workbook()
    sheet = book.add_sheet("Usage")
    sheet.write(0, 0, "End User Identifier")
    sheet.visibility = 1
    buffer = io.BytesIO()
    book.save(buffer)
    assert "Every sheet of the workbook is hidden ('Usage')" in refused(
        buffer.getvalue(), "usage.xls"
    )
