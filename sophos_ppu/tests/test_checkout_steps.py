# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The checkout of a PPU cart: its End customer step in website_sale's
progress bar, the reseller's own end customers offered and nobody else's,
one unit per order, and the confirmation page."""

import re

from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.website.tools import MockRequest

from .common import PpuCommon


class PpuShopCommon(PpuCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website = cls.env["website"].get_current_website()
        cls.website.pricelist_ids = [Command.link(cls.pricelist_discount.id)]

    @classmethod
    def _confirmed_order(cls, partner, end_customer, **values):
        """A previous shop order of ``partner`` for ``end_customer``."""
        order = cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "pricelist_id": cls.pricelist_discount.id,
                "order_line": [Command.create({"product_id": cls.product.id})],
                "ppu_end_customer_id": end_customer.id,
                **values,
            }
        )
        order.action_confirm()
        return order


@tagged("post_install", "-at_install")
class TestPpuCheckoutStepList(PpuShopCommon):
    def _step_names(self, products):
        order = self._create_order(products, end_customer=False)
        order.website_id = self.website
        env = self.env(user=self.reseller_user)
        with MockRequest(
            env, website=self.website.with_env(env), sale_order_id=order.id
        ):
            steps = self.website.with_env(env)._get_checkout_step_list()
            # Lazy translations are rendered within the request.
            steps = [
                (xmlids, {key: str(value) for key, value in values.items()})
                for xmlids, values in steps
            ]
        return [values["name"] for _xmlids, values in steps], steps

    def test_ppu_cart_has_an_end_customer_step_and_nothing_delivered_or_paid(self):
        names, steps = self._step_names(self.product)
        self.assertEqual(names, ["Review Order", "End customer", "Confirm"])
        self.assertEqual(steps[1][0], ["sophos_ppu.ppu_end_customer"])
        self.assertEqual(steps[1][1]["current_href"], "/shop/ppu_end_customer")
        self.assertEqual(steps[2][1]["back_button_href"], "/shop/ppu_end_customer")
        self.assertEqual(steps[2][1]["back_button"], "Back to end customer")

    def test_cart_with_a_delivered_product_keeps_delivery_before_end_customer(self):
        names, steps = self._step_names(self.product | self.normal_product)
        self.assertEqual(names, ["Review Order", "Delivery", "End customer", "Payment"])
        self.assertEqual(steps[1][1]["main_button_href"], "/shop/ppu_end_customer")

    def test_cart_without_ppu_keeps_the_steps_of_website_sale(self):
        names, _steps = self._step_names(self.normal_product)
        self.assertEqual(names, ["Review Order", "Delivery", "Payment"])

    def test_known_end_customers_are_the_resellers_own(self):
        helios = self.env["res.partner"].create(
            {"name": "Helios BV", "is_company": True}
        )
        theirs = self.env["res.partner"].create({"name": "Rival Customer"})
        rival = self.env["res.partner"].create(
            {"name": "Rival Networks", "is_company": True}
        )
        self._confirmed_order(self.reseller_contact, helios, ppu_contact_name="Anna")
        self._confirmed_order(rival, theirs)
        draft = self._create_order(end_customer=False)
        self.assertEqual(draft._ppu_known_end_customers(), helios)
        values = draft._ppu_known_end_customer_values()
        self.assertEqual(
            [(v["id"], v["company_name"], v["contact_name"]) for v in values],
            [(helios.id, "Helios BV", "Anna")],
        )
        self.assertTrue(
            draft._ppu_end_customer_errors({"end_customer_id": str(theirs.id)})
        )


@tagged("post_install", "-at_install")
class TestPpuCheckoutPages(PpuShopCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.helios = cls.env["res.partner"].create(
            {
                "name": "Helios BV",
                "is_company": True,
                "country_id": cls.env.ref("base.nl").id,
            }
        )
        cls._confirmed_order(
            cls.reseller_contact,
            cls.helios,
            ppu_contact_name="Anna de Vries",
            ppu_contact_email="anna@helios.example.com",
            ppu_country_id=cls.env.ref("base.nl").id,
            ppu_end_user_identifier="EU-HELIOS-1",
        )
        cls.rival = cls.env["res.partner"].create(
            {"name": "Rival Networks", "is_company": True}
        )
        cls.rival_customer = cls.env["res.partner"].create(
            {"name": "Rival Customer", "is_company": True}
        )
        cls._confirmed_order(cls.rival, cls.rival_customer)
        # Only the PPU service on the shop: a deterministic grid.
        cls.env["product.template"].search(
            [("is_published", "=", True), ("ppu_ok", "=", False)]
        ).is_published = False

    def _add_to_cart(self):
        self.authenticate("reseller", "reseller")
        self.make_jsonrpc_request(
            "/shop/cart/update_json", {"product_id": self.product.id, "add_qty": 1}
        )

    def _cart(self):
        return self.env["sale.order"].search(
            [("partner_id", "=", self.reseller_contact.id), ("state", "=", "draft")]
        )

    def _post(self, **values):
        page = self.url_open("/shop/ppu_end_customer").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.url_open(
            "/shop/ppu_end_customer", data={"csrf_token": token, **values}
        )

    def test_product_page_has_no_quantity_input(self):
        self.authenticate("reseller", "reseller")
        text = self.url_open(self.product.product_tmpl_id.website_url).text
        self.assertIn('id="add_to_cart"', text)
        self.assertNotIn('name="add_qty"', text)
        self.assertNotIn("css_quantity", text)
        self.assertNotIn("Shipping: 2-3 Business Days", text)

    def test_product_page_of_another_product_keeps_its_quantity_input(self):
        self.normal_product.product_tmpl_id.is_published = True
        self.authenticate("reseller", "reseller")
        text = self.url_open(self.normal_product.product_tmpl_id.website_url).text
        self.assertIn('name="add_qty"', text)

    def test_adding_the_service_twice_warns_once_without_its_reference(self):
        self._add_to_cart()
        result = self.make_jsonrpc_request(
            "/shop/cart/update_json",
            {"product_id": self.product.id, "add_qty": 1, "display": True},
        )
        self.assertEqual(result["quantity"], 1)
        warning = result["notification_info"]["warning"]
        self.assertIn("Sophos CyberSecurity is ordered for one end customer", warning)
        self.assertNotIn("[", warning)
        self.assertNotIn(
            "one end customer per order", result["website_sale.cart_lines"]
        )
        self.assertNotIn("js_add_cart_json", result["website_sale.cart_lines"])

    def test_end_customer_page_shows_the_steps_the_summary_and_own_customers(self):
        self._add_to_cart()
        text = self.url_open("/shop/ppu_end_customer").text
        self.assertIn("o_wizard_step_active", text)
        self.assertRegex(text, r"o_wizard_step_active[^<]*>\s*<p[^>]*>\s*End customer")
        self.assertIn('id="o_wsale_total_accordion"', text)
        self.assertIn('name="end_customer_id"', text)
        self.assertIn("Helios BV", text)
        self.assertNotIn("Rival Customer", text)
        self.assertNotIn(
            "Delivery",
            re.search(r'class="o_wizard.*?</div>\s*</div>', text, re.S).group(0),
        )

    def test_forged_end_customer_id_is_a_form_error(self):
        self._add_to_cart()
        response = self._post(
            end_customer_id=str(self.rival_customer.id),
            company_name="Rival Customer",
            contact_name="Eve",
            email="eve@example.com",
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn('id="ppu_end_customer_errors"', response.text)
        self.assertIn("Choose the end customer from the list", response.text)
        self.assertFalse(self._cart().ppu_end_customer_id)

    def test_chosen_end_customer_is_reused_whatever_name_is_typed(self):
        self._add_to_cart()
        response = self._post(
            end_customer_id=str(self.helios.id),
            company_name="Helios B.V.",
            contact_name="Anna de Vries",
            email="anna@helios.example.com",
        )
        self.assertEqual(response.status_code, 200)
        self.assertNotIn('id="ppu_end_customer_errors"', response.text)
        self.assertEqual(self._cart().ppu_end_customer_id, self.helios)

    def test_portal_order_shows_the_end_customer_and_no_payment_noise(self):
        order = self.env["sale.order"].search(
            [("ppu_end_customer_id", "=", self.helios.id)], limit=1
        )
        order.payment_term_id = self.env.ref("account.account_payment_term_immediate")
        self.authenticate("reseller", "reseller")
        text = self.url_open(order.get_portal_url()).text
        self.assertIn('id="ppu_end_customer_info"', text)
        self.assertIn("Helios BV", text)
        self.assertIn("EU-HELIOS-1", text)
        self.assertIn('id="ppu_portal_billing_note"', text)
        self.assertNotIn("Payment terms", text)

    def test_reseller_checks_out_choosing_an_existing_end_customer(self):
        partners_before = self.env["res.partner"].search_count([])
        self.start_tour(
            "/shop", "sophos_ppu_checkout_existing_end_customer_tour", login="reseller"
        )
        order = self.env["sale.order"].search(
            [("partner_id", "=", self.reseller_contact.id)], order="id desc", limit=1
        )
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.ppu_end_customer_id, self.helios)
        self.assertRecordValues(
            order,
            [
                {
                    "ppu_contact_name": "Anna de Vries",
                    "ppu_contact_email": "anna@helios.example.com",
                    "ppu_end_user_identifier": "EU-HELIOS-1",
                }
            ],
        )
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)
        self.assertEqual(order.ppu_subscription_ids.end_customer_id, self.helios)
