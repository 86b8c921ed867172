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
    # The month close: Sophos's bill made from the consumption file.
    ppu_vendor_id = fields.Many2one(
        "res.partner",
        string="Sophos (vendor)",
        help="The vendor of the bills made from the consumption files.",
    )
    ppu_cost_product_id = fields.Many2one(
        "product.product",
        string="Sophos cost product",
        help="The product of the lines of Sophos's bills: its expense account "
        "and purchase taxes apply.",
    )
    ppu_cost_account_id = fields.Many2one(
        "account.account",
        string="Sophos cost account",
        check_company=True,
        help="The expense account of Sophos's bills, instead of the product's.",
    )
