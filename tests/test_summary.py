"""summarize(): counts, periods, currencies and totals of a read file."""

import datetime as dt
import json
from decimal import Decimal

from conftest import HEADER, sophos_rows

from sophos_ppu.core import read_consumption_file, summarize
from sophos_ppu.core.values import EXACT


def test_totals_per_end_user_and_overall(fmt, write_file):
    summary = summarize(read_consumption_file(write_file(fmt, sophos_rows())))

    assert (summary.rows_read, summary.valid_rows, summary.rows_with_issues) == (
        4,
        4,
        0,
    )
    assert summary.periods == [(dt.date(2025, 1, 1), dt.date(2025, 1, 31))]
    assert summary.months == ["2025-01"]
    assert summary.currencies == ["EUR"]
    mueller = summary.end_user("1b2c3d4e-0001")
    assert mueller.end_customer_name == "Müller Bau AG"
    assert mueller.rows == 2
    assert mueller.quantity == Decimal("27")
    assert mueller.msrp_amount == Decimal("136.5")  # 25 x 4.5 + 2 x 12
    assert mueller.cost_amount == Decimal("109.2")  # 25 x 3.6 + 2 x 9.6
    weber = summary.end_user("5a5a5a5a-0003")
    assert (weber.msrp_amount, weber.cost_amount) == (Decimal("0.3"), Decimal("0.21"))
    total = summary.totals_for("EUR")
    assert total.rows == 4
    assert total.quantity == Decimal("40")
    assert total.msrp_amount == Decimal("181.8")  # 136.5 + 45 + 0.3
    assert total.cost_amount == Decimal("145.41")  # 109.2 + 36 + 0.21
    assert summary.totals_for() is total


def test_currencies_are_never_added_together(write_file):
    header = [*HEADER, "Currency"]
    jan1, jan31 = dt.date(2025, 1, 1), dt.date(2025, 1, 31)
    rows = [
        header,
        ["EU-1", jan1, jan31, "Intercept X", 10, 4.5, 3.6, "EUR"],
        ["US-1", jan1, jan31, "Intercept X", 10, 5.0, 4.0, "USD"],
        ["US-1", jan1, jan31, "Server", 1, 12.0, 10.0, "USD"],
    ]
    summary = summarize(read_consumption_file(write_file("csv", rows)))

    assert summary.currencies == ["EUR", "USD"]
    assert [(t.currency, t.msrp_amount) for t in summary.totals] == [
        ("EUR", Decimal("45.0")),
        ("USD", Decimal("62.0")),
    ]
    assert summary.end_user("US-1").cost_amount == Decimal("50.0")
    assert summary.total_quantity == Decimal("21")


def test_counts_issues_skipped_and_repeated_consumption(write_file):
    jan1, jan31 = dt.date(2025, 1, 1), dt.date(2025, 1, 31)
    rows = [
        HEADER,
        ["EU-1", jan1, jan31, "Intercept X", 10, 4.5, 3.6],  # 2
        ["EU-1", jan1, jan31, "Intercept X", 10, "x", "y"],  # 3: two issues
        [],  # 4
        ["EU-1", jan1, jan31, "Intercept X", 10, 4.5, 3.6],  # 5: repeats 2
        ["EU-2", dt.date(2025, 2, 1), dt.date(2025, 2, 28), "Server", 1, 12, 9],
    ]
    summary = summarize(read_consumption_file(write_file("xlsx", rows)))

    assert summary.rows_read == 4
    assert summary.valid_rows == 3
    assert summary.rows_with_issues == 1
    assert summary.skipped == 1
    assert len(summary.issues) == 2
    assert summary.duplicates == [(5, 2)]
    assert summary.months == ["2025-01", "2025-02"]
    assert summary.periods[1] == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))


