# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The core's checks of consumption rows: the issue ladder, matching,
duplicates and learning End User Identifiers, on plain values."""

from datetime import date

import pytest

from sophos_ppu.core.billing import consumption_key
from sophos_ppu.core.checking import (
    ALREADY_BILLED,
    AMBIGUOUS,
    CLAIMED_IDENTIFIER,
    CLOSED_SUBSCRIPTION,
    CORRECTS_UNBILLED,
    CREDITS_BILLED,
    IDENTIFIER_ELSEWHERE,
    NO_RULE,
    NO_SUBSCRIPTION,
    OTHER_IDENTIFIER,
    OTHER_RESELLER,
    OUTSIDE_PERIOD,
    REPEATS_ROW,
    SAME_CONSUMPTION,
    SEVERAL_IDENTIFIERS,
    UNREADABLE,
    ZERO_QUANTITY,
    Billed,
    Checker,
    Issue,
    SubscriptionFacts,
    decide_identifiers,
    duplicate_keys,
    mark_duplicates,
)

OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))
ACME = SubscriptionFacts(1, "EU-1", "Acme Corp", reseller_id=10, pricelist_id=100)
BETA = SubscriptionFacts(2, None, "Beta GmbH", reseller_id=10, pricelist_id=100)
GAMMA = SubscriptionFacts(3, "EU-3", "Gamma", reseller_id=20, pricelist_id=200)


def row(identifier="EU-1", number=2, quantity=1.0, **values):
    values = {
        "row_number": number,
        "end_user_identifier": identifier,
        "end_customer_name": None,
        "product_description": "Intercept X",
        "start_date": date(2026, 10, 1),
        "end_date": date(2026, 10, 31),
        "quantity": quantity,
        "unit_msrp": 5.0,
        "unit_cost": 3.2,
        **values,
    }
    values.setdefault(
        "consumption_key",
        consumption_key(
            values["end_user_identifier"],
            values["product_description"],
            values["start_date"],
            values["end_date"],
            values["quantity"],
        ),
    )
    return values


def discount_10(subscription, row):
    """A pricelist 100 with a 10 % rule; pricelist 200 without a rule."""
    if subscription.pricelist_id == 100:
        return round(row["unit_msrp"] * 0.9, 2), 7
    return 0.0, False


def checker(subscriptions=(ACME, BETA, GAMMA), **kwargs):
    kwargs.setdefault("price_of", discount_10)
    return Checker(
        subscriptions, period_start=OCTOBER[0], period_end=OCTOBER[1], **kwargs
    )


def check(rows, billed=None, earlier=None, **kwargs):
    checks = checker(**kwargs).check(rows)
    return mark_duplicates(rows, checks, billed=billed, earlier=earlier)


# ----------------------------------------------------------------------
# The ladder
# ----------------------------------------------------------------------


def test_a_row_of_a_known_identifier_is_priced():
    [result] = checker().check([row("EU-1", quantity=3)])
    assert result.state == "ok"
    assert result.issue is None
    assert result.subscription == ACME
    assert result.match_method == "identifier"
    assert (result.price_unit, result.rule_id) == (4.5, 7)


def test_an_unreadable_row_says_why_and_matches_nothing():
    unreadable = row("EU-1", parse_error=True, message="Row 2: Unit MSRP missing.")
    [result] = checker().check([unreadable])
    assert result.state == "error"
    assert result.issue == Issue(UNREADABLE, {"message": "Row 2: Unit MSRP missing."})
    assert result.subscription is None


def test_a_row_matching_nothing_names_identifier_and_customer():
    [result] = checker().check([row("NOPE", end_customer_name="Nobody Inc")])
    assert result.issue == Issue(
        NO_SUBSCRIPTION, {"identifier": "NOPE", "customer": "Nobody Inc"}
    )
    assert result.subscription is None


def test_a_row_matching_several_subscriptions_lists_them():
    twin = SubscriptionFacts(4, " eu-1 ", "Twin", reseller_id=10)
    [result] = checker((ACME, twin)).check([row("EU-1")])
    assert result.state == "error"
    assert result.issue == Issue(AMBIGUOUS, {"subscription_ids": (1, 4)})


def test_the_file_naming_another_reseller_is_an_error():
    [result] = checker(reseller_named=lambda row: 20).check([row("EU-1")])
    assert result.state == "error"
    assert result.issue == Issue(
        OTHER_RESELLER, {"reseller_id": 20, "identifier": "EU-1"}
    )
    assert result.subscription == ACME  # shown on the row


def test_the_file_naming_the_subscriptions_reseller_or_none_is_fine():
    for named in (10, None):
        [result] = checker(reseller_named=lambda row, n=named: n).check([row()])
        assert result.state == "ok"


def test_service_dates_outside_the_billing_month_are_an_error():
    september = row(start_date=date(2026, 9, 1), end_date=date(2026, 9, 30))
    [result] = checker().check([september])
    assert result.issue == Issue(
        OUTSIDE_PERIOD, {"start": date(2026, 9, 1), "end": date(2026, 9, 30)}
    )
    late = row(start_date=date(2026, 10, 1), end_date=date(2026, 11, 1))
    assert checker().check([late])[0].issue.code == OUTSIDE_PERIOD


def test_a_correction_may_credit_an_earlier_month():
    correction = row(
        quantity=-3.0, start_date=date(2026, 9, 1), end_date=date(2026, 9, 30)
    )
    [result] = checker().check([correction])
    assert result.state == "ok"
    assert result.price_unit == 4.5


def test_a_correction_never_bills_a_later_month():
    correction = row(
        quantity=-3.0, start_date=date(2026, 11, 1), end_date=date(2026, 11, 30)
    )
    assert checker().check([correction])[0].issue.code == OUTSIDE_PERIOD


def test_a_closed_subscription_is_an_error():
    closed = SubscriptionFacts(1, "EU-1", "Acme Corp", state="closed", reseller_id=10)
    [result] = checker((closed,)).check([row("EU-1")])
    assert result.issue == Issue(CLOSED_SUBSCRIPTION, {"subscription_id": 1})


def test_a_pricelist_without_rule_is_an_error_never_a_price():
    [result] = checker().check([row("EU-3")])
    assert result.state == "error"
    assert result.issue == Issue(NO_RULE, {"subscription_id": 3})
    assert (result.price_unit, result.rule_id) == (0.0, None)
    assert result.subscription == GAMMA


def test_zero_quantity_is_ok_with_a_note():
    [result] = checker().check([row(quantity=0.0)])
    assert result.state == "ok"
    assert result.issue == Issue(ZERO_QUANTITY)


def test_rungs_come_in_order():
    """Outside the month, closed and without rule: the dates are said."""
    closed = SubscriptionFacts(3, "EU-3", "Gamma", state="closed", pricelist_id=200)
    september = row("EU-3", start_date=date(2026, 9, 1), end_date=date(2026, 9, 30))
    results = checker((closed,), reseller_named=lambda row: None).check(
        [september, row("EU-3")]
    )
    assert [r.issue.code for r in results] == [OUTSIDE_PERIOD, CLOSED_SUBSCRIPTION]
    # The reseller comes before the dates.
    [result] = checker((closed,), reseller_named=lambda row: 99).check([september])
    assert result.issue.code == OTHER_RESELLER


def test_rows_are_priced_through_the_pricer_only_when_they_get_there():
    calls = []

    def price_of(subscription, row):
        calls.append(row["row_number"])
        return 1.0, 1

    checker(price_of=price_of).check(
        [row("NOPE", number=2), row("EU-1", number=3), row("EU-1", number=4)]
    )
    assert calls == [3, 4]


# ----------------------------------------------------------------------
# Matching
# ----------------------------------------------------------------------


def test_identifiers_match_case_and_space_insensitively():
    [result] = checker().check([row("  eu-1 ")])
    assert result.subscription == ACME


def test_an_unknown_identifier_matches_by_name_among_subscriptions_without_one():
    [result] = checker().check([row("NEW-9", end_customer_name=" beta  GMBH ")])
    assert (result.subscription, result.match_method) == (BETA, "name")
    # Acme has an identifier: its rows are never matched by its name, and
    # the reason says that Acme is known under another identifier.
    [result] = checker().check([row("NEW-9", end_customer_name="Acme Corp")])
    assert (result.subscription, result.issue.code) == (None, OTHER_IDENTIFIER)


def test_a_row_without_identifier_matches_by_name():
    [result] = checker().check([row(None, end_customer_name="Beta GmbH")])
    assert (result.subscription, result.match_method) == (BETA, "name")


def test_an_empty_name_matches_nothing():
    nameless = SubscriptionFacts(5, None, None)
    [result] = checker((nameless,)).check([row(None, end_customer_name="")])
    assert result.issue == Issue(
        NO_SUBSCRIPTION, {"identifier": None, "customer": None}
    )


def test_active_subscriptions_are_preferred_to_closed_ones():
    closed = SubscriptionFacts(6, "EU-1", "Acme old", state="closed", reseller_id=10)
    [result] = checker((closed, ACME)).check([row("EU-1")])
    assert result.subscription == ACME
    # Only closed ones: the row says the subscription is closed.
    other = SubscriptionFacts(7, "EU-1", "Acme older", state="closed")
    [result] = checker((closed, other)).check([row("EU-1")])
    assert result.issue == Issue(AMBIGUOUS, {"subscription_ids": (6, 7)})
    [result] = checker((closed,)).check([row("EU-1")])
    assert result.issue.code == CLOSED_SUBSCRIPTION


def test_a_subscription_picked_by_hand_is_kept():
    hand = row("NOPE", match_method="manual", subscription_id=2)
    [result] = checker(manual=(BETA,)).check([hand])
    assert (result.state, result.subscription, result.match_method) == (
        "ok",
        BETA,
        "manual",
    )


def test_a_subscription_picked_by_hand_skips_the_file_reseller_check():
    hand = row("EU-3", match_method="manual", subscription_id=1)
    [result] = checker(manual=(ACME,), reseller_named=lambda row: 20).check([hand])
    assert result.state == "ok"


def test_a_hand_match_to_a_subscription_gone_matches_again():
    hand = row("EU-1", match_method="manual", subscription_id=99)
    [result] = checker().check([hand])
    assert (result.subscription, result.match_method) == (ACME, "identifier")


# ----------------------------------------------------------------------
# Duplicates
# ----------------------------------------------------------------------


def test_a_consumption_billed_already_is_a_duplicate_keeping_its_price():
    first = row("EU-1")
    [result] = check([first], billed={first["consumption_key"]: 41})
    assert result.state == "duplicate"
    assert result.issue == Issue(ALREADY_BILLED, {"batch_id": 41})
    assert result.billed_by == 41
    assert (result.subscription, result.price_unit) == (ACME, 4.5)


def test_the_same_consumption_twice_in_a_file():
    rows = [row("EU-1", number=2), row("eu-1 ", number=3)]
    results = check(rows)
    assert [r.state for r in results] == ["ok", "duplicate"]
    assert results[1].issue == Issue(SAME_CONSUMPTION, {"row": 2})
    assert results[1].billed_by is None


def test_an_exact_repeat_waits_for_ops():
    rows = [row("EU-1", number=2), row("EU-1", number=3, repeat_of_row=2)]
    results = check(rows)
    assert results[1].issue == Issue(REPEATS_ROW, {"row": 2})


def test_billed_comes_before_repeated():
    rows = [row("EU-1", number=2), row("EU-1", number=3)]
    results = check(rows, billed={rows[0]["consumption_key"]: 41})
    assert [r.issue.code for r in results] == [ALREADY_BILLED, ALREADY_BILLED]


def test_only_rows_checked_ok_repeat_or_are_repeated():
    september = row(number=2, start_date=date(2026, 9, 1))
    rows = [
        row("NOPE", number=2, consumption_key="k"),
        row("EU-1", number=3, consumption_key="k"),
        row("EU-1", number=4, consumption_key="k"),
    ]
    results = check(rows)
    assert [r.state for r in results] == ["error", "ok", "duplicate"]
    assert results[2].issue == Issue(SAME_CONSUMPTION, {"row": 3})
    assert check([september], billed={september["consumption_key"]: 1})[
        0
    ].issue.code == (OUTSIDE_PERIOD)
    assert duplicate_keys(rows, checker().check(rows)) == {"k"}


def test_a_correction_is_no_duplicate_of_its_consumption():
    rows = [row("EU-1", number=2, quantity=10.0), row("EU-1", number=3, quantity=-3.0)]
    assert [r.state for r in check(rows)] == ["ok", "ok"]


def test_chunks_give_the_results_of_one_pass():
    rows = [
        row("EU-1", number=2),
        row("NOPE", number=3),
        row("EU-1", number=4, repeat_of_row=2),
        row("EU-1", number=5, product_description="Other"),
        row("EU-1", number=6, product_description="Other"),
        row("EU-1", number=7),
    ]
    whole = check(rows)
    # Chunk by chunk: each chunk knows the first row of each key checked ok
    # in the chunks before it, as the stored lines tell.
    chunked, earlier = [], {}
    for start in range(0, len(rows), 2):
        chunk = rows[start : start + 2]
        results = check(chunk, earlier=earlier)
        for one, result in zip(chunk, results, strict=True):
            if result.state == "ok":
                earlier.setdefault(one["consumption_key"], one["row_number"])
        chunked += results
    assert chunked == whole
    assert [r.state for r in whole] == [
        "ok",
        "error",
        "duplicate",
        "ok",
        "duplicate",
        "duplicate",
    ]
    assert [r.issue.params.get("row") for r in whole[4:]] == [5, 2]


# ----------------------------------------------------------------------
# Learning identifiers
# ----------------------------------------------------------------------

DELTA = SubscriptionFacts(8, None, "Delta", reseller_id=10)


def test_one_identifier_met_by_name_is_recorded():
    decision = decide_identifiers(
        [(BETA, " NEW-1 ", "name"), (BETA, "new-1", "name"), (BETA, None, "name")]
    )
    assert decision.record == {2: "NEW-1"}
    assert decision.refused == {}


def test_an_identifier_set_by_hand_is_recorded():
    decision = decide_identifiers([(BETA, "NEW-1", "manual")])
    assert decision.record == {2: "NEW-1"}


def test_rows_matched_by_identifier_or_subscriptions_with_one_teach_nothing():
    decision = decide_identifiers([(BETA, "NEW-1", "identifier"), (ACME, "X", "name")])
    assert decision == decide_identifiers([])


def test_a_name_met_with_several_identifiers_is_left_to_ops():
    decision = decide_identifiers(
        [(BETA, "NEW-1", "name"), (BETA, "NEW-2", "name"), (DELTA, "NEW-3", "name")]
    )
    assert decision.record == {8: "NEW-3"}
    issue = Issue(SEVERAL_IDENTIFIERS, {"subscription_id": 2, "customer": "Beta GmbH"})
    assert decision.issue_for(2, "name") == issue
    # Rows matched by hand keep their match.
    assert decision.issue_for(2, "manual") is None
    assert decision.issue_for(8, "name") is None


def test_an_identifier_of_another_resellers_subscription_is_refused():
    decision = decide_identifiers(
        [(BETA, "EU-3", "name"), (DELTA, "NEW-4", "manual")],
        held_elsewhere=lambda subscription, identifier: identifier == "EU-3",
    )
    assert decision.record == {8: "NEW-4"}
    issue = Issue(IDENTIFIER_ELSEWHERE, {"identifier": "EU-3"})
    assert decision.issue_for(2, "name") == issue
    assert decision.issue_for(2, "manual") == issue


def test_two_resellers_learning_one_identifier_the_first_gets_it():
    other = SubscriptionFacts(9, None, "Beta GmbH", reseller_id=20)
    same_reseller = SubscriptionFacts(11, None, "Beta Branch", reseller_id=10)
    decision = decide_identifiers(
        [
            (BETA, "NEW-1", "name"),
            (other, "new-1", "name"),
            (same_reseller, "NEW-1", "name"),
        ]
    )
    assert decision.record == {2: "NEW-1", 11: "NEW-1"}
    assert decision.issue_for(9, "name").code == IDENTIFIER_ELSEWHERE


def test_a_closed_subscription_learning_an_identifier_holds_it_for_nobody():
    closed = SubscriptionFacts(12, None, "Beta", state="closed", reseller_id=10)
    other = SubscriptionFacts(9, None, "Beta GmbH", reseller_id=20)
    decision = decide_identifiers([(closed, "NEW-1", "name"), (other, "NEW-1", "name")])
    assert decision.record == {12: "NEW-1", 9: "NEW-1"}


@pytest.mark.parametrize("method", ["name", "manual"])
def test_held_elsewhere_is_asked_with_the_identifier_as_met(method):
    asked = []
    decide_identifiers(
        [(BETA, "  NEW-1 ", method)],
        held_elsewhere=lambda subscription, identifier: asked.append(
            (subscription.id, identifier)
        ),
    )
    assert asked == [(2, "NEW-1")]


def test_the_core_exports_the_checks():
    import sophos_ppu.core as core

    assert core.Checker is Checker
    assert core.SubscriptionFacts is SubscriptionFacts
    assert core.decide_identifiers is decide_identifiers
    assert core.mark_duplicates is mark_duplicates


# ----------------------------------------------------------------------
# Corrections credit what was billed
# ----------------------------------------------------------------------

SEPTEMBER_ROW = {"start_date": date(2026, 9, 1), "end_date": date(2026, 9, 30)}
BILLED_IN_SEPTEMBER = Billed(row_id=41, price_unit=5.03, currency_id=2, reseller_id=10)


def test_a_correction_of_a_billed_consumption_is_credited_as_it_was_billed():
    billed_of = {"eu-1": BILLED_IN_SEPTEMBER}.get
    [result] = check(
        [row(quantity=-3, **SEPTEMBER_ROW)],
        billed_of=lambda row: billed_of(row["end_user_identifier"].lower()),
    )
    assert result.state == "ok"
    assert result.issue == Issue(CREDITS_BILLED, {"row_id": 41})
    assert (result.price_unit, result.credits) == (5.03, BILLED_IN_SEPTEMBER)


def test_a_billed_consumption_is_credited_even_once_its_subscription_closed():
    closed = SubscriptionFacts(1, "EU-1", "Acme", state="closed", pricelist_id=200)
    [result] = check(
        [row(quantity=-3, **SEPTEMBER_ROW)],
        subscriptions=[closed],
        billed_of=lambda row: BILLED_IN_SEPTEMBER,
    )
    assert (result.state, result.price_unit) == ("ok", 5.03)


def test_a_correction_with_nothing_billed_behind_it_is_priced_by_todays_rule():
    [result] = check([row(quantity=-3, **SEPTEMBER_ROW)], billed_of=lambda row: None)
    assert result.state == "ok"
    assert result.issue == Issue(CORRECTS_UNBILLED)
    assert (result.price_unit, result.credits) == (4.5, None)


def test_consumption_never_looks_for_a_billing_to_credit():
    asked = []
    [result] = check([row(quantity=3)], billed_of=asked.append)
    assert (result.state, result.issue, asked) == ("ok", None, [])


# ----------------------------------------------------------------------
# An identifier claimed before its owner's subscription recorded it
# ----------------------------------------------------------------------

FLORIST = SubscriptionFacts(4, None, "Alpha Florist", reseller_id=20, pricelist_id=100)
CLAIMED = SubscriptionFacts(5, "EU-A-2", "Beta Shop", reseller_id=10, pricelist_id=100)


def test_an_identifier_claimed_for_another_resellers_customer_is_held():
    [result] = check(
        [row("EU-A-2", end_customer_name="Alpha Florist")],
        subscriptions=[FLORIST, CLAIMED],
    )
    assert result.state == "error"
    assert result.issue == Issue(
        CLAIMED_IDENTIFIER, {"identifier": "EU-A-2", "subscription_id": 4}
    )
    assert result.subscription == CLAIMED


def test_the_file_naming_the_identifiers_reseller_settles_it():
    [result] = check(
        [row("EU-A-2", end_customer_name="Alpha Florist")],
        subscriptions=[FLORIST, CLAIMED],
        reseller_named=lambda row: 10,
    )
    assert (result.state, result.issue) == ("ok", None)


def test_the_same_resellers_customer_of_that_name_is_no_claim():
    own = SubscriptionFacts(6, None, "Alpha Florist", reseller_id=10, pricelist_id=100)
    [result] = check(
        [row("EU-A-2", end_customer_name="alpha  FLORIST")],
        subscriptions=[own, CLAIMED],
    )
    assert (result.state, result.subscription) == ("ok", CLAIMED)


def test_identifiers_compare_with_unicode_case_folding():
    strasse = SubscriptionFacts(
        7, "Straße-9", "Gamma", reseller_id=10, pricelist_id=100
    )
    [result] = check([row("STRASSE-9")], subscriptions=[strasse])
    assert (result.state, result.subscription) == ("ok", strasse)


def test_an_end_customer_known_under_another_identifier_is_named_so():
    [result] = check([row("EU-9", end_customer_name="ACME corp")])
    assert result.state == "error"
    assert result.issue == Issue(
        OTHER_IDENTIFIER, {"identifier": "EU-9", "subscription_ids": (1,)}
    )


def test_an_end_customer_nobody_knows_has_no_subscription():
    [result] = check([row("EU-9", end_customer_name="Zeta")])
    assert result.issue.code == NO_SUBSCRIPTION
