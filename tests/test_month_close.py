# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The month close on plain values: why a row's cost was billed or not,
Sophos's bill made from the file, a bill entered by hand compared with it."""

from decimal import Decimal

import pytest

from sophos_ppu.core.billing import workbook_xlsx
from sophos_ppu.core.month_close import (
    BILLED,
    CLOSED,
    ERROR,
    HELD,
    TO_BILL,
    ZERO,
    BillLine,
    CostRow,
    Difference,
    close_status,
    compare_bill,
    vendor_bill_lines,
)


@pytest.mark.parametrize(
    ("billed", "state", "quantity", "issue", "status"),
    [
        (True, "ok", 3, None, BILLED),
        (True, "ok", -3, "credits_billed", BILLED),
        (False, "ok", 3, None, TO_BILL),
        (False, "ok", 0, "zero_quantity", ZERO),
        (False, "error", 0, "no_subscription", ZERO),
        (False, "duplicate", 3, "already_billed", HELD),
        (False, "error", 3, "closed", CLOSED),
        (False, "error", 3, "no_subscription", ERROR),
        (False, "error", 3, "no_rule", ERROR),
    ],
)
def test_every_row_has_one_reason_for_its_cost(billed, state, quantity, issue, status):
    assert close_status(billed, state, quantity, issue) == status


def test_sophos_bill_has_a_line_per_currency_service_and_unit_price():
    rows = [
        CostRow("EUR", "XDR-1", "Intercept X", 4.5, 10, 45.0),
        CostRow("EUR", "xdr-1 ", "Intercept X (renamed)", 4.5, 2.5, 11.25),
        CostRow("EUR", "XDR-1", "Intercept X", 4.4, 1, 4.4),
        CostRow("EUR", None, "Email", 1.1, 3, 3.3),
        CostRow("USD", "XDR-1", "Intercept X", 5.0, 1, 5.0),
    ]
    lines = vendor_bill_lines(rows)
    assert lines == {
        "EUR": [
            BillLine("EUR", None, "Email", 1.1, 3, Decimal("3.3")),
            BillLine("EUR", "XDR-1", "Intercept X", 4.4, 1, Decimal("4.4")),
            BillLine("EUR", "XDR-1", "Intercept X", 4.5, 12.5, Decimal("56.25")),
        ],
        "USD": [BillLine("USD", "XDR-1", "Intercept X", 5.0, 1, Decimal("5.0"))],
    }
    assert lines["EUR"][1].label == "Intercept X (XDR-1)"
    assert lines["EUR"][0].label == "Email"
    # The bill adds up to the rows' costs, to the cent.
    assert sum(line.cost for line in lines["EUR"]) == Decimal("63.95")


def test_a_bill_entered_by_hand_is_compared_service_by_service():
    file_lines = vendor_bill_lines(
        [
            CostRow("EUR", "XDR-1", "Intercept X", 4.5, 10, 45.0),
            CostRow("EUR", "MAIL-1", "Email", 1.1, 3, 3.3),
        ]
    )["EUR"]
    bill = [
        ("Sophos XDR-1 October", 10, Decimal("45.00")),
        ("email protection", 4, Decimal("4.40")),
        ("Late fee", 1, Decimal("2.00")),
    ]
    differences = compare_bill(file_lines, bill)
    assert differences == [
        Difference("Email (MAIL-1)", 3, Decimal("3.3"), 4, Decimal("4.40")),
        Difference("Intercept X (XDR-1)", 10, Decimal("45.0"), 10, Decimal("45.00")),
        Difference("Late fee", 0.0, Decimal(0), 1, Decimal("2.00")),
    ]
    assert [d.difference for d in differences] == [
        Decimal("1.10"),
        Decimal("0.00"),
        Decimal("2.00"),
    ]


def test_a_service_the_bill_leaves_out_shows_its_whole_cost_missing():
    file_lines = vendor_bill_lines([CostRow("EUR", "XDR-1", "X", 4.5, 10, 45.0)])["EUR"]
    [difference] = compare_bill(file_lines, [])
    assert difference.difference == Decimal("-45.0")


def test_the_month_end_workbook_has_a_sheet_per_table_and_neutral_cells(tmp_path):
    from openpyxl import load_workbook

    data = workbook_xlsx(
        [
            ("Reconciliation", ["Reason", "Cost"], [["=cmd()", Decimal("1.5")]]),
            ("Sophos bill", ["Service"], [["Email"]]),
        ]
    )
    path = tmp_path / "month.xlsx"
    path.write_bytes(data)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Reconciliation", "Sophos bill"]
    assert [c.value for c in workbook["Reconciliation"][2]] == ["'=cmd()", 1.5]
