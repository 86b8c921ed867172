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

    def _get_additionnal_combination_info(
        self, product_or_template, quantity, date, website
    ):
        """Shop: a PPU product shows no price to compare with (no strike-through)."""
        info = super()._get_additionnal_combination_info(
            product_or_template, quantity, date, website
        )
        if product_or_template.ppu_ok:
            info.update(
                compare_list_price=None,
                has_discounted_price=False,
                list_price=info["price"],
                ppu_ok=True,
            )
        return info

    def _get_sales_prices(self, website):
        prices = super()._get_sales_prices(website)
        for template in self.filtered("ppu_ok"):
            prices[template.id].pop("base_price", None)
        return prices
