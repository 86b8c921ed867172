"""Sample Sophos consumption files: realistic rows for given end users and month.

The one place that writes sample consumption data. The demo database imports
its months from it, and the template that ops download from the import wizard
(``sophos_ppu/static/sample/sophos_consumption_sample.xlsx``) is its output,
rewritten with::

    python -m sophos_ppu.core.sample \
        sophos_ppu/static/sample/sophos_consumption_sample.xlsx

A file looks like a Sophos MSP Flex monthly usage workbook: two title rows,
a blank row, then the 22 columns A..V (Start Date in B, End Date in C, End
User Identifier in H, Product Description in O, Total Quantity in R, Unit
MSRP in T, Unit Price in V) and one row per end user and service, in USD.
Quantities move a little from month to month, the same way every time for
the same end user, service and month (no randomness), so that a file can be
written again identically.
"""

from __future__ import annotations

import calendar
import io
import zlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

#: The columns of a Sophos monthly usage workbook, in letter order A..V.
SOPHOS_HEADER = (
    "Partner ID",  # A
    "Start Date",  # B
    "End Date",  # C
    "Partner Name",  # D
    "Customer Name",  # E
    "Country",  # F
    "Region",  # G
    "End User Identifier",  # H
    "Billing Type",  # I
    "SKU",  # J
    "Currency",  # K
    "Order Reference",  # L
    "Licence Type",  # M
    "Product Family",  # N
    "Product Description",  # O
    "Term",  # P
    "Unit of Measure",  # Q
    "Total Quantity",  # R
    "Billable Quantity",  # S
    "Unit MSRP",  # T
    "Discount",  # U
    "Unit Price",  # V
)

REGIONS = {"US": "AMER", "CA": "AMER", "GB": "EMEA", "DE": "EMEA", "AU": "APJ"}


@dataclass(frozen=True)
class Service:
    """A Sophos MSP Flex service and its monthly prices per unit, in USD:
    ``msrp`` (Unit MSRP) and ``cost`` (Unit Price, what the distributor pays)."""

    sku: str
    description: str
    family: str
    unit: str
    msrp: Decimal
    cost: Decimal


SERVICES = {
    service.sku: service
    for service in (
        Service(
            "CIXA-MSP",
            "Sophos Intercept X Advanced",
            "Endpoint",
            "User",
            Decimal("4.50"),
            Decimal("2.93"),
        ),
        Service(
            "CIXS-MSP",
            "Sophos Intercept X Advanced for Server",
            "Server",
            "Server",
            Decimal("9.80"),
            Decimal("6.37"),
        ),
        Service(
            "MDRC-MSP",
            "Sophos MDR Complete",
            "Managed Detection and Response",
            "User",
            Decimal("11.50"),
            Decimal("7.48"),
        ),
        Service(
            "EMLA-MSP",
            "Sophos Email Advanced",
            "Email",
            "Mailbox",
            Decimal("2.80"),
            Decimal("1.82"),
        ),
        Service(
            "MOBA-MSP",
            "Sophos Mobile Advanced",
            "Mobile",
            "Device",
            Decimal("1.90"),
            Decimal("1.24"),
        ),
        # Sold with a thin margin: a deep volume discount goes below cost.
        Service(
            "ZTNA-MSP",
            "Sophos ZTNA",
            "Network",
            "User",
            Decimal("2.00"),
            Decimal("1.70"),
        ),
    )
}


@dataclass(frozen=True)
class EndUser:
    """An end customer as Sophos reports it, with the reseller (partner) that
    manages it and its usual monthly usage: ((SKU, quantity), ...)."""

    identifier: str
    name: str
    country: str
    partner_id: str
    partner_name: str
    usage: tuple[tuple[str, int], ...]


