# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the checkout refuses: an End User Identifier of another reseller,
overlong or control-character values, unknown countries, name wildcards."""

import re

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import MockEmail

from .common import PpuCommon

TAKEN = (
    "This End User Identifier is already registered with another reseller. "
    "Contact us if this end customer moved to you."
)
REFUSAL_SUBJECT = "End User Identifier of another reseller"


class PpuCheckoutCommon(PpuCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rival = cls.env["res.partner"].create(
            {"name": "Rival Networks", "is_company": True}
        )
        cls.rival_subscription = cls._subscription(cls.rival, "EU-TAKEN-1")

    @classmethod
    def _subscription(cls, reseller, identifier, **values):
        return cls.env["sophos.ppu.subscription"].create(
            {
                "partner_id": reseller.id,
                "end_customer_id": cls.end_customer.id,
                "end_user_identifier": identifier,
                "product_id": cls.product.id,
                "pricelist_id": cls.pricelist_discount.id,
                **values,
            }
        )

    def _refusal_mails(self):
        return self.env["mail.mail"].search(
            [("subject", "=like", f"%{REFUSAL_SUBJECT}")]
        )


@tagged("post_install", "-at_install")
class TestPpuIdentifierOfOneReseller(PpuCheckoutCommon, MockEmail):
    def test_checkout_refuses_an_identifier_of_another_reseller(self):
        order = self._create_order(end_customer=False)
        with self.mock_mail_gateway():
            errors = order._ppu_end_customer_errors(
                self._values(end_user_identifier="  eu-taken-1 ")
            )
        self.assertEqual(errors, {"end_user_identifier": TAKEN})
        self.assertNotIn("Rival", errors["end_user_identifier"])
        with self.assertRaisesRegex(UserError, "already registered"):
            order._ppu_set_end_customer(self._values(end_user_identifier="EU-TAKEN-1"))
        self.assertFalse(order.ppu_end_customer_id)

    def test_ops_are_told_by_an_internal_note_mailed_to_exactly_them(self):
        order = self._create_order(end_customer=False)
        with self.mock_mail_gateway():
            order._ppu_end_customer_errors(
                self._values(end_user_identifier="EU-TAKEN-1")
            )
        mail = self._new_mails
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.ops)
        self.assertIn(REFUSAL_SUBJECT, mail.subject)
        note = order.message_ids.filtered(lambda m: "EU-TAKEN-1" in m.body)
        self.assertEqual(len(note), 1)
        self.assertTrue(note.subtype_id.internal)  # never shown on the portal
        for text in ("Rival Networks", "Acme IT Services", "Initech"):
            self.assertIn(text, note.body)

    def test_ops_are_told_once_per_order_and_identifier(self):
        order = self._create_order(end_customer=False)
        with self.mock_mail_gateway():
            for identifier in ("EU-TAKEN-1", "eu-taken-1 "):
                order._ppu_end_customer_errors(
                    self._values(end_user_identifier=identifier)
                )
        self.assertEqual(len(self._new_mails), 1)

    def test_identifier_of_the_same_reseller_or_a_closed_subscription_is_accepted(
        self,
    ):
        self._subscription(self.reseller, "EU-OWN")
        self._subscription(self.rival, "EU-GONE", state="closed")
        order = self._create_order(end_customer=False)
        for identifier in ("eu-own", "EU-GONE", "EU-TAKEN"):
            with self.subTest(identifier=identifier):
                self.assertFalse(
                    order._ppu_end_customer_errors(
                        self._values(end_user_identifier=identifier)
                    )
                )

    def test_subscription_write_refuses_an_identifier_of_another_reseller(self):
        own = self._subscription(self.reseller, False)
        with self.assertRaisesRegex(ValidationError, "another reseller"):
            own.write({"end_user_identifier": " eu-taken-1"})

    def test_reseller_contact_shares_the_identifier_of_its_company(self):
        own = self._subscription(self.reseller, "EU-OWN")
        own.copy({"partner_id": self.reseller_contact.id})  # no error

    def test_reopening_refuses_an_identifier_taken_meanwhile(self):
        gone = self._subscription(self.reseller, "EU-TAKEN-1", state="closed")
        with self.assertRaisesRegex(ValidationError, "another reseller"):
            gone.action_reopen()

    def test_another_company_may_hold_the_same_identifier(self):
        other_company = self.env["res.company"].create({"name": "Distributor NL"})
        pricelist = self.env["product.pricelist"].create(
            {"name": "NL resellers", "company_id": other_company.id}
        )
        self._subscription(
            self.reseller,
            "EU-TAKEN-1",
            pricelist_id=pricelist.id,
            company_id=other_company.id,
        )

    def test_confirmation_is_refused_when_the_identifier_was_taken_meanwhile(self):
        order = self._create_order()  # identifier 8f3c2a10-globex
        self._subscription(self.rival, "8F3C2A10-GLOBEX")
        with self.assertRaisesRegex(UserError, "already registered with another"):
            order.action_confirm()
        with self.assertRaisesRegex(UserError, "already registered with another"):
            order._action_confirm()
        self.assertFalse(order.order_line.ppu_subscription_id)


@tagged("post_install", "-at_install")
class TestPpuEndCustomerValues(PpuCheckoutCommon):
    def test_fields_have_length_limits(self):
        order = self._create_order(end_customer=False)
        limits = {
            "company_name": 128,
            "contact_name": 128,
            "email": 254,
            "phone": 32,
            "end_user_identifier": 64,
        }
        at_limit = {
            "company_name": "C" * 128,
            "contact_name": "N" * 128,
            "email": "b" * 64 + "@" + ".".join(["a" * 60, "b" * 60, "c" * 60, "d" * 6]),
            "phone": "1" * 32,
            "end_user_identifier": "E" * 64,
        }
        self.assertEqual(len(at_limit["email"]), 254)
        self.assertFalse(order._ppu_end_customer_errors(self._values(**at_limit)))
        too_long = {name: value + "x" for name, value in at_limit.items()}
        too_long["email"] = "x" + at_limit["email"]
        errors = order._ppu_end_customer_errors(self._values(**too_long))
        self.assertEqual(set(errors), set(limits))
        for name, limit in limits.items():
            self.assertIn(f"{limit} characters at most", errors[name])

    def test_control_characters_are_dropped_and_blanks_collapsed(self):
        order = self._create_order(end_customer=False)
        values = self._values(
            company_name="  Init\x00ech\u0085\x1b Corp\r\n",
            contact_name="Bill\tLumbergh\x7f\x9b",
            phone="+1\n555\x000100",
            end_user_identifier=" EU-\x07NEW ",
        )
        self.assertFalse(order._ppu_end_customer_errors(values))
        order._ppu_set_end_customer(values)
        self.assertRecordValues(
            order,
            [
                {
                    "ppu_contact_name": "Bill Lumbergh",
                    "ppu_contact_phone": "+1 5550100",
                    "ppu_end_user_identifier": "EU-NEW",
                }
            ],
        )
        self.assertEqual(order.ppu_end_customer_id.name, "Initech Corp")

    def test_name_wildcards_do_not_match_another_end_customer(self):
        acme = self.env["res.partner"].create({"name": "Acme Corp", "is_company": True})
        self._subscription(self.reseller, False, end_customer_id=acme.id)
        for name in ("Acme%", "Acme_Corp", "%"):
            with self.subTest(name=name):
                order = self._create_order(end_customer=False)
                order._ppu_set_end_customer(self._values(company_name=name))
                self.assertNotEqual(order.ppu_end_customer_id, acme)
                self.assertEqual(order.ppu_end_customer_id.name, name)
        order = self._create_order(end_customer=False)
        order._ppu_set_end_customer(self._values(company_name="ACME corp"))
        self.assertEqual(order.ppu_end_customer_id, acme)

    def test_unknown_or_malformed_country_is_a_form_error(self):
        order = self._create_order(end_customer=False)
        for country_id in ("abc", "999999", "-1", "1e3", "99999999999999999999"):
            with self.subTest(country_id=country_id):
                errors = order._ppu_end_customer_errors(
                    self._values(country_id=country_id)
                )
                self.assertEqual(set(errors), {"country_id"})
        self.assertFalse(order._ppu_end_customer_errors(self._values(country_id="")))


@tagged("post_install", "-at_install")
class TestPpuOpsMailFallback(PpuCommon, MockEmail):
    def test_ops_mail_falls_back_to_the_end_customer_email_and_phone(self):
        self.end_customer.write(
            {"email": "it@globex.example.com", "phone": "+1 555 0100"}
        )
        order = self._create_order()
        order.write({"ppu_contact_email": False, "ppu_contact_phone": False})
        with self.mock_mail_gateway():
            order.action_confirm()
        mail = self._new_mails.filtered(
            lambda m: m.subject.startswith(f"PPU order {order.name}")
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("it@globex.example.com", mail.body_html)
        self.assertIn("+1 555 0100", mail.body_html)

    def test_ops_mail_prefers_the_contact_typed_on_the_order(self):
        self.end_customer.write(
            {"email": "it@globex.example.com", "phone": "+1 555 0100"}
        )
        order = self._create_order()
        with self.mock_mail_gateway():
            order.action_confirm()
        mail = self._new_mails.filtered(
            lambda m: m.subject.startswith(f"PPU order {order.name}")
        )
        self.assertIn("hank@globex.example.com", mail.body_html)
        self.assertNotIn("it@globex.example.com", mail.body_html)


@tagged("post_install", "-at_install")
class TestPpuCheckoutHttp(PpuCheckoutCommon, HttpCase):
    """The end-customer page over HTTP, as the reseller's browser posts it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        website = cls.env["website"].get_current_website()
        website.pricelist_ids = [Command.link(cls.pricelist_discount.id)]

    def setUp(self):
        super().setUp()
        self.authenticate("reseller", "reseller")
        self.make_jsonrpc_request(
            "/shop/cart/update_json", {"product_id": self.product.id, "add_qty": 1}
        )

    def _form(self):
        response = self.url_open("/shop/ppu_end_customer")
        self.assertEqual(response.status_code, 200)
        return response

    def _post(self, **overrides):
        token = re.search(r'name="csrf_token" value="([^"]+)"', self._form().text)
        return self.url_open(
            "/shop/ppu_end_customer",
            data={"csrf_token": token.group(1), **self._values(**overrides)},
        )

    def test_form_fields_carry_their_length_limits(self):
        text = self._form().text
        for name, limit in (
            ("company_name", 128),
            ("contact_name", 128),
            ("email", 254),
            ("phone", 32),
            ("end_user_identifier", 64),
        ):
            self.assertRegex(text, rf'<input[^>]*name="{name}"[^>]*maxlength="{limit}"')

    def test_garbage_country_is_a_form_error_not_a_server_error(self):
        for country_id in ("abc", "999999", "99999999999999999999"):
            with self.subTest(country_id=country_id):
                response = self._post(country_id=country_id)
                self.assertEqual(response.status_code, 200)
                self.assertIn("Choose the country from the list.", response.text)
                self.assertIn('id="ppu_end_customer_errors"', response.text)

    def test_identifier_of_another_reseller_is_refused_without_naming_it(self):
        response = self._post(end_user_identifier="eu-taken-1")
        self.assertEqual(response.status_code, 200)
        self.assertIn("already registered with another reseller", response.text)
        self.assertNotIn("Rival", response.text)
        self.assertEqual(self._refusal_mails().recipient_ids, self.ops)
        order = self.env["sale.order"].search(
            [("partner_id", "=", self.reseller_contact.id)]
        )
        self.assertFalse(order.ppu_end_customer_id)

    def test_payment_step_refuses_an_identifier_taken_meanwhile(self):
        response = self._post(end_user_identifier="EU-NEW-1")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn('id="ppu_end_customer_errors"', response.text)
        self._subscription(self.rival, "EU-NEW-1")
        response = self.url_open("/shop/payment")
        self.assertEqual(response.status_code, 200)
        self.assertIn("already registered with another reseller", response.text)
        self.assertNotIn("Rival", response.text)
