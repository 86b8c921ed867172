"""Header matching: names, aliases, API field names, currency in headers."""

import pytest
from conftest import SOPHOS_HEADER

from sophos_ppu.core.columns import HeaderMatch, choose_profile, column_letter
from sophos_ppu.core.profiles import PARTNER_API, PROFILES, SOPHOS

#: The Partner API reads every alias of every profile.
match_header = PARTNER_API.match


@pytest.mark.parametrize(
    "header, field",
    [
        ("End User Identifier", "end_user_identifier"),
        ("end_user_identifier", "end_user_identifier"),
        ("  END USER IDENTIFIER: ", "end_user_identifier"),
        ("End-User Identifier", "end_user_identifier"),
        ("endUserId", "end_user_identifier"),
        ("customerId", "end_user_identifier"),
        ("startDate", "start_date"),
        ("Usage Start Date", "start_date"),
        ("endDate", "end_date"),
        ("productDescription", "product_description"),
        ("productName", "product_description"),
        ("Total Quantity", "quantity"),
        ("totalQuantity", "quantity"),
        ("quantity", "quantity"),
        ("Unit MSRP", "unit_msrp"),
        ("Unit Price", "unit_cost"),
        ("End User Name", "end_customer_name"),
        ("Customer Name", "end_customer_name"),
        ("End Customer", "end_customer_name"),
        ("Product Code", "sku"),
        ("Part Number", "sku"),
        ("productCode", "sku"),
        ("Currency Code", "file_currency"),
        ("Reseller Name", "file_partner_name"),
        ("partnerId", "file_partner_ref"),
        ("Reseller ID", "file_partner_ref"),
    ],
)
def test_header_is_matched_whatever_its_spelling(header, field):
    assert match_header(header).field == field


@pytest.mark.parametrize(
    "header, field, currency",
    [
        ("unitPrice.EUR", "unit_cost", "EUR"),
        ("unitPrice_EUR", "unit_cost", "EUR"),
        ("unitPrice EUR", "unit_cost", "EUR"),
        ("Unit Price (EUR)", "unit_cost", "EUR"),
        ("Unit Price in EUR", "unit_cost", "EUR"),
        ("Unit Price (€)", "unit_cost", "EUR"),
        ("EUR Unit Price", "unit_cost", "EUR"),
        ("unitMsrp.USD", "unit_msrp", "USD"),
        ("msrpUSD", "unit_msrp", "USD"),
        ("MSRP (GBP)", "unit_msrp", "GBP"),
        ("Unit MSRP", "unit_msrp", None),
    ],
)
def test_price_header_carries_its_currency(header, field, currency):
    match = match_header(header)
    assert (match.field, match.currency) == (field, currency)


@pytest.mark.parametrize(
    "header", ["Total Price", "Country", "Discount", "", None, "Region EUR"]
)
def test_unrelated_header_matches_nothing(header):
    assert match_header(header) is None


def test_best_alias_ranks_first():
    total = match_header("Total Quantity")
    billable = match_header("Billable Quantity")
    assert isinstance(total, HeaderMatch)
    assert total.rank < billable.rank


@pytest.mark.parametrize(
    "index, letter", [(0, "A"), (7, "H"), (21, "V"), (25, "Z"), (26, "AA")]
)
def test_column_letter(index, letter):
    assert column_letter(index) == letter


#: A Partner API export: its own names for the end user and the prices.
API_HEADER = (
    "partnerId customerId customerName startDate endDate productCode "
    "productDescription quantity unitMsrp.amount unitPrice.amount unitPrice.currency"
).split()


@pytest.mark.parametrize(
    "header, profile", [(SOPHOS_HEADER, SOPHOS), (API_HEADER, PARTNER_API)]
)
def test_each_profile_is_chosen_for_its_own_header(header, profile):
    assert choose_profile(header) is profile


def test_profiles_tie_to_the_first_and_the_api_reads_the_workbook():
    assert choose_profile(["End User Identifier", "Start Date"]) is SOPHOS
    assert PROFILES[0] is SOPHOS
    for text in SOPHOS_HEADER:
        assert PARTNER_API.match(text) == SOPHOS.match(text)
    assert SOPHOS.match("customerId") is None
    assert SOPHOS.match("unitPrice.amount") is None
    assert [c.label for c in PARTNER_API.required] == [c.label for c in SOPHOS.required]
