# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from odoo.addons.mail.tests.common import MockEmail

from .common import PpuCommon

OPS_SUBJECT = "PPU order"


@tagged("post_install", "-at_install")
class TestPpuOrderConfirmation(PpuCommon, MockEmail):
    def _ops_mails(self, order):
        return self._new_mails.filtered(
            lambda mail: mail.subject.startswith(f"{OPS_SUBJECT} {order.name}")
        )

    def _confirm(self, order):
        """Confirm as the shop does: with the standard confirmation e-mail."""
        with self.mock_mail_gateway():
            order._validate_order()
        return self._ops_mails(order)

    def test_confirm_queues_one_ops_mail_to_exactly_the_recipients(self):
        order = self._create_order()
        mails = self._confirm(order)
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.recipient_ids, self.ops)
        self.assertFalse(mails.email_to)
        self.assertEqual(mails.state, "outgoing")
        self.assertTrue(order.ppu_ops_notified)

    def test_ops_mail_holds_reseller_end_customer_and_sku(self):
        order = self._create_order()
        body = self._confirm(order).body_html
        for text in (
            order.name,
            "Acme IT Services",
            "RES-042",
            "Jane Reseller",
            "jane@acme-it.example.com",
            "+32 2 555 01 01",
            "Rue de la Loi 42",
            "Globex Corporation",
            "Hank Scorpio",
            "hank@globex.example.com",
            "+1 555 0199",
            "United States",
            "8f3c2a10-globex",
            "Sophos CyberSecurity",
            "SOPHOS-PPU",
            f"/mail/view?model=sale.order&amp;res_id={order.id}",
        ):
            self.assertIn(text, body)

    def test_reseller_still_gets_the_standard_confirmation(self):
        order = self._create_order()
        self._confirm(order)
        template = order._get_confirmation_template()
        standard = self._new_mails.filtered(
            lambda mail: self.reseller_contact in mail.recipient_ids
        )
        self.assertEqual(len(standard), 1)
        self.assertEqual(
            standard.mail_message_id.subject,
            template._render_field("subject", order.ids)[order.id],
        )
        self.assertNotIn(self.ops[0], standard.recipient_ids)

    def _reseller_mail(self):
        return self._new_mails.filtered(
            lambda mail: self.reseller_contact in mail.recipient_ids
        )

    def test_reseller_confirmation_names_the_end_customer_and_no_zero_payment(self):
        order = self._create_order()
        self._confirm(order)
        mail = self._reseller_mail()
        self.assertEqual(len(mail), 1)
        self.assertEqual(
            mail.subject,
            f"{self.company.name} Order (Ref {order.name}): Sophos pay-per-use "
            "for Globex Corporation",
        )
        body = mail.body_html
        for text in (
            "your end customer",
            "Globex Corporation",
            "Hank Scorpio",
            "8f3c2a10-globex",
            "Sophos CyberSecurity: billed monthly on consumption",
            "Nothing is paid now",
        ):
            self.assertIn(text, body)
        for text in ("amounting", "Payment Method", "0.00", "Total:"):
            self.assertNotIn(text, body)

    def test_reseller_confirmation_says_a_continued_subscription_is_not_new(self):
        first = self._create_order()
        self._confirm(first)
        self.assertNotIn("no new subscription", self._reseller_mail().body_html)
        order = self._create_order()
        self._confirm(order)
        self.assertEqual(order.ppu_subscription_ids, first.ppu_subscription_ids)
        self.assertIn(
            "no new subscription was created", self._reseller_mail().body_html
        )

    def test_backend_confirmation_also_sends_the_standard_confirmation(self):
        order = self._create_order()
        with self.mock_mail_gateway():
            order.action_confirm()
        standard = self._new_mails.filtered(
            lambda mail: self.reseller_contact in mail.recipient_ids
        )
        self.assertEqual(len(standard), 1)
        self.assertEqual(len(self._ops_mails(order)), 1)

    def test_ops_mail_is_sent_once_per_order(self):
        order = self._create_order()
        self._confirm(order)
        order._action_cancel()
        order.action_draft()
        self.assertFalse(self._confirm(order))

    def test_order_without_ppu_line_sends_no_ops_mail(self):
        order = self._create_order(self.normal_product, end_customer=False)
        self.assertFalse(self._confirm(order))
        self.assertFalse(order.ppu_subscription_ids)
        self.assertFalse(order.ppu_ops_notified)

    def test_without_recipient_order_confirms_and_chatter_says_so(self):
        self.company.ppu_ops_partner_ids = False
        order = self._create_order()
        self.assertFalse(self._confirm(order))
        self.assertEqual(order.state, "sale")
        notes = order.message_ids.filtered(lambda m: "could not be sent" in m.body)
        self.assertEqual(len(notes), 1)

    def test_ppu_order_needs_an_end_customer_to_confirm(self):
        order = self._create_order(end_customer=False)
        with self.assertRaisesRegex(UserError, "end customer"):
            order.action_confirm()


