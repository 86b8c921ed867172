"""Which column holds what: header aliases and header row detection.

Columns are found by header text, never by position. A header is reduced to
its lower-case letters and digits ("End User Identifier", "end_user_id",
"endUserIdentifier" and "END USER IDENTIFIER:" all become
``enduseridentifier``/``enduserid``) and looked up in the alias table below.
When several columns match one field, the earliest alias in the table wins
(so "Total Quantity" beats "Billable Quantity"); the losers are kept in
``extra`` (``ColumnMap.others``), and a currency they name must agree with
the winner's on every row.

=====================  ========  ==================================================
field                  required  aliases (after reduction), best first
=====================  ========  ==================================================
end_user_identifier    yes       End User Identifier, End User ID, End Customer ID,
                                 Customer Identifier, Customer ID, Tenant ID,
                                 Account ID, Organization ID
start_date             yes       Start Date, Usage Start Date, Period Start (Date),
                                 Billing Period Start, Service Start Date, From
end_date               yes       End Date, Usage End Date, Period End (Date),
                                 Billing Period End, Service End Date, To
product_description    yes       Product Description, Product Name, Description,
                                 Product, Item Description, Service Description
quantity               yes       Total Quantity, Quantity, Qty, Billable Quantity,
                                 Usage Quantity, Billed Quantity, Units
unit_msrp              yes       Unit MSRP, MSRP, Unit List Price, List Price,
                                 Unit RRP, RRP, MSRP per Unit
unit_price             yes       Unit Price, Unit Cost, Partner Price, Net Price,
                                 Price, Cost, Distributor Price, Buy Price
end_customer_name      no        End Customer Name, End User Name, Customer Name,
                                 End Customer, End User, Customer, Account Name,
                                 Tenant Name, Organization Name, Company Name
sku                    no        SKU, Product Code, Product SKU, Part Number,
                                 Item Code, Article Number, Product ID
currency               no        Currency, Currency Code, Billing Currency, CCY,
                                 unitPrice.currency, unitMsrp.currency
partner_name           no        Partner Name, Reseller Name, Partner, Reseller,
                                 Partner Company
partner_identifier     no        Partner ID, Reseller ID, Partner Identifier,
                                 Partner Number, Partner Account ID
=====================  ========  ==================================================

Sophos Partner API exports (billing usage endpoint) use camelCase field names
(``endUserId``, ``customerId``, ``startDate``, ``productDescription``,
``productName``, ``totalQuantity``, ``productCode``, ``partnerId``...), which
reduce to the keys above. They carry one column per price and currency: a
price header may name its currency before or after the price alias
("unitPrice.EUR", "unitPrice_EUR", "Unit Price (EUR)", "Unit Price in EUR",
"msrpUSD", "EUR Unit MSRP", "Unit Price (€)"), and nested JSON flattened to
"unitPrice.amount" is read as the price. The currency named in the header
becomes the currency of every row. When the file offers complete price
column sets (MSRP and price) in more than one currency, the reader raises
:class:`ConsumptionFileError` listing them unless the caller names one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .model import ConsumptionFileError
from .values import CURRENCY_CODES, cell_text

HEADER_SCAN_ROWS = 30


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    required: bool
    aliases: tuple[str, ...]
    priced: bool = False


def _aliases(*headers: str) -> tuple[str, ...]:
    return tuple(normalise_header(h) for h in headers)


def normalise_header(text: str) -> str:
    """Lower-case letters and digits only, accents and symbols dropped."""
    text = text.replace("US$", " USD ")
    for symbol, code in (("€", "EUR"), ("£", "GBP"), ("$", "USD"), ("¥", "JPY")):
        text = text.replace(symbol, f" {code} ")
    text = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", text.lower())


FIELDS = (
    Field(
        "end_user_identifier",
        "End User Identifier",
        True,
        _aliases(
            "End User Identifier",
            "End User ID",
            "End User Identifier ID",
            "End Customer Identifier",
            "End Customer ID",
            "Customer Identifier",
            "Customer ID",
            "Tenant ID",
            "Account ID",
            "Organization ID",
            "Organisation ID",
        ),
    ),
    Field(
        "start_date",
        "Start Date",
        True,
        _aliases(
            "Start Date",
            "Usage Start Date",
            "Usage Start",
            "Period Start Date",
            "Period Start",
            "Billing Period Start",
            "Billing Start Date",
            "Service Start Date",
            "Charge Start Date",
            "From Date",
            "From",
        ),
    ),
    Field(
        "end_date",
        "End Date",
        True,
        _aliases(
            "End Date",
            "Usage End Date",
            "Usage End",
            "Period End Date",
            "Period End",
            "Billing Period End",
            "Billing End Date",
            "Service End Date",
            "Charge End Date",
            "To Date",
            "To",
        ),
    ),
    Field(
        "product_description",
        "Product Description",
        True,
        _aliases(
            "Product Description",
            "Product Name",
            "Description",
            "Product",
            "Product Desc",
            "Item Description",
            "Service Description",
            "Service Name",
        ),
    ),
    Field(
        "quantity",
        "Total Quantity",
        True,
        _aliases(
            "Total Quantity",
            "Total Qty",
            "Quantity",
            "Qty",
            "Billable Quantity",
            "Usage Quantity",
            "Billed Quantity",
            "Units",
        ),
    ),
    Field(
        "unit_msrp",
        "Unit MSRP",
        True,
        _aliases(
            "Unit MSRP",
            "MSRP",
            "Unit MSRP Amount",
            "MSRP Amount",
            "MSRP per Unit",
            "Unit List Price",
            "List Price",
            "Unit RRP",
            "RRP",
        ),
        priced=True,
    ),
    Field(
        "unit_price",
        "Unit Price",
        True,
        _aliases(
            "Unit Price",
            "Unit Price Amount",
            "Unit Cost",
            "Partner Unit Price",
            "Partner Price",
            "Unit Net Price",
            "Net Price",
            "Distributor Price",
            "Buy Price",
            "Cost Price",
            "Price",
            "Cost",
        ),
        priced=True,
    ),
    Field(
        "end_customer_name",
        "End Customer Name",
        False,
        _aliases(
            "End Customer Name",
            "End User Name",
            "End User Company Name",
            "Customer Name",
            "End Customer",
            "End User",
            "Customer",
            "Account Name",
            "Tenant Name",
            "Organization Name",
            "Organisation Name",
            "Company Name",
        ),
    ),
    Field(
        "sku",
        "SKU",
        False,
        _aliases(
            "SKU",
            "Product Code",
            "Product SKU",
            "Part Number",
            "Part No",
            "Item Code",
            "Article Number",
            "Product Number",
            "Product ID",
        ),
    ),
    Field(
        "currency",
        "Currency",
        False,
        _aliases(
            "Currency",
            "Currency Code",
            "Billing Currency",
            "Currency ISO",
            "CCY",
            "Unit Price Currency",
            "Unit MSRP Currency",
            "Price Currency",
            "MSRP Currency",
        ),
    ),
    Field(
        "partner_name",
        "Partner Name",
        False,
        _aliases(
            "Partner Name",
            "Reseller Name",
            "Partner Company Name",
            "Reseller Company Name",
            "Partner Account Name",
            "Partner",
            "Reseller",
        ),
    ),
    Field(
        "partner_identifier",
        "Partner ID",
        False,
        _aliases(
            "Partner ID",
            "Partner Identifier",
            "Reseller ID",
            "Reseller Identifier",
            "Partner Number",
            "Reseller Number",
            "Partner Account ID",
            "Partner Account Number",
        ),
    ),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}
REQUIRED = tuple(f for f in FIELDS if f.required)
PRICED = tuple(f.name for f in FIELDS if f.priced)

_ALIAS_INDEX: dict[str, tuple[str, int]] = {}
for _field in FIELDS:
    for _rank, _key in enumerate(_field.aliases):
        assert _key not in _ALIAS_INDEX, f"alias {_key!r} used twice"
        _ALIAS_INDEX[_key] = (_field.name, _rank)


@dataclass(frozen=True)
class HeaderMatch:
    field: str
    rank: int
    currency: str | None = None


def match_header(text: str | None) -> HeaderMatch | None:
    """The field a header names, with the currency the header carries."""
    if not text:
        return None
    key = normalise_header(text)
    if key in _ALIAS_INDEX:
        return HeaderMatch(*_ALIAS_INDEX[key])
    for stem, code in ((key[:-3], key[-3:]), (key[3:], key[:3])):
        currency = code.upper()
        if currency not in CURRENCY_CODES:
            continue
        for candidate in (stem, stem.removesuffix("in")):
            found = _ALIAS_INDEX.get(candidate)
            if found and found[0] in PRICED:
                return HeaderMatch(found[0], found[1], currency)
    return None


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (as Excel names columns)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_score(cells) -> tuple[int, int]:
    found = {m.field for m in map(match_header, map(cell_text, cells)) if m}
    required = sum(f.name in found for f in REQUIRED)
    return required, len(found)


def find_header_row(rows) -> tuple[int | None, tuple[int, int]]:
    """(index, score) of the row among ``rows`` that looks most like the header.

    The score is (required fields named, fields named). Title rows, merged
    cells and blank lines above the header are passed over; the index is
    None when no row names at least two required columns.
    """
    best, best_score = None, (0, 0)
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = _header_score(cells)
        if score > best_score:
            best, best_score = index, score
    if best_score[0] < 2:
        best = None
    return best, best_score


@dataclass
class ColumnMap:
    """Result of mapping a header row: column indexes by field."""

    indexes: dict[str, int]
    headers: dict[int, str]
    price_currency: str | None = None
    notes: list[str] = field(default_factory=list)
    #: The other columns naming a field, best first (kept in ``extra``).
    others: dict[str, list[int]] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers[self.indexes[name]]

    @property
    def extra_indexes(self) -> list[int]:
        used = set(self.indexes.values())
        return [i for i in self.headers if i not in used]


def _choose_currency(candidates, requested):
    """Pick the price currency when headers name currencies."""
    msrp = {m.currency for _, m in candidates.get("unit_msrp", [])}
    price = {m.currency for _, m in candidates.get("unit_price", [])}
    named = sorted((msrp | price) - {None})
    complete = [c for c in named if msrp & {c, None} and price & {c, None}]
    if requested:
        requested = requested.upper()
        if requested in complete or not named:
            return requested if named else None
        raise ConsumptionFileError(
            f"The file has no Unit MSRP and Unit Price columns in {requested} "
            f"(price currencies found: {', '.join(named)}).",
            currencies=complete,
        )
    if len(complete) > 1:
        raise ConsumptionFileError(
            "The file carries prices in several currencies "
            f"({', '.join(complete)}); choose which one to read.",
            currencies=complete,
        )
    if complete:
        return complete[0]
    if msrp and price and named:
        raise ConsumptionFileError(
            "Unit MSRP and Unit Price are given in different currencies "
            f"({', '.join(named)}).",
            currencies=named,
        )
    return None


def map_columns(cells, header_row_number: int, currency: str | None = None):
    """Map the header cells to fields, or raise ConsumptionFileError."""
    headers: dict[int, str] = {}
    labels: list[str] = []
    candidates: dict[str, list[tuple[int, HeaderMatch]]] = {}
    for index, cell in enumerate(cells):
        text = cell_text(cell)
        headers[index] = text or f"Column {column_letter(index)}"
        labels += [text] if text else []
        match = match_header(text)
        if match:
            candidates.setdefault(match.field, []).append((index, match))
    price_currency = _choose_currency(candidates, currency)
    indexes: dict[str, int] = {}
    others: dict[str, list[int]] = {}
    notes: list[str] = []
    for name, found in candidates.items():
        if name in PRICED:
            found = [(i, m) for i, m in found if m.currency in (price_currency, None)]
            found.sort(key=lambda item: item[1].currency is None)
        if not found:
            continue
        found.sort(key=lambda item: item[1].rank)
        index, best = found[0]
        twins = [
            i
            for i, m in found[1:]
            if (m.rank, m.currency) == (best.rank, best.currency)
        ]
        if twins and FIELDS_BY_NAME[name].required:
            letters = ", ".join(column_letter(i) for i in [index, *twins])
            raise ConsumptionFileError(
                f"Column '{headers[index]}' appears more than once "
                f"(columns {letters}); keep only one."
            )
        indexes[name] = index
        if found[1:]:
            others[name] = [i for i, _ in found[1:]]
    missing = [f.label for f in REQUIRED if f.name not in indexes]
    if missing:
        raise ConsumptionFileError(
            f"Required column(s) missing: {', '.join(missing)}. "
            f"Header row {header_row_number} has: {', '.join(labels)}.",
            missing_columns=missing,
        )
    if price_currency:
        used = [headers[indexes[n]] for n in PRICED]
        ignored = [
            headers[i]
            for n in PRICED
            for i, m in candidates[n]
            if m.currency not in (price_currency, None)
        ]
        note = f"Prices in {price_currency}, read from '{used[0]}' and '{used[1]}'"
        if ignored:
            note += f"; ignored {', '.join(repr(h) for h in ignored)}"
        notes.append(note + ".")
    return ColumnMap(indexes, headers, price_currency, notes, others)


def no_header_error() -> ConsumptionFileError:
    labels = ", ".join(f.label for f in REQUIRED)
    return ConsumptionFileError(
        f"No header row found in the first {HEADER_SCAN_ROWS} rows: expected "
        f"column headers such as {labels}.",
        missing_columns=[f.label for f in REQUIRED],
    )
