# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged
from odoo.tools import format_amount

from .common import PpuCommon


@tagged("post_install", "-at_install")
class TestPpuPricing(PpuCommon):
    """At order time a PPU product costs 0 under every pricelist; the same
    rules price a normal product, so the 0 is not an accident of the setup."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Show pricelist discounts on lines: the strike-through path is active.
        cls.env.ref("base.group_user").implied_ids += cls.env.ref(
            "sale.group_discount_per_so_line"
        )
        cls.pricelists = (
            cls.pricelist_discount | cls.pricelist_markup | cls.pricelist_surcharge
        )

    def test_normal_product_follows_the_rules(self):
        expected = {
            self.pricelist_discount: (90.00, 10.0),  # 100 USD - 10 %, shown as discount
            # Cost 60 USD at 2 EUR/USD = 120 EUR, + 15 % = 138 EUR.
            self.pricelist_markup: (138.00, 0.0),
            # MSRP 100 USD = 200 EUR, + 5 = 205, below the minimum margin of
            # 20 over 200: 220 EUR (the maximum margin, 250, is not reached).
            self.pricelist_surcharge: (220.00, 0.0),
        }
        for pricelist, (total, discount) in expected.items():
            with self.subTest(pricelist=pricelist.name):
                order = self._create_order(self.normal_product, pricelist)
                self.assertEqual(order.currency_id, pricelist.currency_id)
                self.assertAlmostEqual(order.amount_untaxed, total, places=2)
                self.assertAlmostEqual(order.order_line.discount, discount, places=2)

    def test_ppu_line_costs_zero_without_discount_under_every_pricelist(self):
        for pricelist in self.pricelists:
            with self.subTest(pricelist=pricelist.name):
                order = self._create_order(self.product, pricelist)
                line = order.order_line
                self.assertEqual(line.currency_id, pricelist.currency_id)
                self.assertEqual(line.price_unit, 0.0)
                self.assertEqual(line.discount, 0.0)
                self.assertEqual(order.amount_total, 0.0)

    def test_ppu_line_stays_zero_when_quantity_changes(self):
        order = self._create_order(self.product, self.pricelist_markup)
        order.order_line.product_uom_qty = 3
        self.assertEqual(order.order_line.price_unit, 0.0)
        self.assertEqual(order.amount_total, 0.0)

    def test_ppu_price_is_zero_with_a_rule_on_the_product_itself(self):
        pricelist = self._create_pricelist(
            "Fixed price on PPU",
            self.eur,
            {"compute_price": "fixed", "fixed_price": 42.0},
        )
        pricelist.item_ids.write(
            {
                "applied_on": "1_product",
                "product_tmpl_id": self.product.product_tmpl_id.id,
            }
        )
        self.assertEqual(pricelist._get_product_price(self.product, 1.0), 0.0)

    def test_shop_shows_zero_without_strike_through_under_every_pricelist(self):
        self.product.compare_list_price = 150.0
        self.env.ref("base.group_user").implied_ids += self.env.ref(
            "website_sale.group_product_price_comparison"
        )
        self.env["product.pricelist"].search([]).action_archive()
        for pricelist in self.pricelists:
            with self.subTest(pricelist=pricelist.name):
                pricelist.action_unarchive()  # the website's only pricelist
                website = self.env["website"].create(
                    {
                        "name": pricelist.name,
                        "company_id": self.company.id,
                    }
                )
                pricelist.website_id = website
                template = self.product.product_tmpl_id.with_context(
                    website_id=website.id
                )
                info = template._get_combination_info()
                self.assertEqual(website.currency_id, pricelist.currency_id)
                self.assertEqual(info["price"], 0.0)
                self.assertEqual(info["list_price"], 0.0)
                self.assertFalse(info["has_discounted_price"])
                self.assertFalse(info["compare_list_price"])
                prices = template._get_sales_prices(website)[template.id]
                self.assertEqual(prices["price_reduce"], 0.0)
                self.assertNotIn("base_price", prices)
                pricelist.action_archive()

    def test_billing_still_applies_the_rules_to_the_file_prices(self):
        price, rule = self.pricelist_discount._ppu_compute_price_rule(
            self.product, 1.0, 200.0, 150.0, self.usd, "2026-10-31"
        )
        self.assertAlmostEqual(price, 180.00, places=2)
        self.assertEqual(rule, self.pricelist_discount.item_ids)


@tagged("post_install", "-at_install")
class TestPpuPricelistForm(PpuCommon):
    def test_discount_rule_says_it_takes_off_the_msrp(self):
        self.assertEqual(
            self.pricelist_discount.item_ids.ppu_billing_note,
            "10 % off the file's Unit MSRP",
        )

    def test_markup_rule_says_it_adds_to_the_unit_price(self):
        self.assertEqual(
            self.pricelist_markup.item_ids.ppu_billing_note,
            "15 % markup on the file's Unit Price (cost)",
        )

    def test_surcharge_rule_mentions_the_surcharge(self):
        five_euros = format_amount(self.env, 5.0, self.eur)
        self.assertEqual(
            self.pricelist_surcharge.item_ids.ppu_billing_note,
            f"The file's Unit MSRP + {five_euros} per unit",
        )

    def test_rule_on_another_category_does_not_reach_ppu(self):
        category = self.env["product.category"].create({"name": "Hardware"})
        item = self.pricelist_discount.item_ids
        item.write({"applied_on": "2_product_category", "categ_id": category.id})
        self.assertFalse(item.ppu_billing_note)
