"""The row vocabulary: one declaration, the reader's row and the checks of a
row corrected by hand."""

from dataclasses import fields
from datetime import date
from decimal import Decimal

from sophos_ppu.core.model import ConsumptionRow
from sophos_ppu.core.row import (
    END_BEFORE_START,
    FIELDS,
    LINE_CORRECTABLE,
    LINE_FIELDS,
    MISSING,
    problems,
)

JAN_1, JAN_31 = date(2025, 1, 1), date(2025, 1, 31)
VALUES = {
    "end_user_identifier": "EU-1",
    "product_description": "X",
    "start_date": JAN_1,
    "end_date": JAN_31,
    "quantity": Decimal(0),
    "unit_msrp": 0.0,
    "unit_cost": Decimal("3.6"),
}


def test_the_reader_s_row_has_the_declared_fields_and_the_other_cells():
    names = {f.name for f in fields(ConsumptionRow)}
    assert names == {f.name for f in FIELDS} | {"extra"}
    assert "file_currency_id" in LINE_FIELDS and "file_currency" not in LINE_FIELDS
    assert "file_partner_ref" not in LINE_CORRECTABLE


def test_a_complete_row_has_no_problem_and_zero_is_a_value():
    assert problems(VALUES) == []


def test_empty_required_values_are_missing_in_reading_order():
    values = dict(VALUES, end_user_identifier=False, start_date=None)
    values["product_description"] = ""
    assert problems(values) == [
        ("end_user_identifier", MISSING),
        ("product_description", MISSING),
        ("start_date", MISSING),
    ]


def test_end_before_start_is_a_problem():
    values = dict(VALUES, start_date=JAN_31, end_date=JAN_1)
    assert problems(values) == [("end_date", END_BEFORE_START)]
