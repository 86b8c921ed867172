# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from ..tools.billing_guard import refuse_untrusted
from .account_move import PPU_STAFF

#: The links from an invoice line to the consumption it bills.
PPU_LINKS = {"ppu_import_line_id", "ppu_subscription_id"}


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    ppu_import_line_id = fields.Many2one(
        "sophos.ppu.import.line",
        string="Consumption Row",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        readonly=True,
        # Its name is the batch and the file's row: staff only, never portal.
        groups=PPU_STAFF,
    )
    ppu_subscription_id = fields.Many2one(
        "sophos.ppu.subscription",
        string="PPU Subscription",
        index="btree_not_null",
        copy=False,
        readonly=True,
    )

    @api.model_create_multi
    def create(self, vals_list):
        refuse_untrusted(
            self, PPU_LINKS & {name for vals in vals_list for name in vals}
        )
        return super().create(vals_list)

    def write(self, vals):
        refuse_untrusted(self, PPU_LINKS & set(vals))
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
