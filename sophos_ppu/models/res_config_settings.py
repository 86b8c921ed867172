# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models

from odoo.addons.sophos_ppu.core import Limits

DEFAULT_LIMITS = Limits()


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ppu_ops_partner_ids = fields.Many2many(
        related="company_id.ppu_ops_partner_ids", readonly=False
    )
    ppu_vendor_id = fields.Many2one(related="company_id.ppu_vendor_id", readonly=False)
    ppu_cost_product_id = fields.Many2one(
        related="company_id.ppu_cost_product_id", readonly=False
    )
    ppu_cost_account_id = fields.Many2one(
        related="company_id.ppu_cost_account_id", readonly=False
    )
    # Consumption files beyond these are refused before any reader sees them.
    ppu_max_file_mb = fields.Integer(
        string="Largest consumption file (MB)",
        config_parameter="sophos_ppu.max_file_mb",
        default=DEFAULT_LIMITS.max_file_bytes // 1_000_000,
    )
    ppu_max_rows = fields.Integer(
        string="Most rows in a consumption file",
        config_parameter="sophos_ppu.max_rows",
        default=DEFAULT_LIMITS.max_rows,
    )
    ppu_max_cell_chars = fields.Integer(
        string="Longest cell (characters)",
        config_parameter="sophos_ppu.max_cell_chars",
        default=DEFAULT_LIMITS.max_cell_chars,
    )
