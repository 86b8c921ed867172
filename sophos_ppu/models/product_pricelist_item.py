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

from odoo import api, fields, models
from odoo.tools import format_amount

PPU_PRICE_BASES = ("list_price", "standard_price")


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    ppu_billing_note = fields.Char(
        string="Pay-per-use billing",
        compute="_compute_ppu_billing_note",
        help="What this rule bills for pay-per-use products, from the Sophos "
        "consumption file. At order time pay-per-use products always cost 0.",
    )

    @api.depends_context("lang")
    @api.depends(
        "applied_on",
        "categ_id",
        "product_tmpl_id",
        "product_id",
        "compute_price",
        "base",
        "base_pricelist_id",
        "fixed_price",
        "percent_price",
        "price_discount",
        "price_markup",
        "price_surcharge",
        "price_round",
        "price_min_margin",
        "price_max_margin",
    )
    def _compute_ppu_billing_note(self):
        ppu_templates = (
            self.env["product.template"]
            .with_context(active_test=False)
            .search([("ppu_ok", "=", True)])
        )
        for item in self:
            if item._ppu_reaches(ppu_templates):
                item.ppu_billing_note = item._ppu_describe()
            else:
                item.ppu_billing_note = False

    def _ppu_reaches(self, ppu_templates):
        """Whether this rule can apply to one of ``ppu_templates``."""
        self.ensure_one()
        if self.applied_on == "3_global":
            return bool(ppu_templates)
        if self.applied_on == "2_product_category":
            categories = ppu_templates.categ_id
            return any(
                category.parent_path.startswith(self.categ_id.parent_path)
                for category in categories
            )
        if self.applied_on == "1_product":
            return bool(self.product_tmpl_id.ppu_ok)
        return bool(self.product_id.ppu_ok)

    def _ppu_describe(self):
        """Plain words for what this rule bills for a consumption row."""
        self.ensure_one()
        _ = self.env._
        if self.compute_price == "fixed":
            return _(
                "Fixed %(price)s per unit, whatever the file says",
                price=format_amount(self.env, self.fixed_price, self.currency_id),
            )
        if self.base == "pricelist" and self.base_pricelist_id:
            return _(
                "Computed from pricelist %(pricelist)s",
                pricelist=self.base_pricelist_id.display_name,
            )
        if self.compute_price == "percentage":
            return _(
                "%(percent)s %% off the file's Unit MSRP",
                percent=self._get_integer(self.percent_price),
            )
        if self.base == "standard_price":
            note = _(
                "%(percent)s %% markup on the file's Unit Price (cost)",
                percent=self._get_integer(self.price_markup),
            )
        elif self.price_discount:
            note = _(
                "%(percent)s %% off the file's Unit MSRP",
                percent=self._get_integer(self.price_discount),
            )
        else:
            note = _("The file's Unit MSRP")
        if self.price_surcharge:
            note = _(
                "%(note)s %(sign)s %(surcharge)s per unit",
                note=note,
                sign="+" if self.price_surcharge > 0 else "-",
                surcharge=format_amount(
                    self.env, abs(self.price_surcharge), self.currency_id
                ),
            )
        return note

    def _compute_price(self, product, quantity, uom, date, currency=None):
        if product.ppu_ok and "ppu_prices" not in self.env.context:
            return 0.0
        return super()._compute_price(product, quantity, uom, date, currency=currency)

    def _compute_price_before_discount(self, *args, **kwargs):
        # Nothing to strike through: at order time the price *is* 0.
        product = kwargs.get("product") or (args[0] if args else None)
        if product and product.ppu_ok and "ppu_prices" not in self.env.context:
            return 0.0
        return super()._compute_price_before_discount(*args, **kwargs)

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
