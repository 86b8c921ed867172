"""Header matching: names, aliases, API field names, currency in headers."""

import pytest

from sophos_ppu.core.columns import HeaderMatch, column_letter, match_header


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
        ("Unit Price", "unit_price"),
        ("End User Name", "end_customer_name"),
        ("Customer Name", "end_customer_name"),
        ("End Customer", "end_customer_name"),
        ("Product Code", "sku"),
        ("Part Number", "sku"),
        ("productCode", "sku"),
        ("Currency Code", "currency"),
        ("Reseller Name", "partner_name"),
        ("partnerId", "partner_identifier"),
        ("Reseller ID", "partner_identifier"),
    ],
)
def test_header_is_matched_whatever_its_spelling(header, field):
    assert match_header(header).field == field


@pytest.mark.parametrize(
    "header, field, currency",
    [
        ("unitPrice.EUR", "unit_price", "EUR"),
        ("unitPrice_EUR", "unit_price", "EUR"),
        ("unitPrice EUR", "unit_price", "EUR"),
        ("Unit Price (EUR)", "unit_price", "EUR"),
        ("Unit Price in EUR", "unit_price", "EUR"),
        ("Unit Price (€)", "unit_price", "EUR"),
        ("EUR Unit Price", "unit_price", "EUR"),
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
