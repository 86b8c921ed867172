# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class ProductPricelist(models.Model):
    _inherit = "product.pricelist"

    def _ppu_compute_price_rule(
        self, product, quantity, unit_msrp, unit_cost, currency, date
    ):
        """Bill a consumption row: evaluate this pricelist's own rules for a PPU
        product whose Sales Price is ``unit_msrp`` and Cost is ``unit_cost``
        (both in ``currency``), on ``date``.

        :returns: (unit price in the pricelist currency, matched rule or an
            empty recordset when no rule of this pricelist reaches the product)
        """
        self.ensure_one()
        ppu_prices = {
            "list_price": float(unit_msrp),
            "standard_price": float(unit_cost),
            "currency_id": currency.id,
        }
        result = self.with_context(ppu_prices=ppu_prices)._compute_price_rule(
            product, quantity, date=date
        )
        price, rule_id = result[product.id]
        return price, self.env["product.pricelist.item"].browse(rule_id)
