"""read_consumption_file on real .xlsx, .xls and .csv files."""

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
import xlwt
from conftest import FORMATS, HEADER, sophos_rows

from sophos_ppu.core import (
    ConsumptionFileError,
    Limits,
    RowIssue,
    SkippedRow,
    read_consumption_file,
)

JAN_1, JAN_31 = dt.date(2025, 1, 1), dt.date(2025, 1, 31)


def good(end_user="EU-1", quantity=25, msrp=4.5, price=3.6, **kw):
    row = {
        "End User Identifier": end_user,
        "Start Date": kw.get("start", JAN_1),
        "End Date": kw.get("end", JAN_31),
        "Product Description": kw.get("product", "Intercept X Advanced"),
        "Total Quantity": quantity,
        "Unit MSRP": msrp,
        "Unit Price": price,
    }
    return [row[h] for h in HEADER]


def test_reads_every_field_with_its_type(fmt, write_file):
    header = [*HEADER, "Customer Name", "SKU", "Currency", "Region"]
    path = write_file(
        fmt,
        [
            header,
            [*good(), "Müller Bau AG", "CIXA1CSAA", "eur", "EMEA"],
            [*good("EU-2", 3, 12, 9.6), "Kanzlei Weber", "CSVR1CSAA", "EUR", None],
        ],
    )

    result = read_consumption_file(path)

    assert result.file_format == fmt
    assert result.header_row_number == 1
    assert result.row_count == 2
    assert result.issues == [] and result.skipped == []
    first, second = result.rows
    assert first.row_number == 2
    assert first.end_user_identifier == "EU-1"
    assert (first.start_date, first.end_date) == (JAN_1, JAN_31)
    assert first.product_description == "Intercept X Advanced"
    assert first.quantity == Decimal("25")
    assert first.unit_msrp == Decimal("4.5")
    assert first.unit_cost == Decimal("3.6")
    assert first.end_customer_name == "Müller Bau AG"
    assert first.sku == "CIXA1CSAA"
    assert first.file_currency == "EUR"
    assert first.extra == {"Region": "EMEA"}
    assert second.row_number == 3
    assert second.unit_msrp == Decimal("12")
    assert second.extra == {}
    assert result.columns["unit_msrp"] == "Unit MSRP"
    assert result.columns["end_customer_name"] == "Customer Name"


def test_excel_number_cells_become_exact_decimals(write_file):
    for fmt in ("xlsx", "xls"):
        path = write_file(fmt, [HEADER, good(quantity=3, msrp=0.1, price=0.07)])
        row = read_consumption_file(path).rows[0]
        assert str(row.unit_msrp) == "0.1"
        assert str(row.unit_cost) == "0.07"
        assert row.quantity == Decimal(3)
        assert row.cost_amount == Decimal("0.21")


def test_header_is_found_below_merged_title_rows(fmt, write_file):
    options = {"merge": "A1:V1"} if fmt == "xlsx" else {}
    path = write_file(fmt, sophos_rows(), **options)

    result = read_consumption_file(path)

    assert result.header_row_number == 4
    assert [r.row_number for r in result.rows] == [5, 6, 7, 8]
    first = result.rows[0]
    assert first.end_user_identifier == "1b2c3d4e-0001"
    assert first.file_partner_ref == "P-100200"
    assert first.file_partner_name == "Acme IT Services GmbH"
    assert first.extra["Country"] == "DE"
    assert first.extra["Billable Quantity"] == "25"
    assert result.columns["quantity"] == "Total Quantity"


def test_columns_are_found_by_name_in_any_order_and_spelling(fmt, write_file):
    header = ["unit price", "END_USER_ID", "Product Name", "qty", "Start date"]
    header += ["MSRP", "end-date"]
    path = write_file(
        fmt, [header, [3.6, "EU-7", "Central Server", 4, JAN_1, 4.5, JAN_31]]
    )

    row = read_consumption_file(path).rows[0]

    assert row.end_user_identifier == "EU-7"
    assert row.product_description == "Central Server"
    assert row.quantity == Decimal(4)
    assert (row.unit_msrp, row.unit_cost) == (Decimal("4.5"), Decimal("3.6"))
    assert (row.start_date, row.end_date) == (JAN_1, JAN_31)


API_HEADER = [
    "partnerId",
    "customerId",
    "customerName",
    "startDate",
    "endDate",
    "productCode",
    "productDescription",
    "quantity",
    "unitMsrp.EUR",
    "unitPrice.EUR",
]


def api_row(customer_id="c0ffee-01", msrp=4.5, price=3.6):
    return [
        "p-42",
        customer_id,
        "Müller Bau AG",
        "2025-01-01T00:00:00Z",
        "2025-01-31T23:59:59Z",
        "CIXA1CSAA",
        "Intercept X Advanced",
        25,
        msrp,
        price,
    ]


