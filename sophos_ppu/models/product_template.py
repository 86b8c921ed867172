# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    ppu_ok = fields.Boolean(
        string="Pay-per-use (billed on consumption)",
        help="Sold at price 0 in the shop and invoiced every month from the "
        "Sophos consumption file, at the reseller's pricelist rules applied to "
        "the file's Unit MSRP (Sales Price) and Unit Price (Cost).",
    )
