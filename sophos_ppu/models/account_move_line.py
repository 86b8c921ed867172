# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    ppu_import_line_id = fields.Many2one(
        "sophos.ppu.import.line",
        string="Consumption Row",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        readonly=True,
    )
    ppu_subscription_id = fields.Many2one(
        "sophos.ppu.subscription",
        string="PPU Subscription",
        index="btree_not_null",
        copy=False,
        readonly=True,
    )

    def write(self, vals):
        if (
            vals.keys() == {"partner_id"}
            and self.env.context.get("ppu_create_invoices")
            and all(line.partner_id.id == vals["partner_id"] for line in self)
        ):
            # account.move.create() sets the commercial partner of the new
            # invoices on their lines, which carry it already: Odoo's write
            # would change nothing but snapshot every line before and after.
            return True
        return super().write(vals)
