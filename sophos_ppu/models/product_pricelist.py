# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import api, models
from odoo.tools import frozendict


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

    def _get_applicable_rules(self, products, date, **kwargs):
        """The rules ``_ppu_applicable_rules`` looked up beforehand, when the
        context carries them (``ppu_applicable_rules``): billing a file
        evaluates the same rules for thousands of row prices."""
        prefetched = self.env.context.get("ppu_applicable_rules")
        if prefetched and not kwargs and len(self) == 1 and len(products) == 1:
            rule_ids = prefetched.get((self.id, products._name, products.id, date))
            if rule_ids is not None:
                return self.env["product.pricelist.item"].browse(rule_ids)
        return super()._get_applicable_rules(products, date, **kwargs)

    @api.model
    def _ppu_applicable_rules(self, pairs, date):
        """What ``_get_applicable_rules`` gives each (pricelist id, product id)
        of ``pairs`` on ``date``, in one search per product when the
        pricelists' domains differ by their pricelist only (else one search
        per pricelist), with the rules' fields read.

        :returns: frozendict {(pricelist id, 'product.product', product id,
            date): rule ids in the order the pricelist applies them}, for the
            context key ``ppu_applicable_rules``
        """
        Item = self.env["product.pricelist.item"].with_context(active_test=False)
        by_product = defaultdict(set)
        for pricelist_id, product_id in pairs:
            by_product[product_id].add(pricelist_id)
        found = {}
        for product_id, pricelist_ids in by_product.items():
            product = self.env["product.product"].browse(product_id)
            pricelists = self.browse(sorted(pricelist_ids))
            domains = {
                pricelist.id: list(
                    pricelist._get_applicable_rules_domain(products=product, date=date)
                )
                for pricelist in pricelists
            }
            rest = domains[pricelists[0].id][1:]
            rules = defaultdict(list)
            if all(
                domain[0] == ("pricelist_id", "=", pricelist_id) and domain[1:] == rest
                for pricelist_id, domain in domains.items()
            ):
                items = Item.search([("pricelist_id", "in", pricelists.ids), *rest])
                for item in items:
                    rules[item.pricelist_id.id].append(item.id)
            else:
                for pricelist in pricelists:
                    rules[pricelist.id] = pricelist._get_applicable_rules(
                        product, date
                    ).ids
            for pricelist_id in pricelist_ids:
                key = (pricelist_id, product._name, product_id, date)
                found[key] = tuple(rules[pricelist_id])
        return frozendict(found)
