"""Cell parsers: amounts, dates, currency codes."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from sophos_ppu.core.values import (
    CURRENCY_CODES,
    EXACT,
    Bad,
    cell_text,
    check_date_range,
    date_order_hint,
    decimal_separator_hint,
    excel_error,
    latest_date,
    parse_amount,
    parse_currency,
    parse_date,
    parse_text,
)


@pytest.mark.parametrize(
    "raw, expected, currency",
    [
        ("4.50", Decimal("4.50"), None),
        ("4,50", Decimal("4.50"), None),
        ("1.234,56", Decimal("1234.56"), None),
        ("1234,56", Decimal("1234.56"), None),
        ("1,234.56", Decimal("1234.56"), None),
        ("1,234,567.8", Decimal("1234567.8"), None),
        ("1.234.567", Decimal("1234567"), None),
        ("0,875", Decimal("0.875"), None),
        ("1'234.50", Decimal("1234.50"), None),
        ("1\u00a0234,56", Decimal("1234.56"), None),
        (" 12 ", Decimal("12"), None),
        ("€ 4,50", Decimal("4.50"), "EUR"),
        ("4,50 €", Decimal("4.50"), "EUR"),
        ("$5.00", Decimal("5.00"), "USD"),
        ("5.00 USD", Decimal("5.00"), "USD"),
        ("EUR\u00a01.234,50", Decimal("1234.50"), "EUR"),
        ("£0.99", Decimal("0.99"), "GBP"),
        ("-4,50", Decimal("-4.50"), None),
        ("4.50-", Decimal("-4.50"), None),
        ("(5.00)", Decimal("-5.00"), None),
        ("-€5.00", Decimal("-5.00"), "EUR"),
        ("1.5E+3", Decimal("1500"), None),
        (4.5, Decimal("4.5"), None),
        (0.1, Decimal("0.1"), None),
        (1.1, Decimal("1.1"), None),
        (12.0, Decimal("12"), None),
        (25, Decimal("25"), None),
    ],
)
def test_amount_is_read_as_exact_decimal(raw, expected, currency):
    value, found_currency = parse_amount(raw)
    assert value == expected
    assert str(value) == str(expected)
    assert found_currency == currency


def test_excel_float_never_carries_binary_noise():
    value, _ = parse_amount(0.07)
    assert str(value) == "0.07"
    assert value * 3 == Decimal("0.21")


@pytest.mark.parametrize("raw", ["abc", "4,5,0", "12,34.5", "€", "EUR", "1.2.3,4,5"])
def test_text_that_is_no_number_is_reported(raw):
    assert parse_amount(raw) == Bad("not a number")


@pytest.mark.parametrize("raw", [None, "", "   ", "\u00a0", float("nan")])
def test_blank_amount_is_none(raw):
    assert parse_amount(raw) is None


@pytest.mark.parametrize("raw", ["1,234", "1.234", "12,500"])
def test_thousands_or_decimal_is_not_guessed_without_convention(raw):
    result = parse_amount(raw)
    assert isinstance(result, Bad)
    assert result.reason.startswith("ambiguous")


def test_file_convention_decides_ambiguous_separator():
    assert parse_amount("1,234", ",")[0] == Decimal("1.234")
    assert parse_amount("1,234", ".")[0] == Decimal("1234")
    assert parse_amount("1.234", ",")[0] == Decimal("1234")
    assert parse_amount("1.234", ".")[0] == Decimal("1.234")


@pytest.mark.parametrize(
    "raw, hint",
    [
        ("4,50", ","),
        ("1.234,56", ","),
        ("1,234.56", "."),
        ("4.5", "."),
        ("1.234.567", ","),
        ("1,234", None),
        ("12", None),
        (4.5, None),
    ],
)
def test_decimal_separator_hint(raw, hint):
    assert decimal_separator_hint(raw) == hint


@pytest.mark.parametrize(
    "raw, expected",
    [
        (45658, dt.date(2025, 1, 1)),
        (45688.0, dt.date(2025, 1, 31)),
        (45658.75, dt.date(2025, 1, 1)),
        ("45658", dt.date(2025, 1, 1)),
        (dt.datetime(2025, 1, 31, 23, 59), dt.date(2025, 1, 31)),
        (dt.date(2025, 2, 1), dt.date(2025, 2, 1)),
        (pd.Timestamp("2025-01-15"), dt.date(2025, 1, 15)),
        ("2025-01-01", dt.date(2025, 1, 1)),
        ("2025-01-01T00:00:00Z", dt.date(2025, 1, 1)),
        ("2025-01-31 00:00:00", dt.date(2025, 1, 31)),
        ("20250131", dt.date(2025, 1, 31)),
        ("01/02/2025", dt.date(2025, 2, 1)),
        ("01.02.2025", dt.date(2025, 2, 1)),
        ("01-02-2025", dt.date(2025, 2, 1)),
        ("1/2/25", dt.date(2025, 2, 1)),
        ("1-Feb-2025", dt.date(2025, 2, 1)),
        ("01 Feb 2025", dt.date(2025, 2, 1)),
        ("1. Februar 2025", dt.date(2025, 2, 1)),
        ("28 February 2025", dt.date(2025, 2, 28)),
        ("Feb 1, 2025", dt.date(2025, 2, 1)),
    ],
)
def test_date_is_read(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["31/02/2025", "abc", "2025-13-01", 12, "Foo 1, 2025"])
def test_impossible_date_is_reported(raw):
    assert parse_date(raw) == Bad("not a date")


def test_month_first_order_reads_us_dates():
    assert parse_date("01/31/2025", "mdy") == dt.date(2025, 1, 31)
    assert parse_date("02/01/2025", "mdy") == dt.date(2025, 2, 1)
    assert date_order_hint("01/31/2025") == "mdy"
    assert date_order_hint("31/01/2025") == "dmy"
    assert date_order_hint("01/02/2025") is None


@pytest.mark.parametrize(
    "raw, expected",
    [("eur", "EUR"), (" USD ", "USD"), ("€", "EUR"), (None, None), ("", None)],
)
def test_currency_code(raw, expected):
    assert parse_currency(raw) == expected


def test_bad_currency_code():
    assert parse_currency("Euro") == Bad("not a currency code")


@pytest.mark.parametrize(
    "raw, text",
    [
        (12345.0, "12345"),
        (4.5, "4.5"),
        (dt.datetime(2025, 1, 1), "2025-01-01"),
        ("  x ", "x"),
        ("\u200b x\u200bx\u2060 \ufeff", "x\u200bx"),
        ("\ufeff \u2060\u00a0\u200b", None),
        (None, None),
        (True, "TRUE"),
    ],
)
def test_cell_text(raw, text):
    assert cell_text(raw) == text


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("9e999999", "number out of range"),
        ("1e999999999", "number out of range"),
        ("1e99999999999999999999", "number out of range"),
        ("1" * 50, "number out of range"),
        ("1000000000000000", "number out of range"),
        ("-1.5E+15", "number out of range"),
        ("€ 1.000.000.000.000.000,00", "number out of range"),
        (1e308, "number out of range"),
        (float("inf"), "number out of range"),
        (10**30, "number out of range"),
        ("0.000000000000000000001", "too many decimals"),
        ("1e-25", "too many decimals"),
        (1e-300, "too many decimals"),
    ],
)
def test_absurd_amounts_are_bad_without_expanding(raw, reason):
    assert parse_amount(raw) == Bad(reason)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("999999999999999", "999999999999999"),
        ("0.12345678901234567890", "0.12345678901234567890"),
        ("1.000000000000000000000000000", "1.00000000000000000000"),
        ("0e-999999", "0E-20"),
        (0.30000000000000004, "0.30000000000000004"),
        ("2.5e3", "2500"),
    ],
)
def test_amounts_within_bounds_are_exact(raw, expected):
    assert str(parse_amount(raw)[0]) == expected


def test_bounded_amounts_multiply_and_add_exactly():
    big = parse_amount("999999999999999.99999999999999999999")[0]
    product = EXACT.multiply(big, big)
    exact = "999999999999999999999999999999.9999800000000000000000000000000000000001"
    assert str(product) == exact
    assert big * big != product  # Python's default context rounds to 28 digits
    total = Decimal(0)
    for _ in range(1000):
        total = EXACT.add(total, product)
    assert total == EXACT.multiply(product, Decimal(1000))


@pytest.mark.parametrize(
    "raw",
    ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", " #n/a "],
)
def test_excel_errors_are_named(raw):
    assert excel_error(raw) == raw.strip().upper()
    assert parse_amount(raw) == Bad("cell holds an Excel error")
    assert parse_date(raw) == Bad("cell holds an Excel error")
    assert parse_currency(raw) == Bad("cell holds an Excel error")
    assert parse_text(raw) == Bad("cell holds an Excel error")


@pytest.mark.parametrize("raw", ["#1", "N/A", "#N/A more", None, 5, "# REF!"])
def test_other_values_are_no_excel_errors(raw):
    assert excel_error(raw) is None


def test_currency_codes_are_iso_4217():
    assert parse_currency("chf") == "CHF"
    assert parse_currency("XOF") == "XOF"
    assert parse_currency("XYZ") == Bad("unknown currency code")
    assert parse_currency("Euro") == Bad("not a currency code")
    assert {"BRL", "INR", "XAF", "ZWG", "HRK"} <= CURRENCY_CODES
    assert "XXX" not in CURRENCY_CODES and "XTS" not in CURRENCY_CODES
    assert len(CURRENCY_CODES) > 170


def test_billing_dates_out_of_range():
    latest = latest_date(dt.date(2025, 6, 15))
    assert latest == dt.date(2027, 6, 15)
    assert latest_date(dt.date(2024, 2, 29)) == dt.date(2026, 2, 28)
    assert check_date_range(dt.date(2025, 1, 1), latest) == dt.date(2025, 1, 1)
    for far in (dt.date(1999, 12, 31), dt.date(2027, 6, 16), dt.date(1900, 1, 1)):
        bad = check_date_range(far, latest)
        assert bad.reason == "date out of range (2000-01-01 to 2027-06-15)"
    assert check_date_range(Bad("not a date"), latest) == Bad("not a date")
    assert check_date_range(None, latest) is None
