"""A consumption row's fields, declared once: the row vocabulary.

One name per fact from the file to the invoice line: a field is called here
what the import line (``sophos.ppu.import.line``) calls it in the database,
in views, exports and the reconciliation view. The reader's
:class:`~.model.ConsumptionRow`, the line values written from a read file,
the rows staged between the import's jobs and the field lists of the Odoo
models are derived from :data:`FIELDS`; so are the checks that a row ops
corrected by hand is complete (:func:`problems`).

The declaration (:data:`FIELDS`) reads as a table: per field, what it
holds, whether a row needs it, whether ops may correct it on a row that
could not be read, and its column of the error report.

``unit_cost`` is the file's Unit Price, the distributor's cost. A currency
is a code in the core (``file_currency``, "EUR") and a record on the line
(``file_currency_id``): :attr:`RowField.line_name`. Columns D to F of the
error report are the check's verdict (state, reason, reseller), which the
Odoo layer adds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# What a field holds.
NUMBER = "number"  # the row's number in the file
TEXT = "text"
DATE = "date"
AMOUNT = "amount"  # a quantity
PRICE = "price"  # a price per unit: its header may name its currency
CURRENCY = "currency"  # an ISO code

PYTHON_TYPES = {
    NUMBER: int,
    TEXT: str,
    DATE: date,
    AMOUNT: Decimal,
    PRICE: Decimal,
    CURRENCY: str,
}

# What :func:`problems` finds.
MISSING = "missing"
END_BEFORE_START = "end_before_start"


@dataclass(frozen=True, slots=True)
class RowField:
    """One field of a consumption row.

    :param name: the row's attribute and the line's field
    :param kind: what it holds (NUMBER, TEXT, DATE, AMOUNT, PRICE, CURRENCY)
    :param required: a row cannot be billed without it (a file without its
        column cannot be read)
    :param correctable: ops may correct it by hand on a row that could not
        be read
    :param report: its column of the error report (1 = A), None when the
        report shows it only among the file's cells
    """

    name: str
    kind: str
    required: bool = False
    correctable: bool = False
    report: int | None = None

    @property
    def line_name(self) -> str:
        """The import line's field: the name, ``<name>_id`` for a currency
        (a record there)."""
        return f"{self.name}_id" if self.kind == CURRENCY else self.name

    @property
    def python_type(self) -> type:
        return PYTHON_TYPES[self.kind]


#: The declaration, in the order a row reads (that of the reasons naming
#: what is missing); ConsumptionRow takes the required fields first.
FIELDS = (
    RowField("row_number", NUMBER, required=True, report=1),
    RowField("end_user_identifier", TEXT, required=True, correctable=True, report=2),
    RowField("end_customer_name", TEXT, correctable=True, report=3),
    RowField("file_partner_name", TEXT),
    RowField("file_partner_ref", TEXT),
    RowField("product_description", TEXT, required=True, correctable=True, report=7),
    RowField("sku", TEXT, correctable=True),
    RowField("start_date", DATE, required=True, correctable=True, report=8),
    RowField("end_date", DATE, required=True, correctable=True, report=9),
    RowField("quantity", AMOUNT, required=True, correctable=True, report=10),
    RowField("unit_msrp", PRICE, required=True, correctable=True, report=11),
    RowField("unit_cost", PRICE, required=True, correctable=True, report=12),
    RowField("file_currency", CURRENCY, correctable=True, report=13),
)
BY_NAME = {f.name: f for f in FIELDS}
#: The fields read from a file's columns (all but the row number).
FILE_FIELDS = tuple(f for f in FIELDS if f.kind != NUMBER)
REQUIRED = tuple(f.name for f in FILE_FIELDS if f.required)
TEXTS = tuple(f.name for f in FIELDS if f.kind == TEXT)
DATES = tuple(f.name for f in FIELDS if f.kind == DATE)
#: Quantities and prices: read as exact amounts.
AMOUNTS = tuple(f.name for f in FIELDS if f.kind in (AMOUNT, PRICE))
PRICES = tuple(f.name for f in FIELDS if f.kind == PRICE)

#: The import line's fields, one per row field.
LINE_FIELDS = tuple(f.line_name for f in FIELDS)
#: What ops may correct on a line that could not be read.
LINE_CORRECTABLE = tuple(f.line_name for f in FIELDS if f.correctable)
#: The line's fields the staged rows (JSON) keep as ISO dates.
LINE_DATES = tuple(BY_NAME[name].line_name for name in DATES)
#: {column of the error report: line field}.
LINE_REPORT = {f.report: f.line_name for f in FIELDS if f.report}


def consumption_source(row) -> tuple:
    """The arguments of :func:`~.billing.consumption_key` for ``row`` (a
    mapping, or a record read by name, of the row's fields): the end user,
    the service (SKU, else product description), the dates, the quantity (a
    negative one makes the row a correction)."""
    return (
        row["end_user_identifier"],
        row["sku"] or row["product_description"],
        row["start_date"],
        row["end_date"],
        row["quantity"],
    )


def problems(values: Mapping) -> list[tuple[str, str]]:
    """``[(field, MISSING or END_BEFORE_START)]``: what keeps ``values`` (a
    row's values by field name, an import line's too) from being a
    consumption row. Required values are missing when empty (None, False,
    ""); a zero amount is a value. The end date comes after the start date.
    Values that are not there at all are not checked (a file without the
    column is refused as a whole)."""
    found = [
        (name, MISSING) for name in REQUIRED if name in values and _empty(values[name])
    ]
    start, end = values.get("start_date"), values.get("end_date")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        found.append(("end_date", END_BEFORE_START))
    return found


def _empty(value) -> bool:
    return value is None or value is False or value == ""
