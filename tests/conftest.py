"""Fixture files for the core's tests, written in tmp_path by real writers.

``write_file(fmt, rows)`` writes the same rows as .xlsx (openpyxl), legacy
.xls (xlwt) or .csv. Python ``date``/``datetime`` values become real date
cells in workbooks and ISO text in CSV; ``None`` is an empty cell; strings
stay text cells, so "4,50" is a text cell in every format.
"""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pytest
import xlwt

from sophos_ppu.core import sample

FORMATS = ("xlsx", "xls", "csv")

HEADER = [
    "End User Identifier",
    "Start Date",
    "End Date",
    "Product Description",
    "Total Quantity",
    "Unit MSRP",
    "Unit Price",
]

# The columns of a Sophos monthly usage workbook, in letter order A..V.
SOPHOS_HEADER = list(sample.SOPHOS_HEADER)


def sophos_row(end_user, customer, sku, product, quantity, msrp, price, **kw):
    """One 22-column Sophos row (January 2025, EUR) as a list A..V."""
    values = {
        "Partner ID": "P-100200",
        "Start Date": dt.date(2025, 1, 1),
        "End Date": dt.date(2025, 1, 31),
        "Partner Name": "Acme IT Services GmbH",
        "Customer Name": customer,
        "Country": "DE",
        "Region": "EMEA",
        "End User Identifier": end_user,
        "Billing Type": "Monthly in arrears",
        "SKU": sku,
        "Currency": "EUR",
        "Order Reference": "MSP-2025-01",
        "Licence Type": "MSP Flex",
        "Product Family": "Central",
        "Product Description": product,
        "Term": "1 month",
        "Unit of Measure": "User",
        "Total Quantity": quantity,
        "Billable Quantity": quantity,
        "Unit MSRP": msrp,
        "Discount": "",
        "Unit Price": price,
    }
    values.update(kw)
    return [values[h] for h in SOPHOS_HEADER]


SOPHOS_TITLE_ROWS = [
    ["Sophos MSP Flex - Monthly Usage Report"],
    ["Partner: Acme IT Services GmbH", None, "Period: January 2025"],
    [],
]


def sophos_rows(header=SOPHOS_HEADER):
    """Title rows, the header on row 4 and three customers on rows 5-8."""
    return [
        *SOPHOS_TITLE_ROWS,
        header,
        sophos_row(
            "1b2c3d4e-0001",
            "Müller Bau AG",
            "CIXA1CSAA",
            "Intercept X " "Advanced",
            25,
            4.5,
            3.6,
        ),
        sophos_row(
            "1b2c3d4e-0001",
            "Müller Bau AG",
            "CSVR1CSAA",
            "Server " "Protection",
            2,
            12.0,
            9.6,
        ),
        sophos_row(
            "9f8e7d6c-0002",
            "Bäckerei Schmidt",
            "CIXA1CSAA",
            "Intercept X " "Advanced",
            10,
            4.5,
            3.6,
        ),
        sophos_row(
            "5a5a5a5a-0003", "Kanzlei Weber", "CMDR1CSAA", "MDR Complete", 3, 0.1, 0.07
        ),
    ]


def _csv_text(value):
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_xlsx(path, rows, merge=None):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Usage"
    for row in rows:
        sheet.append(list(row) if row else [None])
    if merge:
        sheet.merge_cells(merge)
    workbook.save(path)


def _write_xls(path, rows):
    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Usage")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date_style)
            else:
                sheet.write(r, c, value)
    workbook.save(str(path))


def _write_csv(path, rows, delimiter=",", encoding="utf-8", bom=False):
    with open(path, "w", newline="", encoding=encoding) as handle:
        if bom:
            handle.write("\ufeff")
        writer = csv.writer(handle, delimiter=delimiter)
        for row in rows:
            writer.writerow([_csv_text(v) for v in row])


@pytest.fixture
def write_file(tmp_path):
    """write_file(fmt, rows, name="usage", **options) -> Path."""

    def write(fmt, rows, name="usage", **options):
        path = tmp_path / f"{name}.{fmt}"
        if fmt == "xlsx":
            _write_xlsx(path, rows, **options)
        elif fmt == "xls":
            _write_xls(path, rows)
        else:
            _write_csv(path, rows, **options)
        return path

    return write


@pytest.fixture(params=FORMATS)
def fmt(request):
    return request.param
