# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The reseller's statement files and month-over-month comparison."""

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from sophos_ppu.core.statement import (
    AMOUNT,
    DATE,
    PRICE,
    QUANTITY,
    Column,
    Money,
    csv_separators,
    file_slug,
    month_over_month,
    percent_change,
    previous_months,
    statement_csv,
    statement_xlsx,
)

USD = Money("USD", "$", before=True)
EUR = Money("EUR", "€", before=False)

COLUMNS = [
    Column("end_customer", "End Customer"),
    Column("service", "Service"),
    Column("start_date", "Start Date", DATE),
    Column("quantity", "Quantity", QUANTITY),
    Column("price_unit", "Unit Price", PRICE),
    Column("subtotal", "Subtotal", AMOUNT),
    Column("currency_code", "Currency"),
]


def _row(end_customer, quantity, price, currency=USD, service="Intercept X"):
    return {
        "end_customer": end_customer,
        "service": service,
        "start_date": date(2026, 10, 1),
        "quantity": quantity,
        "price_unit": price,
        "subtotal": quantity * price,
        "currency": currency,
        "currency_code": currency.code,
    }


ROWS = [
    _row("Globex", 10, 4.5),
    _row("Globex", 2, 1.25, service="XDR"),
    _row("=cmd", 3, 2.0),
    _row("Globex", 1, 7.0, currency=EUR),
]


def _sheet(data):
    return load_workbook(io.BytesIO(data)).active


def test_csv_separators_follow_the_decimal_separator():
    assert csv_separators(",") == (";", ",")
    assert csv_separators(".") == (",", ".")
    assert csv_separators(None) == (",", ".")


def test_csv_of_a_decimal_comma_language_uses_semicolons_and_decimal_commas():
    text = statement_csv(COLUMNS, ROWS[:2], decimal_point=",").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "End Customer"
    assert rows[1] == ["Globex", "Intercept X", "2026-10-01", "10", "4,5", "45", "USD"]
    assert rows[2][3:6] == ["2", "1,25", "2,5"]


def test_csv_of_a_decimal_point_language_uses_commas_and_points():
    text = statement_csv(COLUMNS, ROWS[2:3], decimal_point=".").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=cmd", "Intercept X", "2026-10-01", "3", "2", "6", "USD"]


def test_xlsx_header_is_bold_frozen_and_filtered_with_widths():
    sheet = _sheet(statement_xlsx(COLUMNS, ROWS, "2026-10", "Total"))
    assert [cell.value for cell in sheet[1]][:2] == ["End Customer", "Service"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G5"
    for letter in "ABCDEFG":
        assert sheet.column_dimensions[letter].width >= 8
    assert sheet.column_dimensions["B"].width >= len("Intercept X")


def test_xlsx_formats_dates_and_amounts_in_their_currency():
    sheet = _sheet(statement_xlsx(COLUMNS, ROWS, "2026-10", "Total"))
    assert sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet["D2"].number_format == "#,##0"
    assert sheet["E2"].number_format == '"$"\u00a0#,##0.00##'
    assert sheet["F2"].number_format == '"$"\u00a0#,##0.00'
    assert sheet["F5"].number_format == '#,##0.00\u00a0"€"'
    assert sheet["A4"].value == "'=cmd"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_xlsx_totals_per_end_customer_and_overall_per_currency():
    sheet = _sheet(
        statement_xlsx(
            COLUMNS,
            ROWS,
            "2026-10",
            "Total",
            group_key="end_customer",
            group_total_label="Total end customer",
        )
    )
    rows = [list(row) for row in sheet.iter_rows(min_row=6, values_only=True)]
    assert rows[0] == [None] * 7
    # '=cmd' is neutralised in the totals too; groups sort case-insensitively.
    assert rows[1:] == [
        ["'=cmd", None, None, None, None, 6, "USD"],
        ["Globex", None, None, None, None, 7, "EUR"],
        ["Globex", None, None, None, None, 47.5, "USD"],
        ["Total", None, None, None, None, 7, "EUR"],
        ["Total", None, None, None, None, 53.5, "USD"],
    ]
    assert sheet["F8"].number_format == '#,##0.00\u00a0"€"'
    assert sheet["F11"].font.bold


def test_xlsx_group_total_label_stands_where_the_group_is_not_a_column():
    columns = [column for column in COLUMNS if column.key != "end_customer"]
    sheet = _sheet(statement_xlsx(columns, ROWS[:2], "Globex", "Total"))
    rows = [list(row) for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert rows[1] == ["Total", None, None, None, 47.5, "USD"]


def test_month_over_month_side_by_side_with_the_change():
    months = previous_months(date(2026, 11, 1), 3)
    assert months == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    lines = month_over_month(
        [
            ("Globex", USD, date(2026, 10, 1), 45.0),
            ("Globex", USD, date(2026, 11, 1), 13.5),
            ("Globex", USD, date(2026, 11, 1), 0.005),
            ("Acme", USD, date(2026, 11, 1), 9),
            ("Acme", USD, date(2026, 8, 1), 100),  # before the months shown
        ],
        months,
    )
    assert lines == [
        {
            "end_customer": "Acme",
            "currency": USD,
            "amounts": [Decimal("0.00"), Decimal("0.00"), Decimal("9.00")],
            "change": None,
        },
        {
            "end_customer": "Globex",
            "currency": USD,
            "amounts": [Decimal("0.00"), Decimal("45.00"), Decimal("13.51")],
            "change": Decimal("-70.0"),
        },
    ]


def test_percent_change():
    assert percent_change(0, 5) is None
    assert percent_change(40, 50) == Decimal("25.0")
    assert percent_change(-10, 10) == Decimal("200.0")
    assert percent_change(3, 1) == Decimal("-66.7")


def test_previous_months_cross_the_year():
    assert previous_months(date(2027, 1, 1), 2) == [date(2026, 12, 1), date(2027, 1, 1)]


def test_file_slug():
    assert file_slug("Globex Corporation / Ltd.") == "Globex-Corporation-Ltd"
    assert file_slug("") == "end-customer"
