# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Billing knowledge of the monthly import that needs no database.

The Odoo layer (``sophos.ppu.import``) calls these helpers to build the
consumption key a row may be billed under once, to match end customers by
name, to label invoice lines, to summarise a batch per reseller and to write
the error report so that it is safe to open in a spreadsheet.
"""

import csv
import io
import re
from collections import defaultdict
from decimal import Decimal

#: A spreadsheet evaluates a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def normalise_name(name):
    """Compare names case- and space-insensitively: ' ACME  corp' == 'Acme Corp'."""
    return " ".join((name or "").split()).casefold()


def normalise_identifier(identifier):
    return (identifier or "").strip().casefold()


def consumption_key(
    end_user_identifier, service, start_date, end_date, quantity=0, repeat=0
):
    """The text a row is billed under once (per company).

    - A consumption: the end user, the service (SKU, else product
      description) and the service dates, ``eu-1|xdr|2026-10-01|2026-10-31``.
    - A correction (negative quantity) adds its quantity,
      ``...|2026-10-31|-3``: it is billed once, beside the consumption it
      corrects, whether that one is in the same file or was billed before.
    - A repeat that ops confirmed (the k-th row of a file with the same key)
      adds ``|repeat:k``.
    """
    parts = [
        normalise_identifier(end_user_identifier),
        normalise_name(service),
        start_date.isoformat(),
        end_date.isoformat(),
    ]
    if quantity < 0:
        parts.append(format_quantity(quantity))
    if repeat:
        parts.append(f"repeat:{repeat}")
    return "|".join(parts)


def format_quantity(quantity):
    """A quantity as plain text without trailing zeros: -3.50 -> '-3.5'."""
    text = format(Decimal(str(quantity)).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def invoice_line_label(end_customer, description, start_date, end_date):
    """'<end customer> — <product description> — <start>–<end>'."""
    return (
        f"{end_customer} — {description} — "
        f"{start_date.isoformat()}–{end_date.isoformat()}"
    )


#: Inside a cell, where a spreadsheet reading the CSV with another separator
#: (or ignoring its quotes) may start a new cell: a separator or a line break,
#: then blanks or quotes, then a formula prefix.
EMBEDDED_FORMULA = re.compile(r"""([,;\t\r\n][ \t\r\n"]*)(?=[=+\-@])""")


def neutralise_cell(value, embedded=False):
    """A text cell a spreadsheet would run as a formula, made plain text.

    With ``embedded`` (CSV), every segment of the text that starts a formula
    after a ``,``/``;``/tab separator or a line break is prefixed with ``'``
    too: whatever separator the spreadsheet's locale splits the line on, and
    even if it ignores the quotes, no resulting cell starts a formula.
    """
    if not isinstance(value, str):
        return value
    if embedded:
        value = EMBEDDED_FORMULA.sub(r"\1'", value)
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def summarize_billing(entries):
    """Summarise a batch: ``entries`` are (reseller, currency, state, amount)
    for every line, state being 'ok', 'error' or 'duplicate'.

    :returns: {"rows", "billed", "errors", "duplicates", "resellers": [
        {"reseller", "currency", "rows", "amount"} sorted by reseller]}
    """
    counts = {"ok": 0, "error": 0, "duplicate": 0}
    totals = defaultdict(lambda: [0, Decimal(0)])
    rows = 0
    for reseller, currency, state, amount in entries:
        rows += 1
        counts[state] = counts.get(state, 0) + 1
        if state == "ok":
            total = totals[(reseller, currency)]
            total[0] += 1
            total[1] += Decimal(str(amount or 0))
    return {
        "rows": rows,
        "billed": counts["ok"],
        "errors": counts["error"],
        "duplicates": counts["duplicate"],
        "resellers": [
            {"reseller": reseller, "currency": currency, "rows": n, "amount": amount}
            for (reseller, currency), (n, amount) in sorted(
                totals.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))
            )
        ],
    }


def _safe_rows(header, rows, embedded=False):
    yield [neutralise_cell(cell, embedded) for cell in header]
    for row in rows:
        yield [neutralise_cell("" if cell is None else cell, embedded) for cell in row]


def error_report_csv(header, rows):
    """The error report as UTF-8 CSV bytes (with BOM, so Excel reads accents).

    Every field is quoted, so a ``;`` or a line break inside a cell stays in
    it for a spreadsheet that honours quotes whatever its list separator; and
    every formula-starting segment is neutralised (see ``neutralise_cell``)
    for one that does not.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerows(_safe_rows(header, rows, embedded=True))
    return buffer.getvalue().encode("utf-8-sig")


def error_report_xlsx(header, rows, sheet_title="Issues"):
    """The error report as .xlsx bytes; every text cell is neutralised."""
    return workbook_xlsx([(sheet_title, header, rows)])


def workbook_xlsx(sheets):
    """An .xlsx workbook of ``sheets``, (title, header, rows) each, as bytes;
    every text cell is neutralised."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        for row in _safe_rows(header, rows):
            sheet.append(
                [float(cell) if isinstance(cell, Decimal) else cell for cell in row]
            )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