def test_partner_api_export_takes_currency_from_price_headers(fmt, write_file):
    path = write_file(fmt, [API_HEADER, api_row()])

    result = read_consumption_file(path)

    row = result.rows[0]
    assert row.end_user_identifier == "c0ffee-01"
    assert row.end_customer_name == "Müller Bau AG"
    assert (row.start_date, row.end_date) == (JAN_1, JAN_31)
    assert row.sku == "CIXA1CSAA"
    assert row.file_partner_ref == "p-42"
    assert (row.unit_msrp, row.unit_cost) == (Decimal("4.5"), Decimal("3.6"))
    assert row.file_currency == "EUR"
    assert result.price_currency == "EUR"
    assert result.columns["unit_cost"] == "unitPrice.EUR"
    assert any("EUR" in note for note in result.notes)


def test_several_price_currencies_are_not_mixed(fmt, write_file):
    header = [*API_HEADER, "unitMsrp.USD", "unitPrice.USD"]
    path = write_file(fmt, [header, [*api_row(), 5.0, 4.0]])

    with pytest.raises(ConsumptionFileError) as error:
        read_consumption_file(path)
    assert error.value.currencies == ["EUR", "USD"]
    assert "EUR, USD" in error.value.message

    result = read_consumption_file(path, currency="usd")
    row = result.rows[0]
    assert (row.unit_msrp, row.unit_cost, row.file_currency) == (
        Decimal("5"),
        Decimal("4"),
        "USD",
    )
    assert row.extra["unitPrice.EUR"] == "3.6"
    assert "ignored 'unitMsrp.EUR', 'unitPrice.EUR'" in result.notes[0]


def test_only_complete_currency_set_is_used(write_file):
    header = [*API_HEADER, "msrpUSD"]
    path = write_file("csv", [header, [*api_row(), 5.0]])

    result = read_consumption_file(path)

    assert result.price_currency == "EUR"
    assert result.rows[0].unit_msrp == Decimal("4.5")
    assert result.rows[0].extra["msrpUSD"] == "5.0"


def test_missing_required_column_is_named(fmt, write_file):
    header = [h for h in HEADER if h != "Unit MSRP"]
    path = write_file(fmt, [header, ["EU-1", JAN_1, JAN_31, "X", 1, 3.6]])

    with pytest.raises(ConsumptionFileError) as error:
        read_consumption_file(path)

    assert error.value.missing_columns == ["Unit MSRP"]
    assert error.value.message.startswith("Required column(s) missing: Unit MSRP.")


def test_all_missing_required_columns_are_named(write_file):
    header = ["End User Identifier", "Start Date", "End Date", "Product Description"]
    path = write_file("csv", [header, ["EU-1", "2025-01-01", "2025-01-31", "X"]])

    with pytest.raises(ConsumptionFileError) as error:
        read_consumption_file(path)

    assert error.value.missing_columns == ["Total Quantity", "Unit MSRP", "Unit Price"]
    assert "Total Quantity, Unit MSRP, Unit Price" in str(error.value)


def test_file_without_header_row_is_refused(fmt, write_file):
    path = write_file(fmt, [["Hello"], ["a", "b", "c"], [1, 2, 3]])

    with pytest.raises(ConsumptionFileError) as error:
        read_consumption_file(path)

    assert error.value.message.startswith("No header row found")
    assert "Unit MSRP" in error.value.missing_columns


def test_header_without_data_rows_is_refused(fmt, write_file):
    path = write_file(fmt, [HEADER])

    with pytest.raises(ConsumptionFileError, match="no data rows"):
        read_consumption_file(path)


@pytest.mark.parametrize(
    "content, name, mentions",
    [
        (b"", "usage.csv", "empty"),
        (b"  \r\n", "usage.csv", "empty"),
        (b"PK\x03\x04 truncated", "usage.xlsx", ".xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 garbage", "usage.xls", ".xls"),
        (b"\x00\x01\x02 binary junk", "usage.xlsx", ".xlsx"),
        (b"<html><body><table></table></body></html>", "usage.xls", "HTML"),
        (b"UEsDBBQABgAIAAAAIQ", "usage.xlsx", "base64"),
    ],
)
def test_unreadable_file_raises_a_plain_error(content, name, mentions):
    with pytest.raises(ConsumptionFileError) as error:
        read_consumption_file(content, filename=name)
    assert mentions in error.value.message
    assert "Traceback" not in error.value.message


def test_missing_path_is_a_file_error(tmp_path):
    with pytest.raises(ConsumptionFileError, match="File not found"):
        read_consumption_file(tmp_path / "nope.xlsx")


