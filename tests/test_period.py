"""The month a consumption file bills, proposed before it is imported."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from sophos_ppu.core.period import month_of_filename, month_of_rows


def row(start, quantity="3"):
    return SimpleNamespace(start_date=start, quantity=Decimal(quantity))


def test_the_month_most_rows_start_in_corrections_left_out():
    rows = [
        row(date(2026, 10, 1)),
        row(date(2026, 10, 5)),
        row(date(2026, 11, 1)),
        row(date(2026, 9, 1), "-2"),
        row(date(2026, 9, 1), "-1"),
        row(date(2026, 9, 1), "-1"),
    ]
    assert month_of_rows(rows) == date(2026, 10, 1)


def test_no_month_without_consumption():
    assert month_of_rows([]) is None
    assert month_of_rows([row(date(2026, 9, 1), "-1")]) is None


def test_the_month_of_a_file_name():
    assert month_of_filename("sophos_usage_2026-10.xlsx") == date(2026, 10, 1)
    assert month_of_filename("usage_202612_final.csv") == date(2026, 12, 1)
    assert month_of_filename("usage 2026.10.xls") == date(2026, 10, 1)
    assert month_of_filename("usage-2026-13.xlsx") is None
    assert month_of_filename("invoice-12026101.xlsx") is None
    assert month_of_filename(None) is None
