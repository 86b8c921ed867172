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
