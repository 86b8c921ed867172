# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models, tools

from odoo.addons.sophos_ppu.core.month_close import BILLABLE

from .sophos_ppu_import_line import CLOSE_STATUSES


class SophosPpuReconciliation(models.Model):
    """A batch's rows summed per file currency and month-close status: what
    Sophos bills, what the resellers are billed, and the cost billed to
    nobody and why. A database view over the rows."""

    _name = "sophos.ppu.reconciliation"
    _description = "Sophos PPU Month Close"
    _auto = False
    _order = "import_id, file_currency_id, close_status"

    import_id = fields.Many2one("sophos.ppu.import", string="Import", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    period_date = fields.Date(string="Billing Month", readonly=True)
    file_currency_id = fields.Many2one(
        "res.currency", string="File Currency", readonly=True
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    close_status = fields.Selection(CLOSE_STATUSES, string="Month close", readonly=True)
    row_count = fields.Integer(string="Rows", readonly=True)
    quantity = fields.Float(readonly=True)
    cost_subtotal = fields.Monetary(
        string="Cost Subtotal", currency_field="file_currency_id", readonly=True
    )
    cost_subtotal_company = fields.Monetary(
        string="Cost (company currency)",
        currency_field="company_currency_id",
        readonly=True,
    )
    price_subtotal_company = fields.Monetary(
        string="Billed (company currency)",
        currency_field="company_currency_id",
        readonly=True,
        help="What the rows bill to resellers: billed rows, and rows to bill.",
    )
    margin_company = fields.Monetary(
        string="Margin", currency_field="company_currency_id", readonly=True
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE VIEW {self._table} AS (
                SELECT MIN(line.id) AS id,
                       line.import_id,
                       line.company_id,
                       line.period_date,
                       COALESCE(line.file_currency_id, company.currency_id)
                           AS file_currency_id,
                       line.close_status,
                       COUNT(*) AS row_count,
                       SUM(line.quantity) AS quantity,
                       SUM(line.cost_subtotal) AS cost_subtotal,
                       SUM(line.cost_subtotal_company) AS cost_subtotal_company,
                       SUM(CASE WHEN line.close_status IN %s
                                THEN line.price_subtotal_company ELSE 0 END)
                           AS price_subtotal_company,
                       SUM(line.margin_company) AS margin_company
                  FROM sophos_ppu_import_line line
                  JOIN res_company company ON company.id = line.company_id
              GROUP BY line.import_id, line.company_id, line.period_date,
                       COALESCE(line.file_currency_id, company.currency_id),
                       line.close_status
            )
            """,
            [BILLABLE],
        )

    def action_view_rows(self):
        """The rows behind this figure."""
        self.ensure_one()
        action = self.import_id.action_view_lines()
        currencies = [self.file_currency_id.id]
        if self.file_currency_id == self.company_currency_id:
            currencies.append(False)  # rows of an unknown currency count here
        action["domain"] += [
            ("close_status", "=", self.close_status),
            ("file_currency_id", "in", currencies),
        ]
        return action
