"""The sample consumption files: what the demo imports and ops download."""

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sophos_ppu.core import read_consumption_file
from sophos_ppu.core.sample import (
    DEMO_END_USERS,
    SOPHOS_HEADER,
    TEMPLATE_PERIOD,
    monthly_quantity,
    sample_rows,
    sample_xlsx,
)

TEMPLATE = (
    Path(__file__).resolve().parent.parent
    / "sophos_ppu/static/sample/sophos_consumption_sample.xlsx"
)
MONTHS = [date(year, month, 1) for year in (2026, 2027, 2028) for month in range(1, 13)]


def as_read(row):
    """A sample row as the reader returns it."""
    return (
        row["End User Identifier"],
        row["Customer Name"],
        row["SKU"],
        row["Start Date"],
        row["End Date"],
        Decimal(row["Total Quantity"]),
        row["Unit MSRP"],
        row["Unit Price"],
        row["Currency"],
        row["Partner ID"],
    )


def read(result):
    return [
        (
            row.end_user_identifier,
            row.end_customer_name,
            row.sku,
            row.start_date,
            row.end_date,
            row.quantity,
            row.unit_msrp,
            row.unit_cost,
            row.file_currency,
            row.file_partner_ref,
        )
        for row in result.rows
    ]


def test_shipped_template_is_what_the_generator_writes():
    result = read_consumption_file(TEMPLATE)
    assert not result.issues
    assert not result.skipped
    assert read(result) == [
        as_read(row) for row in sample_rows(DEMO_END_USERS, TEMPLATE_PERIOD)
    ]


def test_sample_workbook_has_sophos_columns_a_to_v():
    sheet = load_workbook(
        io.BytesIO(sample_xlsx(DEMO_END_USERS, TEMPLATE_PERIOD))
    ).active
    assert [cell.value for cell in sheet[4]] == list(SOPHOS_HEADER)
    assert sheet["B4"].value == "Start Date"
    assert sheet["H4"].value == "End User Identifier"
    assert sheet["V4"].value == "Unit Price"


@pytest.mark.parametrize("period", [date(2026, 2, 1), date(2028, 12, 1)])
def test_rows_cover_the_whole_month(period):
    rows = sample_rows(DEMO_END_USERS, period)
    assert {row["Start Date"] for row in rows} == {period}
    assert {row["End Date"] for row in rows} == {
        date(2026, 2, 28) if period.year == 2026 else date(2028, 12, 31)
    }
    assert len(rows) == sum(len(end_user.usage) for end_user in DEMO_END_USERS)


def test_quantities_move_a_little_and_the_same_way_every_time():
    end_user = DEMO_END_USERS[0]
    sku, usual = end_user.usage[0]
    quantities = [monthly_quantity(end_user, sku, usual, month) for month in MONTHS]
    assert quantities == [
        monthly_quantity(end_user, sku, usual, month) for month in MONTHS
    ]
    assert len(set(quantities)) > 1
    assert all(abs(quantity - usual) <= usual // 10 for quantity in quantities)


def test_volume_reseller_shows_both_brackets_every_month():
    """The demo's min. quantity rule (from 100 units) shows whatever the month."""
    for month in MONTHS:
        quantities = [
            row["Total Quantity"]
            for row in sample_rows(DEMO_END_USERS, month)
            if row["Partner ID"] == "SPX-300303"
        ]
        assert max(quantities) >= 100 > min(quantities)
