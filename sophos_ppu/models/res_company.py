# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ppu_ops_partner_ids = fields.Many2many(
        "res.partner",
        "res_company_ppu_ops_partner_rel",
        "company_id",
        "partner_id",
        string="PPU Operations Recipients",
        help="Contacts (or users' contacts) who receive the e-mail of every "
        "pay-per-use order and the summary of every consumption import.",
    )
