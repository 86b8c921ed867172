# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from sophos_ppu.core.billing import (
    consumption_key,
    error_report_csv,
    error_report_xlsx,
    invoice_line_label,
    neutralise_cell,
    normalise_name,
    summarize_billing,
)


def test_names_compare_case_and_space_insensitively():
    assert normalise_name("  ACME   Corp ") == normalise_name("acme corp")


def test_consumption_key_ignores_case_and_spaces_of_identifier_and_service():
    first = consumption_key(
        " ABC-1 ", "Intercept X", date(2026, 10, 1), date(2026, 10, 31)
    )
    second = consumption_key(
        "abc-1", "intercept  x", date(2026, 10, 1), date(2026, 10, 31)
    )
    assert first == second == "abc-1|intercept x|2026-10-01|2026-10-31"


def test_consumption_key_differs_by_dates():
    october = consumption_key("A", "S", date(2026, 10, 1), date(2026, 10, 31))
    half = consumption_key("A", "S", date(2026, 10, 1), date(2026, 10, 15))
    assert october != half


def test_invoice_line_label_names_customer_service_and_dates():
    label = invoice_line_label(
        "ACME", "Intercept X Advanced", date(2026, 10, 1), date(2026, 10, 31)
    )
    assert label == "ACME — Intercept X Advanced — 2026-10-01–2026-10-31"


def test_formula_cells_are_neutralised():
    assert [neutralise_cell(v) for v in ("=1+1", "+33", "-2", "@SUM(A1)")] == [
        "'=1+1",
        "'+33",
        "'-2",
        "'@SUM(A1)",
    ]


def test_plain_cells_and_numbers_are_kept():
    assert neutralise_cell("ACME") == "ACME"
    assert neutralise_cell(-2) == -2


def test_summary_counts_states_and_totals_billed_rows_per_reseller():
    summary = summarize_billing(
        [
            ("Reseller B", "EUR", "ok", 10.5),
            ("Reseller A", "EUR", "ok", 4.5),
            ("Reseller A", "EUR", "ok", 0.01),
            ("Reseller A", "EUR", "error", 0),
            ("Reseller A", "EUR", "duplicate", 3),
        ]
    )
    assert (summary["rows"], summary["billed"]) == (5, 3)
    assert (summary["errors"], summary["duplicates"]) == (1, 1)
    assert summary["resellers"] == [
        {
            "reseller": "Reseller A",
            "currency": "EUR",
            "rows": 2,
            "amount": Decimal("4.51"),
        },
        {
            "reseller": "Reseller B",
            "currency": "EUR",
            "rows": 1,
            "amount": Decimal("10.5"),
        },
    ]


def test_csv_error_report_is_neutralised():
    data = error_report_csv(["Row", "Reason"], [[3, "=HYPERLINK('x')"]])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["Row", "Reason"], ["3", "'=HYPERLINK('x')"]]


def test_xlsx_error_report_holds_no_formula():
    data = error_report_xlsx(["Row", "Customer"], [[3, "=cmd|'/c calc'!A0"]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert [cell.value for cell in sheet[2]] == [3, "'=cmd|'/c calc'!A0"]
    assert sheet["B2"].data_type == "s"


def _cells_split_naively(data, separator):
    """The cells a spreadsheet ignoring quotes would make of the CSV."""
    text = data.decode("utf-8-sig")
    return [
        cell.strip(' "') for line in text.splitlines() for cell in line.split(separator)
    ]


def test_csv_error_report_quotes_every_field():
    data = error_report_csv(["Row", "Reason"], [[3, "plain"]])
    assert data.decode("utf-8-sig").splitlines() == [
        '"Row","Reason"',
        '"3","plain"',
    ]


def test_csv_error_report_neutralises_formulas_after_separators_and_newlines():
    cells = [
        'foo;=HYPERLINK("http://evil","x")',
        "a\n=1+1",
        "b,+1",
        "c\t@SUM(A1)",
        "d; -2",
        'e,"=1',
        "f\r\n=2",
    ]
    data = error_report_csv(["Row", "Reason"], [[3, cell] for cell in cells])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == [
        'foo;\'=HYPERLINK("http://evil","x")',
        "a\n'=1+1",
        "b,'+1",
        "c\t'@SUM(A1)",
        "d; '-2",
        "e,\"'=1",
        "f\r\n'=2",
    ]
    for separator in (",", ";", "\t"):
        for cell in _cells_split_naively(data, separator):
            assert not cell.startswith(("=", "+", "-", "@")), (separator, cell)


def test_xlsx_error_report_keeps_separators_in_cells_untouched():
    data = error_report_xlsx(["Row", "Reason"], [[3, "foo;=1+1"]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["B2"].value == "foo;=1+1"