@tagged("post_install", "-at_install")
class TestPpuSubscriptions(PpuCommon, MockEmail):
    def _confirm(self, order):
        with self.mock_mail_gateway():
            order.action_confirm()

    def test_confirm_opens_one_subscription_per_ppu_line(self):
        order = self._create_order(self.product | self.normal_product)
        self._confirm(order)
        subscription = order.ppu_subscription_ids
        self.assertEqual(len(subscription), 1)
        ppu_line = order.order_line.filtered(lambda line: line.product_id.ppu_ok)
        self.assertRecordValues(
            subscription,
            [
                {
                    "name": "Globex Corporation - Sophos CyberSecurity",
                    "partner_id": self.reseller.id,
                    "end_customer_id": self.end_customer.id,
                    "end_user_identifier": "8f3c2a10-globex",
                    "product_id": self.product.id,
                    "sale_line_id": ppu_line.id,
                    "pricelist_id": self.pricelist_discount.id,
                    "currency_id": self.usd.id,
                    "company_id": self.company.id,
                    "state": "active",
                }
            ],
        )

    def test_second_order_reuses_the_active_subscription(self):
        first = self._create_order()
        self._confirm(first)
        second = self._create_order()
        with self.mock_mail_gateway():
            second.action_confirm()
        self.assertEqual(second.ppu_subscription_ids, first.ppu_subscription_ids)
        self.assertEqual(
            self.env["sophos.ppu.subscription"].search_count(
                [("partner_id", "=", self.reseller.id)]
            ),
            1,
        )
        ops_mail = self._new_mails.filtered(
            lambda m: m.subject.startswith(f"{OPS_SUBJECT} {second.name}")
        )
        self.assertIn("continues the active subscription", ops_mail.body_html)
        self.assertIn(first.name, ops_mail.body_html)

    def test_closed_subscription_is_not_reused(self):
        first = self._create_order()
        self._confirm(first)
        first.ppu_subscription_ids.action_close()
        second = self._create_order()
        self._confirm(second)
        self.assertNotEqual(second.ppu_subscription_ids, first.ppu_subscription_ids)
        self.assertEqual(second.ppu_subscription_ids.state, "active")

    def test_close_and_reopen(self):
        order = self._create_order()
        self._confirm(order)
        subscription = order.ppu_subscription_ids
        subscription.action_close()
        self.assertEqual(subscription.state, "closed")
        subscription.action_reopen()
        self.assertEqual(subscription.state, "active")

    def test_smart_buttons_open_the_subscription(self):
        order = self._create_order()
        self._confirm(order)
        subscription = order.ppu_subscription_ids
        self.assertEqual(order.ppu_subscription_count, 1)
        self.assertEqual(
            order.action_view_ppu_subscriptions()["res_id"], subscription.id
        )
        for partner in (self.reseller, self.reseller_contact, self.end_customer):
            with self.subTest(partner=partner.name):
                self.assertEqual(partner.ppu_subscription_count, 1)
                action = partner.action_view_ppu_subscriptions()
                self.assertEqual(action["res_id"], subscription.id)

    def test_portal_reseller_reads_only_its_own_subscriptions(self):
        own = self._create_order()
        self._confirm(own)
        other_reseller = self.env["res.partner"].create(
            {"name": "Other Reseller", "is_company": True}
        )
        other = self.env["sophos.ppu.subscription"].create(
            {
                "partner_id": other_reseller.id,
                "end_customer_id": self.end_customer.id,
                "product_id": self.product.id,
                "pricelist_id": self.pricelist_discount.id,
            }
        )
        Subscription = self.env["sophos.ppu.subscription"].with_user(self.reseller_user)
        self.assertEqual(Subscription.search([]), own.ppu_subscription_ids)
        with self.assertRaises(AccessError):
            other.with_user(self.reseller_user).read(["name"])
        with self.assertRaises(AccessError):
            own.ppu_subscription_ids.with_user(self.reseller_user).action_close()

    def test_subscriptions_of_another_company_are_not_seen(self):
        other_company = self.env["res.company"].create({"name": "Distributor NL"})
        other_pricelist = self.env["product.pricelist"].create(
            {"name": "NL resellers", "company_id": other_company.id}
        )
        self.env["sophos.ppu.subscription"].create(
            {
                "partner_id": self.reseller.id,
                "end_customer_id": self.end_customer.id,
                "product_id": self.product.id,
                "pricelist_id": other_pricelist.id,
                "company_id": other_company.id,
            }
        )
        ops_user = new_test_user(
            self.env,
            login="ops_be",
            groups="sophos_ppu.group_ppu_operations",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        Subscription = self.env["sophos.ppu.subscription"].with_user(ops_user)
        self.assertFalse(Subscription.search([]))


@tagged("post_install", "-at_install")
class TestPpuEndCustomerForm(PpuCommon):
    def test_required_fields_and_email_are_checked(self):
        order = self._create_order(end_customer=False)
        errors = order._ppu_end_customer_errors(
            self._values(company_name=" ", contact_name="", email="bill@initech")
        )
        self.assertEqual(set(errors), {"company_name", "contact_name", "email"})
        self.assertIn("bill@initech is not a valid e-mail address", errors["email"])

    def test_valid_values_are_stored_on_the_order(self):
        order = self._create_order(end_customer=False)
        self.assertFalse(order._ppu_end_customer_errors(self._values()))
        order._ppu_set_end_customer(self._values(phone="+1 555 0100"))
        self.assertRecordValues(
            order,
            [
                {
                    "ppu_contact_name": "Bill Lumbergh",
                    "ppu_contact_email": "bill@initech.example.com",
                    "ppu_contact_phone": "+1 555 0100",
                    "ppu_country_id": self.env.ref("base.us").id,
                    "ppu_end_user_identifier": False,
                }
            ],
        )
        self.assertEqual(order.ppu_end_customer_id.name, "Initech")
        self.assertTrue(order.ppu_end_customer_id.is_company)

    def test_known_end_customer_of_the_reseller_is_reused(self):
        first = self._create_order()
        first.action_confirm()
        second = self._create_order(end_customer=False)
        second._ppu_set_end_customer(self._values(company_name="globex corporation"))
        self.assertEqual(second.ppu_end_customer_id, self.end_customer)

    def test_cart_quantity_is_one_per_order(self):
        order = self._create_order(end_customer=False)
        quantity, warning = order._verify_updated_quantity(
            order.order_line, self.product.id, 3
        )
        self.assertEqual(quantity, 1)
        self.assertIn("one end customer per order", warning)

    def test_backend_end_customer_fills_the_contact_fields(self):
        self.end_customer.write(
            {
                "country_id": self.env.ref("base.us").id,
                "email": "it@globex.example.com",
                "phone": "+1 555 0100",
            }
        )
        order = self._create_order(end_customer=False)
        with Form(order) as form:
            form.ppu_end_customer_id = self.end_customer
            form.ppu_contact_name = "Hank Scorpio"
        self.assertRecordValues(
            order,
            [
                {
                    "ppu_end_customer_id": self.end_customer.id,
                    "ppu_contact_name": "Hank Scorpio",
                    "ppu_contact_email": "it@globex.example.com",
                    "ppu_contact_phone": "+1 555 0100",
                    "ppu_country_id": self.env.ref("base.us").id,
                }
            ],
        )