def test_to_dict_is_json_with_decimals_as_strings(write_file):
    summary = summarize(read_consumption_file(write_file("xls", sophos_rows())))

    data = json.loads(json.dumps(summary.to_dict()))

    assert data["rows_read"] == 4
    assert data["periods"] == [{"start": "2025-01-01", "end": "2025-01-31"}]
    assert data["totals"] == [
        {
            "currency": "EUR",
            "rows": 4,
            "quantity": "40",
            "msrp_amount": "181.8",
            "cost_amount": "145.41",
        }
    ]
    assert data["end_users"][0]["end_user_identifier"] == "1b2c3d4e-0001"
    assert data["end_users"][0]["msrp_amount"] == "136.5"
    assert data["issues"] == []


def test_repeated_consumption_is_found_as_the_addon_bills_it(write_file):
    """'eu-1 ' and 'EU-1' are one end user for billing: the checker says so."""
    jan1, jan31 = dt.date(2025, 1, 1), dt.date(2025, 1, 31)
    rows = [
        HEADER,
        ["EU-1", jan1, jan31, "Intercept X", 10, 4.5, 3.6],  # 2
        ["eu-1 ", jan1, jan31, "intercept  x", 10, 4.5, 3.6],  # 3: repeats 2
        ["EU-1", jan1, dt.date(2025, 1, 15), "Intercept X", 5, 4.5, 3.6],  # 4
    ]
    summary = summarize(read_consumption_file(write_file("csv", rows)))

    assert summary.duplicates == [(3, 2)]


def test_a_correction_is_not_the_consumption_it_corrects(write_file):
    """A negative row with the same end user, service and dates is a Sophos
    correction: billed beside the consumption, not a duplicate of it."""
    jan1, jan31 = dt.date(2025, 1, 1), dt.date(2025, 1, 31)
    rows = [
        HEADER,
        ["EU-1", jan1, jan31, "Intercept X", 10, 4.5, 3.6],  # 2
        ["EU-1", jan1, jan31, "Intercept X", -3, 4.5, 3.6],  # 3: correction
        ["EU-1", jan1, jan31, "Intercept X", -3, 4.5, 3.6],  # 4: repeats 3
    ]
    summary = summarize(read_consumption_file(write_file("csv", rows)))

    assert summary.duplicates == [(4, 3)]
    assert summary.repeats == [(4, 3)]
    assert summary.totals_for().quantity == 4


def test_exact_repeats_are_reported_apart_from_same_consumption(write_file):
    jan1, jan31 = dt.date(2025, 1, 1), dt.date(2025, 1, 31)
    rows = [
        HEADER,
        ["EU-1", jan1, jan31, "Intercept X", 10, 4.5, 3.6],  # 2
        ["EU-1", jan1, jan31, "Intercept X", 10, 4.5, 3.6],  # 3: repeats 2
        ["EU-1", jan1, jan31, "Intercept X", 12, 4.5, 3.6],  # 4: same consumption
    ]
    summary = summarize(read_consumption_file(write_file("csv", rows)))

    assert summary.repeats == [(3, 2)]
    assert summary.duplicates == [(3, 2), (4, 2)]
    assert summary.valid_rows == 3  # repeats stay rows: ops confirm them
    data = summary.to_dict()
    assert data["repeats"] == [{"row_number": 3, "repeats_row": 2}]


def test_totals_of_extreme_amounts_are_exact_and_never_overflow(write_file):
    big = "999999999999999.99999999999999999999"
    rows = [HEADER] + [
        [f"EU-{n}", "2025-01-01", "2025-01-31", "X", big, big, big] for n in range(50)
    ]
    summary = summarize(read_consumption_file(write_file("csv", rows)))

    totals = summary.totals_for()
    assert totals.rows == 50
    amount = EXACT.multiply(Decimal(big), Decimal(big))
    assert totals.msrp_amount == EXACT.multiply(amount, Decimal(50))
    assert totals.quantity == EXACT.multiply(Decimal(big), Decimal(50))
    assert str(totals.quantity) == "49999999999999999.99999999999999999950"
    assert summary.total_quantity == totals.quantity
