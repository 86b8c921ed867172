# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The month close on each consumption row: what Sophos bills for it (its
cost), what it earns (margin), whether its cost is billed to a reseller
(close status), and what the analysis adds up as billed."""

from odoo import api, fields, models

from odoo.addons.sophos_ppu.core import month_close

from .sophos_ppu_import_line import CLOSE_STATUSES, COST_GROUPS


class SophosPpuImportLine(models.Model):
    _inherit = "sophos.ppu.import.line"

    cost_subtotal = fields.Monetary(
        string="Cost Subtotal",
        currency_field="file_currency_id",
        compute="_compute_cost",
        store=True,
        precompute=True,
        groups=COST_GROUPS,
        help="Quantity x the file's Unit Price: what Sophos bills for the row.",
    )
    cost_subtotal_company = fields.Monetary(
        string="Cost (company currency)",
        currency_field="company_currency_id",
        compute="_compute_cost",
        store=True,
        precompute=True,
        groups=COST_GROUPS,
        help="The cost converted to the company currency at the rate of the "
        "billing month's first day, as the billed subtotal is.",
    )
    margin_company = fields.Monetary(
        string="Margin",
        currency_field="company_currency_id",
        compute="_compute_margin",
        store=True,
        precompute=True,
        groups=COST_GROUPS,
        help="Billed subtotal minus cost, in the company currency, on the "
        "billable rows (the cost of the others is not billed: see Month close).",
    )
    margin_percent = fields.Float(
        string="Margin %",
        digits=(16, 2),
        aggregator=None,
        compute="_compute_margin",
        store=True,
        precompute=True,
        groups=COST_GROUPS,
    )
    below_cost = fields.Boolean(
        compute="_compute_margin",
        store=True,
        precompute=True,
        groups=COST_GROUPS,
        help="A billable consumption priced below what Sophos bills for it.",
    )
    # What the analysis adds up as billed: billed rows only, whatever the
    # filter (rows in error, duplicates and cancelled imports bill nothing).
    billed_quantity = fields.Float(
        digits=False,
        compute="_compute_billed_measures",
        store=True,
        precompute=True,
    )
    billed_subtotal_company = fields.Monetary(
        string="Billed (company currency)",
        currency_field="company_currency_id",
        compute="_compute_billed_measures",
        store=True,
        precompute=True,
    )
    close_status = fields.Selection(
        CLOSE_STATUSES,
        string="Month close",
        compute="_compute_close_status",
        store=True,
        precompute=True,
        index=True,
        help="Whether the row's cost is billed to a reseller, and if not why.",
    )

    @api.depends(
        "quantity", "unit_cost", "file_currency_id", "company_id", "period_date"
    )
    def _compute_cost(self):
        to_company = self._ppu_company_converter()
        for line in self:
            line.update(line._ppu_cost_values(line, to_company))

    @api.depends("state", "quantity", "price_subtotal_company", "cost_subtotal_company")
    def _compute_margin(self):
        for line in self:
            line.update(line._ppu_margin_values(line, line.company_id))

    @api.depends("billed", "quantity", "price_subtotal_company")
    def _compute_billed_measures(self):
        for line in self:
            line.billed_quantity = line.billed and line.quantity
            line.billed_subtotal_company = line.billed and line.price_subtotal_company

    @api.depends("billed", "state", "quantity", "issue")
    def _compute_close_status(self):
        for line in self:
            line.close_status = month_close.close_status(
                line.billed, line.state, line.quantity, line.issue
            )

    @api.model
    def _ppu_cost_values(self, row, to_company):
        """The cost fields of ``row`` (a line, or its values with records)."""
        company = row["company_id"]
        currency = row["file_currency_id"] or company.currency_id
        cost = currency.round(row["quantity"] * row["unit_cost"])
        return {
            "cost_subtotal": cost,
            "cost_subtotal_company": to_company(
                cost, currency, company, row["period_date"]
            ),
        }

    @api.model
    def _ppu_margin_values(self, row, company):
        """The margin fields of ``row`` (a line, or its values with its costs):
        on billable rows only, the others earn nothing."""
        if row["state"] != "ok":
            return {"margin_company": 0.0, "margin_percent": 0.0, "below_cost": False}
        currency = company.currency_id
        billed, cost = row["price_subtotal_company"], row["cost_subtotal_company"]
        margin = currency.round(billed - cost)
        return {
            "margin_company": margin,
            "margin_percent": billed and round(100 * margin / billed, 2),
            "below_cost": row["quantity"] > 0
            and currency.compare_amounts(billed, cost) < 0,
        }

    @api.model
    def _ppu_close_values(self, vals, company, to_company):
        """The month-close fields of a new row of ``company`` from its values
        (``vals``, with its subtotal in company currency), as they compute:
        its cost, margin and close status (a new row is billed by nothing)."""
        Currency = self.env["res.currency"]
        row = dict(
            vals,
            company_id=company,
            file_currency_id=Currency.browse(vals.get("file_currency_id")),
            quantity=vals.get("quantity") or 0.0,
            unit_cost=vals.get("unit_cost") or 0.0,
        )
        close = self._ppu_cost_values(row, to_company)
        close.update(self._ppu_margin_values(dict(row, **close), company))
        close.update(
            billed_quantity=0.0,
            billed_subtotal_company=0.0,
            close_status=month_close.close_status(
                False, vals["state"], row["quantity"], vals.get("issue")
            ),
        )
        return close
