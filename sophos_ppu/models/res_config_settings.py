# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ppu_ops_partner_ids = fields.Many2many(
        related="company_id.ppu_ops_partner_ids", readonly=False
    )
