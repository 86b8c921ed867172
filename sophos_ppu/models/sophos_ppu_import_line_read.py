# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A read consumption file as import line values, in the row vocabulary
(``core.row``): what the import stages and checks before it stores the
lines."""

import json
from collections import defaultdict
from operator import attrgetter

from odoo import api, models

from odoo.addons.sophos_ppu.core.billing import consumption_key
from odoo.addons.sophos_ppu.core.row import (
    AMOUNT,
    AMOUNTS,
    DATE,
    FIELDS,
    FILE_FIELDS,
    LINE_FIELDS,
    PRICE,
    TEXT,
)
from odoo.addons.sophos_ppu.core.values import Bad, parse_amount, parse_date


class SophosPpuImportLine(models.Model):
    _inherit = "sophos.ppu.import.line"

    @api.model
    def _ppu_values_from_result(self, result, company):
        """Line values of every row of a read file, in file order: valid rows
        with their values (``LINE_FIELDS``), rows with issues as parse errors
        whose message lists the issues, with what their cells still give."""
        currency_ids = {
            currency.name: currency.id
            for currency in self.env["res.currency"]
            .with_context(active_test=False)
            .search([])
        }
        order = {header: i for i, header in enumerate(result.headers)}
        values = [
            self._ppu_row_values(row, result, order, currency_ids, company)
            for row in result.rows
        ]
        issues = defaultdict(list)
        for issue in result.issues:
            issues[issue.row_number].append(issue)
        for row_number, row_issues in issues.items():
            cells = result.issue_cells.get(row_number) or {
                issue.column: issue.value for issue in row_issues
            }
            values.append(
                {
                    "row_number": row_number,
                    "raw_values": json.dumps(cells, default=str, ensure_ascii=False),
                    **_readable_cells(cells, result.columns),
                    "correction_pending": _bad_fields(row_issues, result.columns),
                    "parse_error": True,
                    "message": "; ".join(str(issue) for issue in row_issues),
                    "subscription_id": False,
                    "match_method": False,
                }
            )
        values.sort(key=lambda vals: vals["row_number"])
        return values

    @api.model
    def _ppu_row_values(self, row, result, order, currency_ids, company):
        """Line values of a valid row of ``result``: its fields as the line
        stores them (amounts as floats, the currency as a record id: the
        company's when the file names none, a parse error when Odoo knows
        none of that code)."""
        vals = dict(zip(LINE_FIELDS, _ROW_VALUES(row), strict=True))
        for name in AMOUNTS:
            vals[name] = float(vals[name])
        code, message = row.file_currency, False
        currency_id = currency_ids.get(code.upper()) if code else company.currency_id.id
        if not currency_id:
            message = self.env._(
                "Row %(row)s: unknown currency %(currency)s.",
                row=row.row_number,
                currency=code,
            )
        vals.update(
            file_currency_id=currency_id or False,
            raw_values=json.dumps(
                _raw_row(row, result.columns, order), default=str, ensure_ascii=False
            ),
            consumption_key=consumption_key(*row.consumption_key),
            repeat_of_row=result.repeats.get(row.row_number, 0),
            parse_error=bool(message),
            message=message,
            subscription_id=False,
            match_method=False,
        )
        return vals


#: A valid row's values, in the order of LINE_FIELDS.
_ROW_VALUES = attrgetter(*(f.name for f in FIELDS))
#: How the cells of a row that could not be read still give line values: its
#: texts, and its dates and amounts when they read as such.
CELL_READERS = {
    TEXT: lambda text: text,
    DATE: parse_date,
    AMOUNT: parse_amount,
    PRICE: parse_amount,
}


def _raw_row(row, columns, order):
    """The row's values by the file's column names (a value no column holds,
    such as a currency named in the price headers, by its field), as read,
    extra columns included."""
    raw = {
        columns.get(f.name, f.name): value
        for f in FILE_FIELDS
        if (value := getattr(row, f.name)) is not None
    }
    raw.update(row.extra or {})
    return dict(sorted(raw.items(), key=lambda item: order.get(item[0], len(order))))


def _readable_cells(cells, columns):
    """The line values that the cells of a row that could not be read still
    give (CELL_READERS)."""
    values = {}
    for field in FILE_FIELDS:
        read = CELL_READERS.get(field.kind)
        value = read(cells.get(columns.get(field.name))) if read else None
        if value and not isinstance(value, Bad):
            values[field.line_name] = (
                value if field.kind in (TEXT, DATE) else float(value[0])
            )
    return values


def _bad_fields(issues, columns):
    """The line fields of the cells with issues that ops may correct, for
    them to correct ("*" when no cell of the row is one ops can correct)."""
    correctable = {
        columns.get(f.name): f.line_name
        for f in FILE_FIELDS
        if f.correctable and f.kind in CELL_READERS
    }
    bad = {correctable[issue.column] for issue in issues if issue.column in correctable}
    return ",".join(sorted(bad)) or "*"
