"""The month close, without a database: why each row of a batch was billed
or not, Sophos's bill made from the file, and a bill entered by hand
compared with the file service by service.

Sophos bills the distributor every row of its file at the row's Unit Price
(the cost). The distributor bills its resellers the rows it matched; what
it did not bill is money lost, for a reason the accountant must see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from .billing import normalise_name
from .checking import CLOSED_SUBSCRIPTION, DUPLICATE, OK

# Why a row's cost was billed to a reseller or not, as the rows store it.
BILLED = "billed"  # on a reseller's invoice or credit note
TO_BILL = "to_bill"  # checked ok, invoices not created yet
ZERO = "zero"  # nothing to bill (zero quantity)
HELD = "duplicate"  # a duplicate held back (billed already, or a repeat)
CLOSED = "closed"  # the subscription is closed
ERROR = "error"  # any other error: unknown identifier, no rule...
STATUSES = (BILLED, TO_BILL, ZERO, HELD, CLOSED, ERROR)
#: The statuses whose rows the resellers are billed (or will be).
BILLABLE = (BILLED, TO_BILL)


def close_status(billed, state, quantity, issue):
    """Why a row's cost is, or is not, billed to a reseller (a STATUSES)."""
    if billed:
        return BILLED
    if not quantity:
        return ZERO
    if state == OK:
        return TO_BILL
    if state == DUPLICATE:
        return HELD
    if issue == CLOSED_SUBSCRIPTION:
        return CLOSED
    return ERROR


class CostRow(NamedTuple):
    """What Sophos bills for a row of its file (in the row vocabulary,
    :mod:`.row`)."""

    file_currency: object
    sku: str | None
    product_description: str | None
    unit_cost: float
    quantity: float
    cost: float  # quantity x unit cost, rounded to the currency


class BillLine(NamedTuple):
    """A line of Sophos's bill made from the file: a service at one unit
    price, its quantities summed."""

    currency: object
    sku: str | None
    description: str | None
    unit_cost: float
    quantity: float
    cost: Decimal  # the rows' costs summed

    @property
    def label(self):
        return service_label(self.sku, self.description)


def service_label(sku, description):
    """'<description> (<SKU>)', or whichever of the two the file gives."""
    if sku and description and normalise_name(sku) != normalise_name(description):
        return f"{description} ({sku})"
    return description or sku or "-"


def vendor_bill_lines(rows: Iterable[CostRow]) -> dict[object, list[BillLine]]:
    """Sophos's bill of ``rows``: per currency, one line per service (SKU,
    else description) and unit price, in label order."""
    groups = defaultdict(lambda: [None, None, 0.0, Decimal(0)])
    for row in rows:
        service = normalise_name(row.sku or row.product_description)
        group = groups[row.file_currency, service, row.unit_cost]
        if group[0] is None and group[1] is None:
            group[0], group[1] = row.sku, row.product_description
        group[2] += row.quantity
        group[3] += Decimal(str(row.cost))
    lines = defaultdict(list)
    for (currency, _service, unit_cost), group in groups.items():
        lines[currency].append(
            BillLine(currency, group[0], group[1], unit_cost, *group[2:])
        )
    for currency_lines in lines.values():
        currency_lines.sort(key=lambda line: (line.label, line.unit_cost))
    return dict(lines)


class Difference(NamedTuple):
    """One line of the comparison of a bill with the file."""

    label: str
    file_quantity: float
    file_cost: Decimal
    bill_quantity: float
    bill_amount: Decimal

    @property
    def difference(self):
        return self.bill_amount - self.file_cost


def compare_bill(file_lines, bill_lines):
    """Compare Sophos's bill as entered with the file, line by line.

    :param file_lines: the file's :class:`BillLine` of one currency
    :param bill_lines: (label, quantity, amount) of the bill's lines in that
        currency
    :returns: a :class:`Difference` per service of the file (the bill's lines
        whose label names its SKU or description, the longest name first),
        then one per bill line that names none, in order
    """
    services = {}
    names = []  # (a name a bill's line may give a service by, the service)
    for line in file_lines:
        key = normalise_name(line.label)
        entry = services.setdefault(key, [line.label, 0.0, Decimal(0), 0.0, Decimal(0)])
        entry[1] += line.quantity
        entry[2] += line.cost
        names += [
            (normalise_name(name), key)
            for name in (line.label, line.sku, line.description)
            if name
        ]
    names.sort(key=lambda item: -len(item[0]))
    unmatched = []
    for label, quantity, amount in bill_lines:
        text = normalise_name(label)
        key = next((key for name, key in names if name in text), None)
        if key is None:
            unmatched.append(Difference(label, 0.0, Decimal(0), quantity, amount))
            continue
        services[key][3] += quantity
        services[key][4] += amount
    return [Difference(*entry) for entry in sorted(services.values())] + unmatched
