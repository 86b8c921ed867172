# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportPricing(PpuImportCommon):
    def assertPriced(self, identifier, price_unit, subtotal, quantity=1, **row):
        batch = self.import_rows([self.row(identifier, quantity=quantity, **row)])
        line = batch.line_ids
        self.assertEqual(line.state, "ok", line.message)
        self.assertAlmostEqual(line.price_unit, price_unit, places=6)
        self.assertAlmostEqual(line.price_subtotal, subtotal, places=2)
        return line

    def test_discount_reseller_pays_msrp_less_10_percent(self):
        line = self.assertPriced("EU-discount", 4.50, 31.50, quantity=7)
        self.assertEqual(line.pricelist_item_id, self.pricelist_discount.item_ids)
        self.assertEqual((line.unit_msrp, line.unit_cost), (5.0, 3.2))

    def test_markup_reseller_pays_cost_plus_15_percent(self):
        line = self.assertPriced("EU-markup", 3.68, 36.80, quantity=10)
        self.assertEqual(line.pricelist_item_id, self.pricelist_markup.item_ids)

    def test_pricelist_in_another_currency_converts_the_file_prices(self):
        # 5.00 USD at 2 EUR/USD = 10.00 EUR, less 10 % = 9.00 EUR.
        line = self.assertPriced("EU-eur", 9.00, 27.00, quantity=3)
        self.assertEqual(line.currency_id, self.eur)
        self.assertEqual(line.file_currency_id, self.usd)

    def test_file_prices_in_the_pricelist_currency_are_not_converted(self):
        self.assertPriced("EU-eur", 4.50, 4.50, currency="EUR")

    def test_min_quantity_rule_applies_from_its_quantity(self):
        self.assertPriced("EU-volume", 4.00, 400.00, quantity=100)

    def test_below_min_quantity_the_next_rule_applies(self):
        self.assertPriced("EU-volume", 4.75, 470.25, quantity=99)

    def test_rule_rounding_and_surcharge_apply(self):
        # 5.12 less 3 % = 4.9664, rounded to 0.05 = 4.95, + 0.10 = 5.05
        self.assertPriced("EU-rounded", 5.05, 10.10, quantity=2, msrp="5.12")

    def test_unit_price_keeps_product_price_digits_and_subtotal_is_rounded(self):
        self.env.ref("product.decimal_price").digits = 4
        # 0.0333 x 1.15 = 0.038295 -> 0.0383; x 7 = 0.2681 -> 0.27
        self.assertPriced("EU-markup", 0.0383, 0.27, quantity=7, cost="0.0333")

    def test_pricelist_without_rule_for_the_product_is_an_error(self):
        batch = self.import_rows([self.row("EU-norule", quantity=4)])
        line = batch.line_ids
        self.assertEqual(line.state, "error")
        self.assertEqual(
            line.message,
            "Pricelist Resellers other products has no rule for "
            "Sophos CyberSecurity.",
        )
        self.assertEqual((line.price_unit, line.price_subtotal), (0.0, 0.0))

    def test_same_prices_and_bracket_share_one_pricelist_evaluation(self):
        rows = [self.row("EU-volume", quantity=q) for q in (1, 2, 3, 150, 160)]
        rows = [dict(row, SKU=f"S{i}") for i, row in enumerate(rows)]
        Pricelist = type(self.env["product.pricelist"])
        calls = []
        original = Pricelist._ppu_compute_price_rule

        def counting(pricelist, *args, **kwargs):
            calls.append(args[1])
            return original(pricelist, *args, **kwargs)

        self.patch(Pricelist, "_ppu_compute_price_rule", counting)
        batch = self.import_rows(rows)
        self.assertEqual(
            batch.line_ids.mapped("price_unit"), [4.75, 4.75, 4.75, 4.0, 4.0]
        )
        self.assertEqual(len(calls), 2)
