# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""An End User Identifier is its owner's before its owner's subscription
records it: a row naming another reseller's end customer is held, and
checkout refuses an identifier a file ties to another reseller's end
customer. Identifiers compare case-folded."""

from odoo import Command
from odoo.tests import tagged

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestIdentifierClaims(PpuImportCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner, cls.claimant = cls.resellers["discount"], cls.resellers["markup"]
        # The owner's end customer, its identifier to be learnt from a file.
        cls.florist = cls._subscription(
            cls.owner, "Alpha Florist", False, cls.pricelist_discount
        )

    def claim(self, identifier="EU-A-2"):
        """The claimant ordered for one of its customers with the owner's
        end customer's identifier."""
        return self._subscription(
            self.claimant, "Beta Shop", identifier, self.pricelist_markup
        )

    def form(self, company_name, identifier):
        """What the claimant types in the end-customer checkout form."""
        return {
            "company_name": company_name,
            "contact_name": "Jo Doe",
            "email": "jo@example.com",
            "phone": "",
            "country_id": str(self.env.ref("base.us").id),
            "end_user_identifier": identifier,
        }

    def test_a_row_naming_another_resellers_customer_is_held_not_billed(self):
        claimed = self.claim()
        batch = self.import_rows([self.row("EU-A-2", customer="Alpha Florist")])
        line = batch.line_ids
        self.assertEqual((line.state, line.issue), ("error", "claimed_identifier"))
        self.assertEqual(line.subscription_id, claimed)
        self.assertIn("Alpha Florist", line.message)
        self.assertIn(self.owner.name, line.message)
        with self.assertRaises(Exception):  # noqa: B017 refused while in error
            batch.action_create_invoices()
        self.assertFalse(batch.invoice_ids)
        self.assertFalse(self.florist.end_user_identifier)

    def test_ops_match_the_row_to_its_owner_by_hand(self):
        claimed = self.claim()
        batch = self.import_rows([self.row("EU-A-2", customer="Alpha Florist")])
        claimed.state = "closed"  # ops close the claim
        batch.line_ids.subscription_id = self.florist
        batch.action_check()
        self.assertEqual(batch.line_ids.state, "ok", batch.line_ids.message)
        self.assertEqual(batch.line_ids.partner_id, self.owner)

    def test_checkout_refuses_an_identifier_a_file_ties_to_another_reseller(self):
        # October's file named EU-A-2 for the owner's Alpha Florist.
        self.import_rows([self.row("EU-A-2", customer="Alpha Florist")])
        order = self.env["sale.order"].create(
            {
                "partner_id": self.claimant.id,
                "pricelist_id": self.pricelist_markup.id,
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        )
        for identifier in ("EU-A-2", " eu-a-2 "):
            with self.subTest(identifier=identifier):
                errors = order._ppu_end_customer_errors(
                    self.form("Beta Shop", identifier)
                )
                self.assertIn("end_user_identifier", errors)
        notes = order.message_ids.filtered(lambda message: "EU-A-2" in message.body)
        self.assertEqual(len(notes), 1, "ops are told, once")
        # The owner itself may order it.
        own = order.copy({"partner_id": self.owner.id})
        self.assertFalse(
            own._ppu_end_customer_errors(self.form("Alpha Florist", "EU-A-2"))
        )

    def test_identifiers_compare_case_folded(self):
        holder = self._subscription(
            self.claimant, "Gamma", "Straße-9", self.pricelist_markup
        )
        self.assertEqual(
            self.env["sophos.ppu.subscription"]._ppu_identifier_holders(
                "STRASSE-9", self.owner, self.company
            ),
            holder,
        )
        batch = self.import_rows([self.row("STRASSE-9")])
        self.assertEqual(batch.line_ids.subscription_id, holder)
        self.assertEqual(batch.line_ids.end_user_key, "strasse-9")