def test_decimal_comma_amounts(fmt, write_file):
    rows = [
        HEADER,
        good(quantity="1.000", msrp="1.234,56", price="1234,5"),
        good(quantity="2", msrp="4,50", price="0,875"),
        good(quantity="3", msrp="1,250", price="1.250"),
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert result.issues == []
    first, second, third = result.rows
    assert (first.quantity, first.unit_msrp, first.unit_cost) == (
        Decimal("1000"),
        Decimal("1234.56"),
        Decimal("1234.5"),
    )
    assert (second.unit_msrp, second.unit_cost) == (Decimal("4.50"), Decimal("0.875"))
    assert (third.unit_msrp, third.unit_cost) == (Decimal("1.250"), Decimal("1250"))


def test_thousands_separators_with_decimal_point(fmt, write_file):
    rows = [
        HEADER,
        good(quantity="1,000", msrp="1,234.56", price="4.50"),
        good(quantity="12", msrp="1.250", price="1,250"),
    ]
    result = read_consumption_file(write_file(fmt, rows))

    first, second = result.rows
    assert (first.quantity, first.unit_msrp, first.unit_cost) == (
        Decimal("1000"),
        Decimal("1234.56"),
        Decimal("4.50"),
    )
    assert (second.unit_msrp, second.unit_cost) == (Decimal("1.250"), Decimal("1250"))


def test_undecidable_separator_is_an_issue_not_a_guess(fmt, write_file):
    rows = [HEADER, good(quantity="1,000", msrp="4", price="3")]
    result = read_consumption_file(write_file(fmt, rows))

    assert result.rows == []
    (issue,) = result.issues
    assert (issue.row_number, issue.column, issue.value) == (
        2,
        "Total Quantity",
        "1,000",
    )
    assert issue.reason.startswith("ambiguous number")


def test_currency_symbols_codes_and_spaces_in_amounts(fmt, write_file):
    rows = [
        HEADER,
        good(quantity="1\u00a0000", msrp="€ 4,50", price="3,60 €"),
        good(quantity=" 7 ", msrp="EUR 12,00", price="9,60 EUR"),
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert result.issues == []
    first, second = result.rows
    assert (first.quantity, first.unit_msrp, first.unit_cost) == (
        Decimal("1000"),
        Decimal("4.50"),
        Decimal("3.60"),
    )
    assert first.file_currency == "EUR"
    assert (second.quantity, second.unit_msrp) == (Decimal("7"), Decimal("12.00"))


def test_dollar_amounts(fmt, write_file):
    rows = [HEADER, good(msrp="$5.00", price="4.00 USD")]
    row = read_consumption_file(write_file(fmt, rows)).rows[0]
    assert (row.unit_msrp, row.unit_cost, row.file_currency) == (
        Decimal("5.00"),
        Decimal("4.00"),
        "USD",
    )


def test_amount_in_other_currency_than_currency_column_is_an_issue(write_file):
    header = [*HEADER, "Currency"]
    rows = [header, [*good(msrp="$5.00"), "EUR"]]
    result = read_consumption_file(write_file("csv", rows))

    assert result.rows == []
    assert result.issues == [
        RowIssue(2, "Unit MSRP", "$5.00", "amount in USD, not EUR")
    ]


def test_excel_serial_dates(fmt, write_file):
    serial = (lambda n: str(n)) if fmt == "csv" else (lambda n: n)
    rows = [HEADER, good(start=serial(45658), end=serial(45688))]
    row = read_consumption_file(write_file(fmt, rows)).rows[0]
    assert (row.start_date, row.end_date) == (JAN_1, JAN_31)


def test_text_dates_day_first_and_iso(fmt, write_file):
    rows = [
        HEADER,
        good(start="01/02/2025", end="28.02.2025"),
        good(start="1-Feb-2025", end="2025-02-28T00:00:00Z"),
        good(start="2025-02-01", end="28 February 2025"),
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert result.issues == []
    for row in result.rows:
        assert (row.start_date, row.end_date) == (
            dt.date(2025, 2, 1),
            dt.date(2025, 2, 28),
        )


def test_file_with_us_dates_is_read_month_first(fmt, write_file):
    rows = [
        HEADER,
        good(start="02/01/2025", end="02/28/2025"),
        good(start="01/01/2025", end="01/31/2025"),
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert result.issues == []
    assert (result.rows[0].start_date, result.rows[0].end_date) == (
        dt.date(2025, 2, 1),
        dt.date(2025, 2, 28),
    )
    assert any("month first" in note for note in result.notes)


def test_blank_rows_and_trailing_totals_row_are_skipped(fmt, write_file):
    rows = [
        HEADER,  # 1
        good("EU-1", 25, 4.5, 3.6),  # 2
        [None] * 7,  # 3
        good("EU-2", 10, 4.5, 3.6),  # 4
        [],  # 5
        ["Total", None, None, None, 35, None, None],  # 6
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert [r.row_number for r in result.rows] == [2, 4]
    assert result.skipped == [
        SkippedRow(3, "blank row"),
        SkippedRow(5, "blank row"),
        SkippedRow(6, "totals row"),
    ]
    assert result.row_count == 2
    assert result.issues == []


@pytest.mark.parametrize(
    "totals_row",
    [
        [None, None, None, None, 35, 157.5, 126],
        ["Grand Total:", None, None, "all products", 35, None, 126],
        ["TOTALS (EUR)", None, None, None, 35, None, None],
    ],
)
def test_totals_row_is_recognised_with_or_without_label(fmt, write_file, totals_row):
    rows = [HEADER, good("EU-1", 25), good("EU-2", 10), totals_row]
    result = read_consumption_file(write_file(fmt, rows))

    assert result.skipped == [SkippedRow(4, "totals row")]
    assert len(result.rows) == 2 and result.issues == []


def test_totals_row_and_footer_lines_below_the_data_are_skipped(fmt, write_file):
    rows = [
        HEADER,
        good("EU-1", 25),  # 2
        good("EU-2", 10),  # 3
        ["grand total", None, None, None, 35, 157.5, 126],  # 4
        [],  # 5
        ["Generated by Sophos Central on 2026-11-02"],  # 6
        [None, None, None, "Confidential - Sophos Ltd"],  # 7
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert result.skipped == [
        SkippedRow(4, "totals row"),
        SkippedRow(5, "blank row"),
        SkippedRow(6, "footer line"),
        SkippedRow(7, "footer line"),
    ]
    assert [r.row_number for r in result.rows] == [2, 3] and result.issues == []


@pytest.mark.parametrize(
    "last_row",
    [
        good("Total-1"),  # an End User Identifier that starts like a label
        ["TOTALS (EUR)", JAN_1, JAN_31, None, 35, None, None],  # dates: data
        ["Generated by Sophos Central", JAN_1, JAN_31, None, None, None, None],
        ["EU-9", None, None, None, None, None, None],  # an identifier alone
        [None, JAN_1, None, None, None, None, None],  # a date alone
    ],
)
def test_a_data_row_is_never_taken_for_totals_or_a_footer(write_file, last_row):
    rows = [HEADER, good("EU-1"), last_row]
    result = read_consumption_file(write_file("csv", rows))

    assert result.skipped == []
    assert result.row_count == 2
    assert 3 in [r.row_number for r in result.rows] + result.invalid_row_numbers


def test_real_last_row_is_not_taken_for_totals(write_file):
    header = ["Partner Name", *HEADER]
    rows = [header, ["Acme", *good("EU-1")], ["Total Security GmbH", *good("EU-2")]]
    result = read_consumption_file(write_file("csv", rows))

    assert [r.end_user_identifier for r in result.rows] == ["EU-1", "EU-2"]
    assert result.skipped == []


def test_bad_cells_are_reported_and_the_rest_is_read(fmt, write_file):
    rows = [
        HEADER,  # 1
        good("EU-1"),  # 2
        good("EU-2", msrp="abc"),  # 3
        good("EU-3", quantity=None),  # 4
        good("EU-4", start="31/02/2025"),  # 5
        good("EU-5", start=JAN_31, end=JAN_1),  # 6
        good("EU-6", price=""),  # 7
        good(None),  # 8
        good("EU-9"),  # 9
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert [r.row_number for r in result.rows] == [2, 9]
    assert result.row_count == 8
    assert result.issues == [
        RowIssue(3, "Unit MSRP", "abc", "not a number"),
        RowIssue(4, "Total Quantity", "", "required value is empty"),
        RowIssue(5, "Start Date", "31/02/2025", "not a date"),
        RowIssue(6, "End Date", "2025-01-01", "end date before start date"),
        RowIssue(7, "Unit Price", "", "required value is empty"),
        RowIssue(8, "End User Identifier", "", "required value is empty"),
    ]
    assert result.invalid_row_numbers == [3, 4, 5, 6, 7, 8]


def test_each_bad_cell_of_a_row_is_an_issue(fmt, write_file):
    rows = [HEADER, good("EU-1"), good("EU-2", quantity="x", msrp="", end="soon")]
    result = read_consumption_file(write_file(fmt, rows))

    assert [(i.row_number, i.column, i.reason) for i in result.issues] == [
        (3, "End Date", "not a date"),
        (3, "Total Quantity", "not a number"),
        (3, "Unit MSRP", "required value is empty"),
    ]
    assert len(result.rows) == 1


def test_rows_with_issues_keep_every_cell_as_text(fmt, write_file):
    rows = [
        HEADER + ["Customer Name"],
        good("EU-1") + ["Acme"],
        good("EU-2", quantity="x", end="soon") + ["Helios BV"],
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert list(result.issue_cells) == [3]
    cells = result.issue_cells[3]
    assert cells["End User Identifier"] == "EU-2"
    assert cells["Customer Name"] == "Helios BV"
    assert cells["Product Description"] == "Intercept X Advanced"
    assert cells["Total Quantity"] == "x"
    assert cells["End Date"] == "soon"
    assert cells["Unit Price"] == "3.6"
    assert list(cells)[:3] == ["End User Identifier", "Start Date", "End Date"]
    assert result.headers == HEADER + ["Customer Name"]


def test_issue_reads_as_a_sentence():
    issue = RowIssue(14, "Unit MSRP", "abc", "not a number")
    assert str(issue) == "row 14, column 'Unit MSRP': 'abc' is not a number"
    empty = RowIssue(7, "Unit Price", "", "required value is empty")
    assert str(empty) == "row 7, column 'Unit Price': required value is empty"


def test_numeric_identifier_cell_is_text_without_decimals(write_file):
    for fmt in ("xlsx", "xls"):
        path = write_file(fmt, [HEADER, good(end_user=1234567)])
        assert read_consumption_file(path).rows[0].end_user_identifier == "1234567"


def test_csv_with_semicolons_bom_and_decimal_commas(write_file):
    rows = [HEADER, good(msrp="4,50", price="3,60", product="Intercept X – Server")]
    path = write_file("csv", rows, delimiter=";", bom=True)

    result = read_consumption_file(path)

    assert (result.delimiter, result.encoding) == (";", "utf-8-sig")
    assert result.columns["end_user_identifier"] == "End User Identifier"
    row = result.rows[0]
    assert (row.unit_msrp, row.unit_cost) == (Decimal("4.50"), Decimal("3.60"))
    assert row.product_description == "Intercept X – Server"


def test_csv_in_latin1_is_decoded(write_file):
    header = [*HEADER, "Customer Name"]
    rows = [header, [*good(), "Bäckerei Müller"]]
    path = write_file("csv", rows, delimiter=";", encoding="latin-1")

    result = read_consumption_file(path)

    assert result.encoding == "cp1252"
    assert result.rows[0].end_customer_name == "Bäckerei Müller"


def test_csv_unicode_text_export_utf16_tabs(write_file):
    path = write_file("csv", [HEADER, good()], delimiter="\t", encoding="utf-16")
    result = read_consumption_file(path)
    assert (result.delimiter, result.encoding) == ("\t", "utf-16")
    assert result.rows[0].unit_msrp == Decimal("4.5")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("name", ["usage.csv", "usage.txt", "usage.xls"])
def test_csv_unicode_text_export_utf16_without_bom(encoding, name):
    header = [*HEADER, "Customer Name"]
    row = ["EU-1", "2025-01-01", "2025-01-31", "X", "2", "4,5", "3,6", "Müller €"]
    text = "".join("\t".join(cells) + "\r\n" for cells in (header, row))

    result = read_consumption_file(text.encode(encoding), name)

    assert (result.delimiter, result.encoding) == ("\t", encoding)
    assert result.issues == []
    assert result.rows[0].end_user_identifier == "EU-1"
    assert result.rows[0].end_customer_name == "Müller €"


def test_csv_row_numbers_are_physical_lines(write_file):
    rows = [
        ["Usage report"],
        HEADER,
        good("EU-1", product="Intercept X\nAdvanced"),
        good("EU-2", msrp="bad"),
    ]
    result = read_consumption_file(write_file("csv", rows))

    assert result.header_row_number == 2
    assert result.rows[0].row_number == 3
    assert result.rows[0].product_description == "Intercept X\nAdvanced"
    assert result.issues[0].row_number == 5


def test_csv_excel_sep_line(tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text(
        "sep=;\n" + ";".join(HEADER) + "\nEU-1;01.01.2025;31.01.2025;X;2;4,5;3,6\n",
        encoding="utf-8",
    )
    result = read_consumption_file(path)
    assert result.header_row_number == 2
    assert result.rows[0].unit_cost == Decimal("3.6")


def test_bytes_are_read_with_or_without_filename(fmt, write_file):
    data = write_file(fmt, [HEADER, good()]).read_bytes()

    named = read_consumption_file(data, filename=f"upload.{fmt.upper()}")
    sniffed = read_consumption_file(data)

    assert named.file_format == sniffed.file_format == fmt
    assert named.rows == sniffed.rows
    assert named.rows[0].unit_msrp == Decimal("4.5")


def test_content_wins_over_a_wrong_extension(write_file):
    xlsx = write_file("xlsx", [HEADER, good()]).read_bytes()
    csv_bytes = write_file("csv", [HEADER, good()]).read_bytes()
    assert read_consumption_file(xlsx, filename="usage.xls").file_format == "xlsx"
    assert read_consumption_file(csv_bytes, filename="usage.xls").file_format == "csv"


def test_binary_file_object_is_accepted(write_file):
    path = write_file("xlsx", [HEADER, good()])
    with open(path, "rb") as handle:
        result = read_consumption_file(handle)
    assert result.rows[0].end_user_identifier == "EU-1"


def test_sheet_with_the_header_is_used(tmp_path):
    xlsx = tmp_path / "usage.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Summary", "January 2025"])
    usage = workbook.create_sheet("Details")
    usage.append(HEADER)
    usage.append(good())
    workbook.save(xlsx)

    xls = tmp_path / "usage.xls"
    book = xlwt.Workbook()
    book.add_sheet("Summary").write(0, 0, "Summary")
    details = book.add_sheet("Details")
    for c, (head, value) in enumerate(
        zip(HEADER, good("EU-1", start=45658, end=45688), strict=True)
    ):
        details.write(0, c, head)
        details.write(1, c, value)
    book.save(str(xls))

    for path in (xlsx, xls):
        result = read_consumption_file(path)
        assert result.sheet_name == "Details"
        assert result.rows[0].start_date == JAN_1


def test_same_required_column_twice_is_refused(write_file):
    header = [*HEADER, "Unit Price"]
    path = write_file("csv", [header, [*good(), 9]])
    with pytest.raises(
        ConsumptionFileError,
        match=r"'Unit Price' appears more than once \(columns G, H\)",
    ):
        read_consumption_file(path)


def test_consumption_key_and_amounts(write_file):
    header = [*HEADER, "SKU"]
    rows = [header, [*good(), "CIXA1CSAA"], [*good("EU-2"), None]]
    with_sku, without_sku = read_consumption_file(write_file("csv", rows)).rows

    quantity = Decimal(25)  # the key carries it: a negative one is a correction
    assert with_sku.consumption_key == ("EU-1", "CIXA1CSAA", JAN_1, JAN_31, quantity)
    assert without_sku.consumption_key == (
        "EU-2",
        "Intercept X Advanced",
        JAN_1,
        JAN_31,
        quantity,
    )
    assert with_sku.msrp_amount == Decimal("112.5")
    assert with_sku.cost_amount == Decimal("90.0")


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_are_immutable(fmt, write_file):
    row = read_consumption_file(write_file(fmt, [HEADER, good()])).rows[0]
    with pytest.raises(AttributeError):
        row.quantity = Decimal(1)


def test_whitespace_only_row_counts_as_blank(tmp_path):
    path = tmp_path / "usage.csv"
    lines = [",".join(HEADER), "EU-1,2025-01-01,2025-01-31,X,2,4.5,3.6", " , ,\u00a0"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = read_consumption_file(path)

    assert result.skipped == [SkippedRow(3, "blank row")]
    assert result.row_count == 1


def test_rows_of_invisible_characters_count_as_blank(fmt, write_file):
    rows = [
        HEADER,
        good("EU-1"),  # 2
        ["\u200b", None, "\ufeff"],  # 3: zero-width space, byte order mark
        [" \u2060 ", "\u200b\u200b", "\u00a0"],  # 4: word joiner, blanks
        ["\ufeff\u200b \u2060"],  # 5
        good("EU-2"),  # 6
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert result.skipped == [SkippedRow(n, "blank row") for n in (3, 4, 5)]
    assert [r.row_number for r in result.rows] == [2, 6] and result.issues == []


def test_invisible_characters_at_the_edges_of_cells_are_dropped(fmt, write_file):
    row = good("\u200bEU-1\u2060", msrp="\ufeff4.5", product="Intercept\u200bX\ufeff ")
    result = read_consumption_file(write_file(fmt, [HEADER, row]))

    assert result.issues == []
    assert result.rows[0].end_user_identifier == "EU-1"
    assert result.rows[0].unit_msrp == Decimal("4.5")
    assert result.rows[0].product_description == "Intercept\u200bX"


def test_currency_column_must_agree_with_price_headers(fmt, write_file):
    header = [*API_HEADER, "currency"]
    rows = [header, [*api_row("c-1"), "EUR"], [*api_row("c-2"), "USD"]]
    result = read_consumption_file(write_file(fmt, rows))

    assert [r.end_user_identifier for r in result.rows] == ["c-1"]
    assert result.issues == [
        RowIssue(
            3, "currency", "USD", "currency USD does not match the price columns (EUR)"
        )
    ]


def test_two_currency_columns_that_disagree_make_an_issue(fmt, write_file):
    header = [*HEADER, "Currency", "Region", "Currency"]  # H and J
    rows = [
        header,
        [*good("EU-1"), "EUR", "EMEA", "eur"],
        [*good("EU-2"), "EUR", "EMEA", "usd"],
        [*good("EU-3"), "EUR", "EMEA", None],
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert [r.end_user_identifier for r in result.rows] == ["EU-1", "EU-3"]
    assert [r.file_currency for r in result.rows] == ["EUR", "EUR"]
    assert result.issues == [
        RowIssue(
            3,
            "Currency",
            "usd",
            "currency USD in 'Currency' (column J) does not match EUR in "
            "'Currency' (column H)",
        )
    ]


def test_currency_columns_of_two_names_must_agree(write_file):
    header = [*HEADER, "Billing Currency", "Currency"]  # "Currency" wins
    rows = [header, [*good("EU-1"), "GBP", "GBP"], [*good("EU-2"), "GBP", "EUR"]]
    result = read_consumption_file(write_file("csv", rows))

    assert [r.file_currency for r in result.rows] == ["GBP"]
    assert [str(issue) for issue in result.issues] == [
        "row 3, column 'Billing Currency': currency GBP in 'Billing Currency' "
        "(column H) does not match EUR in 'Currency' (column I) ('GBP')"
    ]


def test_unknown_currency_code_is_an_issue(write_file):
    header = [*HEADER, "Currency"]
    rows = [header, [*good(), "Euro"]]
    result = read_consumption_file(write_file("csv", rows))

    assert result.issues == [RowIssue(2, "Currency", "Euro", "not a currency code")]


def test_undecodable_utf8_and_cp1252_falls_back_to_latin1():
    header = ";".join(HEADER).encode()
    line = "EU-\x81;2025-01-01;2025-01-31;X;2;4,5;3,6".encode("latin-1")

    result = read_consumption_file(header + b"\n" + line + b"\n", "usage.csv")

    assert result.encoding == "latin-1"
    assert result.rows[0].end_user_identifier == "EU-\x81"


def _workbook_with(fmt, tmp_path, rows, hidden_rows=(), hidden_sheet=False):
    """.xlsx (openpyxl) or .xls (xlwt) with some rows hidden, maybe a hidden
    first sheet holding other rows."""
    if fmt == "xlsx":
        path = tmp_path / "usage.xlsx"
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        if hidden_sheet:
            sheet.title = "Secret"
            sheet.append(HEADER)
            sheet.append(good("SECRET"))
            sheet.sheet_state = "hidden"
            sheet = workbook.create_sheet("Usage")
        for row in rows:
            sheet.append(row)
        for number in hidden_rows:
            sheet.row_dimensions[number].hidden = True
        workbook.save(path)
        return path
    path = tmp_path / "usage.xls"
    book = xlwt.Workbook()
    if hidden_sheet:
        secret = book.add_sheet("Secret")
        for c, (head, value) in enumerate(zip(HEADER, good("SECRET"), strict=True)):
            secret.write(0, c, head)
            secret.write(1, c, str(value))
        secret.visibility = 1
    sheet = book.add_sheet("Usage")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(
                r, c, value.isoformat() if isinstance(value, dt.date) else value
            )
    for number in hidden_rows:
        sheet.row(number - 1).hidden = True
    book.save(str(path))
    return path


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_hidden_rows_are_issues_on_the_first_column(fmt, tmp_path):
    rows = [HEADER, good("EU-1"), good("EU-2"), [None] * 7, good("EU-4")]
    path = _workbook_with(fmt, tmp_path, rows, hidden_rows=(3, 4))

    result = read_consumption_file(path)

    assert [r.row_number for r in result.rows] == [2, 5]
    assert result.issues == [RowIssue(3, "End User Identifier", "EU-2", "hidden row")]
    assert result.skipped == [SkippedRow(4, "blank row")]


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_hidden_sheets_are_not_read(fmt, tmp_path):
    rows = [HEADER, good("EU-1")]
    path = _workbook_with(fmt, tmp_path, rows, hidden_sheet=True)

    result = read_consumption_file(path)

    assert result.sheet_name == "Usage"
    assert [r.end_user_identifier for r in result.rows] == ["EU-1"]


def test_excel_error_cells_in_xls_and_csv(write_file, tmp_path):
    path = tmp_path / "usage.xls"
    book = xlwt.Workbook()
    sheet = book.add_sheet("Usage")
    for r, row in enumerate([HEADER, good("EU-1"), good("EU-2", msrp=None)]):
        for c, value in enumerate(row):
            if value is not None:
                text = value.isoformat() if isinstance(value, dt.date) else value
                sheet.write(r, c, text)
    sheet.row(2).set_cell_error(5, 42)  # #N/A (xlwt spells it "#N/A!")
    book.save(str(path))
    csv_path = write_file("csv", [HEADER, good("EU-1"), good("EU-2", msrp="#N/A")])

    for source in (path, csv_path):
        result = read_consumption_file(source)
        assert result.issues == [
            RowIssue(3, "Unit MSRP", "#N/A", "cell holds an Excel error")
        ]


def test_out_of_range_values_are_issues(fmt, write_file):
    rows = [
        HEADER,
        good("EU-1", msrp="9e999999"),
        good("EU-2", quantity="1" * 40),
        good("EU-3", price="0.0000000000000000000001"),
        good("EU-4", start=dt.date(1999, 12, 31)),
        good("EU-5", end=dt.date(2999, 1, 31)),
        good("EU-6"),
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert [r.row_number for r in result.rows] == [7]
    reasons = [(i.row_number, i.column, i.reason) for i in result.issues]
    assert reasons[:3] == [
        (2, "Unit MSRP", "number out of range"),
        (3, "Total Quantity", "number out of range"),
        (4, "Unit Price", "too many decimals"),
    ]
    assert reasons[3][:2] == (5, "Start Date")
    assert reasons[3][2].startswith("date out of range (2000-01-01 to ")
    assert reasons[4][:2] == (6, "End Date")


def test_unknown_currency_and_excel_errors_in_optional_columns(write_file):
    header = [*HEADER, "Currency", "Customer Name"]
    rows = [
        header,
        [*good("EU-1"), "XYZ", "Müller"],
        [*good("EU-2"), "EUR", "#REF!"],
        [*good("EU-3"), "EUR", "Weber"],
    ]
    result = read_consumption_file(write_file("csv", rows))

    assert [r.end_user_identifier for r in result.rows] == ["EU-3"]
    assert result.issues == [
        RowIssue(2, "Currency", "XYZ", "unknown currency code"),
        RowIssue(3, "Customer Name", "#REF!", "cell holds an Excel error"),
    ]


def test_long_cells_are_issues_in_any_column(fmt, write_file):
    header = [*HEADER, "Notes"]
    rows = [
        header,
        [*good("EU-1"), "short"],
        [*good("EU-2"), "n" * 150],
        [*good("E" * 150), None],
    ]
    limits = Limits(max_cell_chars=100)
    result = read_consumption_file(write_file(fmt, rows), limits=limits)

    assert [r.row_number for r in result.rows] == [2]
    first, second = result.issues
    assert (first.row_number, first.column) == (3, "Notes")
    assert first.reason == "text longer than 100 characters"
    assert (second.row_number, second.column) == (4, "End User Identifier")
    assert len(read_consumption_file(write_file(fmt, rows)).rows) == 3


def test_issue_values_are_cut(write_file):
    rows = [HEADER, good("EU-1", msrp="9" * 1000)]
    (issue,) = read_consumption_file(write_file("csv", rows)).issues
    assert issue.value == "9" * 200 + "…"
    assert issue.reason == "number out of range"


def test_exact_repeats_are_reported_and_kept(fmt, write_file):
    rows = [
        HEADER,
        good("EU-1"),  # 2
        good("EU-2"),  # 3
        good("EU-1"),  # 4: repeats 2
        good("EU-1", quantity=26),  # 5: same consumption, other quantity
        good("EU-2"),  # 6: repeats 3
        good("EU-1"),  # 7: repeats 2
        good("EU-1", msrp="x"),  # 8
        good("EU-1", msrp="x"),  # 9: repeats 8 (an issue row)
    ]
    result = read_consumption_file(write_file(fmt, rows))

    assert result.repeats == {4: 2, 6: 3, 7: 2, 9: 8}
    assert [r.row_number for r in result.rows] == [2, 3, 4, 5, 6, 7]


def test_csv_unbalanced_quote_is_refused_at_its_line(tmp_path):
    lines = [",".join(HEADER)]
    lines += ["EU-1,2025-01-01,2025-01-31,X,2,4.5,3.6"] * 2
    lines += ['EU-2,2025-01-01,2025-01-31,"X,2,4.5,3.6']
    lines += ["EU-3,2025-01-01,2025-01-31,X,2,4.5,3.6"] * 3
    for end in ("", 'EU-9,2025-01-01,2025-01-31,X",2,4.5,3.6\n'):
        path = tmp_path / "usage.csv"
        path.write_text("\n".join(lines) + "\n" + end, encoding="utf-8")
        with pytest.raises(ConsumptionFileError) as caught:
            read_consumption_file(path)
        assert "unbalanced quote" in caught.value.message
        assert "starting on line 4" in caught.value.message


def test_csv_value_past_the_field_limit_names_the_quote(tmp_path):
    body = 'EU-1,2025-01-01,2025-01-31,"' + "x" * 200_000 + "\n"
    path = tmp_path / "usage.csv"
    path.write_text(",".join(HEADER) + "\n" + body, encoding="utf-8")
    with pytest.raises(ConsumptionFileError, match="starting on line 2"):
        read_consumption_file(path)


def test_rows_far_below_the_data_in_xlsx_become_blank_skips(write_file):
    rows = [HEADER, good("EU-1")] + [[]] * 50 + [good("EU-2")]
    result = read_consumption_file(write_file("xlsx", rows))
    assert [r.row_number for r in result.rows] == [2, 53]
    assert len(result.skipped) == 50