#: The end customers of the demo database's three resellers. Each reseller's
#: Sophos partner ID is its Reference in Odoo. Quantities are chosen so that
#: every billing rule shows: Seaview Hotels Group stays above the 100 units
#: that earn Pacific Coast MSP its volume discount, which takes Granite Peak
#: Engineering's ZTNA below its cost (the month close flags it).
DEMO_END_USERS = (
    EndUser(
        "3f6c1e2a-8d4b-4c7e-9a15-2b7d0e9c4a11",
        "Blue Ridge Dental Group",
        "US",
        "SPX-100101",
        "Northwind IT Services",
        (("CIXA-MSP", 42), ("EMLA-MSP", 42)),
    ),
    EndUser(
        "8a2d5f90-1c3e-47b6-b0d8-6e4f2a9c7b22",
        "Lakeside Law Partners LLP",
        "US",
        "SPX-100101",
        "Northwind IT Services",
        (("CIXA-MSP", 18), ("CIXS-MSP", 3), ("MDRC-MSP", 18)),
    ),
    EndUser(
        "c41b7e63-5a09-4f2d-8e71-9d3c6b0a5f33",
        "Maple Street Bakery",
        "US",
        "SPX-100101",
        "Northwind IT Services",
        (("CIXA-MSP", 6), ("MOBA-MSP", 4)),
    ),
    EndUser(
        "5e9a3c17-72f4-4b8d-a6e0-1f8b4d2c9e44",
        "Bäckerei Sonnenschein",
        "DE",
        "SPX-200202",
        "Rheinblick IT-Service GmbH",
        (("CIXA-MSP", 12),),
    ),
    EndUser(
        "0d7f2b84-e6a1-4c59-93b2-7a5e1c8f0d55",
        "Kanzlei Hoffmann & Partner",
        "DE",
        "SPX-200202",
        "Rheinblick IT-Service GmbH",
        (("CIXA-MSP", 25), ("CIXS-MSP", 2), ("EMLA-MSP", 25)),
    ),
    EndUser(
        "b62e8d1f-3c7a-4e05-b9f4-8c2a6d1e3b66",
        "Seaview Hotels Group",
        "AU",
        "SPX-300303",
        "Pacific Coast MSP",
        (("CIXA-MSP", 120), ("CIXS-MSP", 8), ("MDRC-MSP", 60)),
    ),
    EndUser(
        "f18c4a2e-9b6d-4d73-a2e5-3b9f7c0d8a77",
        "Granite Peak Engineering",
        "AU",
        "SPX-300303",
        "Pacific Coast MSP",
        (("CIXA-MSP", 35), ("MOBA-MSP", 20), ("ZTNA-MSP", 130)),
    ),
)

#: The month of the template shipped with the addon.
TEMPLATE_PERIOD = date(2026, 10, 1)


def month_bounds(period: date) -> tuple[date, date]:
    """First and last day of the month of ``period``."""
    last = calendar.monthrange(period.year, period.month)[1]
    return period.replace(day=1), period.replace(day=last)


def monthly_quantity(end_user: EndUser, sku: str, usual: int, period: date) -> int:
    """``usual`` moved by up to 10 % (at least 1 unit) up or down, the same
    way every time for this end user, service and month."""
    spread = max(1, usual // 10)
    seed = zlib.crc32(f"{end_user.identifier}|{sku}|{period:%Y-%m}".encode())
    return max(1, usual + seed % (2 * spread + 1) - spread)


def sample_rows(end_users, period: date) -> list[dict]:
    """One row per end user and service for the month of ``period``, as
    dicts keyed by :data:`SOPHOS_HEADER` (dates as ``date``, prices as
    ``Decimal``, quantities as ``int``)."""
    start, end = month_bounds(period)
    rows = []
    for end_user in end_users:
        for sku, usual in end_user.usage:
            service = SERVICES[sku]
            quantity = monthly_quantity(end_user, sku, usual, start)
            discount = (1 - service.cost / service.msrp) * 100
            rows.append(
                {
                    "Partner ID": end_user.partner_id,
                    "Start Date": start,
                    "End Date": end,
                    "Partner Name": end_user.partner_name,
                    "Customer Name": end_user.name,
                    "Country": end_user.country,
                    "Region": REGIONS.get(end_user.country, ""),
                    "End User Identifier": end_user.identifier,
                    "Billing Type": "Monthly in arrears",
                    "SKU": service.sku,
                    "Currency": "USD",
                    "Order Reference": f"MSP-{start:%Y-%m}",
                    "Licence Type": "MSP Flex",
                    "Product Family": service.family,
                    "Product Description": service.description,
                    "Term": "1 month",
                    "Unit of Measure": service.unit,
                    "Total Quantity": quantity,
                    "Billable Quantity": quantity,
                    "Unit MSRP": service.msrp,
                    "Discount": discount.quantize(Decimal("0.1")),
                    "Unit Price": service.cost,
                }
            )
    return rows


def sample_xlsx(end_users, period: date) -> bytes:
    """The bytes of a Sophos-like .xlsx usage report of ``end_users`` for the
    month of ``period`` (see the module docstring for its layout)."""
    from openpyxl import Workbook  # only needed to write samples

    start, _end = month_bounds(period)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Usage"
    sheet.append(["Sophos MSP Flex - Monthly Usage Report"])
    sheet.append([f"Period: {start:%B %Y}", None, "Currency: USD"])
    sheet.append([])
    sheet.append(list(SOPHOS_HEADER))
    for row in sample_rows(end_users, period):
        sheet.append([row[column] for column in SOPHOS_HEADER])
    for letter in ("B", "C"):
        for cell in sheet[letter][4:]:
            cell.number_format = "yyyy-mm-dd"
    for letter in ("T", "V"):
        for cell in sheet[letter][4:]:
            cell.number_format = "0.00"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main(argv=None):
    """Write the template: ``python -m sophos_ppu.core.sample PATH``."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    args.path.write_bytes(sample_xlsx(DEMO_END_USERS, TEMPLATE_PERIOD))


if __name__ == "__main__":
    main()
