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

    ppu_rule_count = fields.Integer(
        string="Billing Rules", compute="_compute_ppu_rule_count"
    )

    def _ppu_rule_domain(self):
        """Rules of active pricelists that reach this product: on all
        products, its category (or a parent), itself or one of its variants.
        Odoo's own "Pricelists" button counts only fixed prices set on the
        product, which PPU billing does not use."""
        self.ensure_one()
        return [
            ("pricelist_id.active", "=", True),
            "|",
            "|",
            "|",
            ("applied_on", "=", "3_global"),
            "&",
            ("applied_on", "=", "2_product_category"),
            ("categ_id", "parent_of", self.categ_id.id),
            "&",
            ("applied_on", "=", "1_product"),
            ("product_tmpl_id", "=", self.id),
            "&",
            ("applied_on", "=", "0_product_variant"),
            ("product_id", "in", self.product_variant_ids.ids),
        ]

    def _compute_ppu_rule_count(self):
        Item = self.env["product.pricelist.item"]
        for template in self:
            template.ppu_rule_count = (
                Item.search_count(template._ppu_rule_domain())
                if template.ppu_ok and template.id
                else 0
            )

    def action_ppu_view_rules(self):
        """The pricelist rules that bill this pay-per-use product."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Billing rules of %(product)s", product=self.name),
            "res_model": "product.pricelist.item",
            "views": [(False, "list"), (False, "form")],
            "domain": self._ppu_rule_domain(),
            "context": {"default_product_tmpl_id": self.id},
        }

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
