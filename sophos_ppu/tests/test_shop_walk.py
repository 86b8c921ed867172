# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The shop pages a reseller walks through, over HTTP: the end-customer step
in the reseller's language, the confirm step telling that an end customer's
subscription continues, the confirmation page without payment status."""

import re

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools.translate import TranslationModuleReader

from .common import PpuCommon

LABELS_DE = {
    "Company name": "Firmenname",
    "Contact name": "Ansprechpartner",
    "E-mail": "E-Mail-Adresse",
    "Phone": "Telefon",
}


@tagged("post_install", "-at_install")
class TestPpuShopWalk(PpuCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website = cls.env["website"].get_current_website()
        cls.website.pricelist_ids = [Command.link(cls.pricelist_discount.id)]

    def setUp(self):
        super().setUp()
        self.authenticate("reseller", "reseller")
        self.make_jsonrpc_request(
            "/shop/cart/update_json", {"product_id": self.product.id, "add_qty": 1}
        )

    def _csrf_token(self, url):
        page = self.url_open(url).text
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def _post_end_customer(self, **overrides):
        token = self._csrf_token("/shop/ppu_end_customer")
        response = self.url_open(
            "/shop/ppu_end_customer",
            data={"csrf_token": token, **self._values(**overrides)},
        )
        self.assertNotIn('id="ppu_end_customer_errors"', response.text)

    def _confirm_order(self):
        """Press Confirm Order on the confirm step; the page it lands on."""
        token = self._csrf_token("/shop/payment")
        response = self.url_open("/shop/payment/validate", data={"csrf_token": token})
        self.assertEqual(response.status_code, 200)
        return response

    def test_confirmation_page_of_a_ppu_order_shows_no_payment_status(self):
        self._post_end_customer()
        response = self._confirm_order()
        self.assertTrue(response.url.endswith("/shop/confirmation"))
        self.assertIn('id="ppu_confirmation"', response.text)
        # website_sale's wrapper stays for the purchase tracking, empty.
        self.assertRegex(
            response.text, r'<div class="oe_website_sale_tx_status[^"]*"[^>]*>\s*</div>'
        )
        self.assertNotIn("bg-danger", response.text)

    def test_end_customer_step_labels_are_translated(self):
        # Odoo's exporter (make pot) finds them in the page's template...
        reader = TranslationModuleReader(self.env.cr, modules=["sophos_ppu"])
        exported = {
            source
            for _module, _type, _name, res_id, source, _value, _comments in reader
            if res_id == "sophos_ppu.ppu_end_customer"
        }
        self.assertLessEqual(set(LABELS_DE), exported)
        # ... and the page shows them translated.
        german = self.env["res.lang"]._activate_lang("de_DE")
        self.website.language_ids |= german
        self.env.ref("sophos_ppu.ppu_end_customer").update_field_translations(
            "arch_db", {"de_DE": LABELS_DE}
        )
        text = self.url_open("/de/shop/ppu_end_customer").text
        for name, label in zip(
            ("company_name", "contact_name", "email", "phone"),
            LABELS_DE.values(),
            strict=True,
        ):
            self.assertRegex(
                text, rf'<label[^>]* for="ppu_{name}"[^>]*>\s*{label}\s*</label>'
            )

    def test_confirm_step_tells_that_the_end_customer_has_a_subscription(self):
        first = self._create_order()
        first.action_confirm()
        self._post_end_customer(
            end_customer_id=str(self.end_customer.id),
            company_name=self.end_customer.name,
        )
        text = self.url_open("/shop/payment").text
        self.assertIn('id="ppu_subscription_continued"', text)
        self.assertIn(
            "Globex Corporation already has an active Sophos CyberSecurity "
            "subscription: this order continues it, no new subscription is created.",
            text,
        )
        # The order stays possible, as before: it continues the subscription.
        self._confirm_order()
        order = self.env["sale.order"].search(
            [("partner_id", "=", self.reseller_contact.id), ("id", "!=", first.id)]
        )
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.ppu_subscription_ids, first.ppu_subscription_ids)

    def test_confirm_step_of_a_new_end_customer_has_no_such_notice(self):
        self._post_end_customer()
        text = self.url_open("/shop/payment").text
        self.assertIn('id="ppu_end_customer_on_payment"', text)
        self.assertNotIn('id="ppu_subscription_continued"', text)
