# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.tests import HttpCase, tagged

from .common import PpuCommon


@tagged("post_install", "-at_install")
class TestPpuShopTour(PpuCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website = cls.env["website"].get_current_website()
        cls.website.pricelist_ids = [Command.link(cls.pricelist_discount.id)]
        # Only the PPU service on the shop: a deterministic grid.
        cls.env["product.template"].search(
            [("is_published", "=", True), ("ppu_ok", "=", False)]
        ).is_published = False

    def test_reseller_orders_for_one_end_customer_without_payment(self):
        self.start_tour("/shop", "sophos_ppu_shop_tour", login="reseller")

        order = self.env["sale.order"].search(
            [("partner_id", "=", self.reseller_contact.id)]
        )
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.amount_total, 0.0)
        self.assertEqual(order.order_line.product_id, self.product)
        self.assertEqual(order.order_line.product_uom_qty, 1.0)
        self.assertRecordValues(
            order,
            [
                {
                    "ppu_contact_name": "Hank Scorpio",
                    "ppu_contact_email": "hank@globex.example.com",
                    "ppu_contact_phone": "+1 555 0199",
                    "ppu_country_id": self.env.ref("base.us").id,
                    "ppu_end_user_identifier": "8f3c2a10-globex",
                }
            ],
        )
        end_customer = order.ppu_end_customer_id
        self.assertEqual(end_customer.name, "Globex Corporation")
        self.assertNotEqual(end_customer, self.end_customer)  # new to this reseller

        subscription = order.ppu_subscription_ids
        self.assertRecordValues(
            subscription,
            [
                {
                    "name": "Globex Corporation - Sophos CyberSecurity",
                    "partner_id": self.reseller.id,
                    "end_customer_id": end_customer.id,
                    "end_user_identifier": "8f3c2a10-globex",
                    "sale_line_id": order.order_line.id,
                    "pricelist_id": order.pricelist_id.id,
                    "state": "active",
                }
            ],
        )

        ops_mail = self.env["mail.mail"].search(
            [("subject", "=like", f"PPU order {order.name}:%")]
        )
        self.assertEqual(len(ops_mail), 1)
        self.assertEqual(ops_mail.recipient_ids, self.ops)
        for text in ("Acme IT Services", "Hank Scorpio", "SOPHOS-PPU"):
            self.assertIn(text, ops_mail.body_html)

        confirmation = order.message_ids.filtered(
            lambda message: self.reseller_contact in message.partner_ids
        )
        self.assertEqual(len(confirmation), 1)
        self.assertIn(order.name, confirmation.subject)

    def test_visitor_is_asked_to_log_in_on_the_product_page(self):
        response = self.url_open(self.product.product_tmpl_id.website_url)
        self.assertEqual(response.status_code, 200)
        self.assertIn('id="ppu_login_to_order"', response.text)
        self.assertNotIn('id="add_to_cart"', response.text)

    def test_visitor_cannot_put_the_service_in_a_cart(self):
        public_product = self.product.with_user(self.env.ref("base.public_user"))
        self.assertFalse(public_product._is_add_to_cart_allowed())
