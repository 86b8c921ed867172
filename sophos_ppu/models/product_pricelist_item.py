# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Pricelist rules applied to pay-per-use products.

At order time a PPU product costs 0, whatever the rules say: the service is
billed in arrears. At billing time the reseller's own rules are evaluated with
the consumption row's prices as the product's prices, passed in the context
by :meth:`ProductPricelist._ppu_compute_price_rule`::

    ppu_prices = {"list_price": unit_msrp, "standard_price": unit_price,
                  "currency_id": id of the currency of those prices}

so "Discount 10 %" bills MSRP x 0.9 and "Markup 15 % on Cost" bills
cost x 1.15, with rounding, surcharge, margins, dates and min. quantity as
Odoo computes them.
"""

from odoo import models

PPU_PRICE_BASES = ("list_price", "standard_price")


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    def _compute_price(self, product, quantity, uom, date, currency=None):
        if product.ppu_ok and "ppu_prices" not in self.env.context:
            return 0.0
        return super()._compute_price(product, quantity, uom, date, currency=currency)

    def _compute_base_price(self, product, quantity, uom, date, currency):
        ppu_prices = self.env.context.get("ppu_prices")
        rule_base = self.base or "list_price"
        if not (ppu_prices and product.ppu_ok and rule_base in PPU_PRICE_BASES):
            return super()._compute_base_price(product, quantity, uom, date, currency)
        price = ppu_prices[rule_base]
        if product.uom_id != uom:
            price = product.uom_id._compute_price(price, uom)
        src_currency = self.env["res.currency"].browse(ppu_prices["currency_id"])
        if src_currency != currency:
            price = src_currency._convert(
                price, currency, self.env.company, date, round=False
            )
        return price
