# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The demo story, on a database installed WITH demo data.

Not in the standard run (``-standard``): ``scripts/odoo_suite.py`` installs
without demo data for the addon's tests, then runs this class alone, tag
``sophos_ppu_demo``, in a second database installed with demo data.
"""

import unittest
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

from odoo.tests import HttpCase, TransactionCase, tagged

from odoo.addons.sophos_ppu.core.sample import DEMO_END_USERS, sample_rows

RESELLERS = (1, 2, 3)


def cents(*factors):
    """The product of ``factors`` (floats as written) rounded half up to the
    cent, as the pricelist rounds a unit price."""
    product = Decimal(1)
    for factor in factors:
        product *= Decimal(str(factor))
    return float(product.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@tagged("post_install", "-at_install", "-standard", "sophos_ppu_demo")
class TestDemo(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ref = cls.env.ref
        cls.posted = ref("sophos_ppu.demo_import_posted", raise_if_not_found=False)
        if not cls.posted:
            raise unittest.SkipTest("database installed without demo data")
        cls.to_check = ref("sophos_ppu.demo_import_to_check")
        cls.resellers = [ref(f"sophos_ppu.demo_reseller_{n}") for n in RESELLERS]
        cls.users = [ref(f"sophos_ppu.demo_user_reseller_{n}") for n in RESELLERS]

    def lines_of(self, batch, reseller):
        return batch.line_ids.filtered(lambda line: line.partner_id == reseller)

    def test_month_before_last_is_posted_one_invoice_per_reseller(self):
        self.assertEqual(self.posted.state, "invoiced")
        self.assertEqual(
            self.posted.period_date + relativedelta(months=1),
            self.to_check.period_date,
        )
        for reseller in self.resellers:
            invoice = self.posted.invoice_ids.filtered(
                lambda move, reseller=reseller: move.partner_id == reseller
            )
            lines = self.lines_of(self.posted, reseller)
            self.assertEqual(invoice.state, "posted")
            self.assertTrue(lines)
            self.assertEqual(set(lines.mapped("state")), {"ok"})
            self.assertTrue(all(lines.mapped("billed")))
            self.assertEqual(lines.invoice_line_id.move_id, invoice)
            self.assertEqual(
                invoice.currency_id, reseller.property_product_pricelist.currency_id
            )
            self.assertAlmostEqual(
                invoice.amount_untaxed, sum(lines.mapped("price_subtotal")), places=2
            )
        self.assertEqual(len(self.posted.invoice_ids), len(self.resellers))

    def test_month_before_last_reconciles_with_sophos_bill(self):
        bill = self.posted.vendor_bill_ids
        self.assertEqual(bill.state, "posted")
        self.assertEqual(bill.partner_id.name, "Sophos Ltd")
        self.assertAlmostEqual(
            bill.amount_untaxed, sum(self.posted.line_ids.mapped("cost_subtotal"))
        )
        self.assertEqual(self.posted.vendor_bill_difference, 0.0)
        self.assertAlmostEqual(self.posted.close_unbilled_cost_company, 0.0)
        below = self.posted.line_ids.filtered("below_cost")
        self.assertEqual(below.mapped("sku"), ["ZTNA-MSP"])
        self.assertEqual(below.end_customer_name, "Granite Peak Engineering")
        self.assertLess(below.margin_company, 0)

    def test_each_pricelist_shows_its_billing_rule(self):
        discount, markup, volume = self.resellers
        for line in self.lines_of(self.posted, discount):
            self.assertEqual(line.price_unit, cents(line.unit_msrp, 0.9))
        rate = self.env.ref("sophos_ppu.demo_currency_rate_eur").rate
        for line in self.lines_of(self.posted, markup):
            self.assertEqual(line.currency_id.name, "EUR")
            self.assertEqual(line.price_unit, cents(line.unit_cost, rate, 1.15))
        volume_lines = self.lines_of(self.posted, volume)
        for line in volume_lines:
            discount = 0.8 if line.quantity >= 100 else 0.95
            self.assertEqual(line.price_unit, cents(line.unit_msrp, discount))
        # Both brackets of the min. quantity rule are billed.
        self.assertEqual({line.quantity >= 100 for line in volume_lines}, {True, False})

    def test_subscriptions_come_from_confirmed_shop_orders(self):
        subscriptions = self.env["sophos.ppu.subscription"].search(
            [("partner_id", "in", [reseller.id for reseller in self.resellers])]
        )
        self.assertEqual(
            sorted(subscriptions.mapped("end_user_identifier")),
            sorted(end_user.identifier for end_user in DEMO_END_USERS),
        )
        orders = subscriptions.sale_order_id
        self.assertEqual(len(orders), len(DEMO_END_USERS))
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        self.assertTrue(all(orders.mapped("website_id")))
        self.assertEqual(sum(orders.mapped("amount_total")), 0.0)
        # Ordered without its identifier, learnt from the first file by name.
        bakery = subscriptions.filtered(
            lambda sub: sub.end_customer_id.name == "Maple Street Bakery"
        )
        self.assertFalse(bakery.sale_order_id.ppu_end_user_identifier)
        self.assertTrue(bakery.end_user_identifier)

    def test_last_month_checks_without_errors(self):
        self.to_check.action_check()
        self.assertEqual(self.to_check.state, "checked")
        self.assertEqual(self.to_check.error_count, 0)
        self.assertEqual(self.to_check.duplicate_count, 0)
        self.assertEqual(
            self.to_check.ok_count,
            len(sample_rows(DEMO_END_USERS, self.to_check.period_date)),
        )
        self.assertFalse(self.to_check.invoice_ids)

    def test_resellers_log_in_and_see_their_posted_invoice(self):
        for number, user, reseller in zip(
            RESELLERS, self.users, self.resellers, strict=True
        ):
            login = f"reseller{number}"
            self.assertEqual(user.login, login)
            self.assertTrue(user._is_portal())
            self.assertEqual(user.commercial_partner_id, reseller)
            user.with_user(user)._check_credentials(
                {"login": login, "password": login, "type": "password"},
                {"interactive": False},
            )
            invoices = (
                self.env["account.move"]
                .with_user(user)
                .search([("move_type", "=", "out_invoice")])
            )
            self.assertEqual(
                invoices,
                self.posted.invoice_ids.filtered(
                    lambda move, reseller=reseller: move.partner_id == reseller
                ),
            )


@tagged("post_install", "-at_install", "-standard", "sophos_ppu_demo")
class TestDemoShop(HttpCase):
    """The demo shop as visitors and resellers open it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.env.ref("sophos_ppu.demo_import_posted", raise_if_not_found=False):
            raise unittest.SkipTest("database installed without demo data")
        cls.product = cls.env.ref("sophos_ppu.product_sophos_cybersecurity")

    def test_visitors_see_no_reseller_pricelist(self):
        reseller_pricelists = [
            self.env.ref(f"sophos_ppu.demo_reseller_{n}").property_product_pricelist
            for n in RESELLERS
        ]
        for url in ("/shop", self.product.website_url):
            text = self.url_open(url).text
            for pricelist in reseller_pricelists:
                with self.subTest(url=url, pricelist=pricelist.name):
                    self.assertNotIn(pricelist.name, text)

    def test_reseller_checkout_goes_straight_to_the_end_customer_step(self):
        for number in RESELLERS:
            with self.subTest(reseller=number):
                self.authenticate(f"reseller{number}", f"reseller{number}")
                self.make_jsonrpc_request(
                    "/shop/cart/update_json",
                    {"product_id": self.product.product_variant_id.id, "add_qty": 1},
                )
                # The cart's Checkout button.
                response = self.url_open("/shop/checkout?try_skip_step=true")
                self.assertEqual(response.status_code, 200)
                self.assertTrue(response.url.endswith("/shop/ppu_end_customer"))
