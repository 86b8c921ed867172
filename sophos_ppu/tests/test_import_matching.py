# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportMatching(PpuImportCommon):
    def test_row_matches_its_subscription_by_end_user_identifier(self):
        batch = self.import_rows([self.row("EU-discount", customer="Someone else")])
        line = batch.line_ids
        self.assertEqual(line.subscription_id, self.subscriptions["discount"])
        self.assertEqual(line.match_method, "identifier")
        self.assertEqual(line.partner_id, self.resellers["discount"])

    def test_identifier_match_ignores_case_and_spaces(self):
        batch = self.import_rows([self.row("  eu-DISCOUNT ")])
        self.assertEqual(batch.line_ids.subscription_id, self.subscriptions["discount"])

    def test_unknown_identifier_matches_by_end_customer_name_and_records_it(self):
        subscription = self._subscription(
            self.resellers["discount"], "Acme  Corp", False, self.pricelist_discount
        )
        batch = self.import_rows([self.row("NEW-ID-1", customer=" ACME corp ")])
        line = batch.line_ids
        self.assertEqual(line.subscription_id, subscription)
        self.assertEqual(line.match_method, "name")
        self.assertEqual(subscription.end_user_identifier, "NEW-ID-1")

    def test_recorded_identifier_matches_directly_next_month(self):
        subscription = self._subscription(
            self.resellers["discount"], "Acme Corp", False, self.pricelist_discount
        )
        self.import_rows([self.row("NEW-ID-1", customer="Acme Corp")])
        batch = self.import_rows([self.row("NEW-ID-1", customer="Acme Corp Ltd")])
        self.assertEqual(batch.line_ids.subscription_id, subscription)
        self.assertEqual(batch.line_ids.match_method, "identifier")

    def test_a_name_met_with_two_identifiers_is_left_to_ops(self):
        subscription = self._subscription(
            self.resellers["discount"], "Acme Corp", False, self.pricelist_discount
        )
        batch = self.import_rows(
            [
                self.row("NEW-1", customer="Acme Corp"),
                self.row("NEW-2", customer="Acme Corp"),
            ]
        )
        self.assertEqual(batch.line_ids.mapped("state"), ["error", "error"])
        self.assertEqual(
            batch.line_ids[0].message,
            "End customer Acme Corp appears with several End User Identifiers: "
            "pick the subscription by hand.",
        )
        self.assertFalse(subscription.end_user_identifier)

    def test_no_reseller_learns_the_identifier_of_another_by_name(self):
        subscription = self._subscription(
            self.resellers["markup"], "Acme Corp", False, self.pricelist_markup
        )
        # The markup reseller's file names its own end customer with the
        # discount reseller's identifier.
        batch = self.import_rows(
            [self.row("EU-discount", customer="Acme Corp")],
            partner=self.resellers["markup"],
        )
        line = batch.line_ids
        self.assertEqual(line.state, "error")
        self.assertEqual(
            line.message,
            "End User Identifier EU-discount belongs to a subscription of another "
            "reseller.",
        )
        self.assertFalse(line.subscription_id)
        self.assertFalse(subscription.end_user_identifier)

    def test_matching_is_restricted_to_the_chosen_reseller(self):
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("EU-markup")],
            partner=self.resellers["markup"],
        )
        self.assertEqual(batch.line_ids.mapped("state"), ["error", "ok"])
        self.assertEqual(
            batch.line_ids[0].message,
            "No subscription has End User Identifier EU-discount or end customer -.",
        )

    def test_row_matching_nothing_is_an_error(self):
        batch = self.import_rows([self.row("NOPE", customer="Nobody Inc")])
        self.assertEqual(batch.line_ids.state, "error")
        self.assertEqual(
            batch.line_ids.message,
            "No subscription has End User Identifier NOPE or end customer Nobody Inc.",
        )

    def test_row_matching_several_subscriptions_is_an_error(self):
        self._subscription(
            self.resellers["discount"], "Twin", "EU-discount", self.pricelist_discount
        )
        batch = self.import_rows([self.row("EU-discount")])
        line = batch.line_ids
        self.assertEqual(line.state, "error")
        self.assertRegex(line.message, r"^Several subscriptions match \(.*\): pick")
        self.assertFalse(line.subscription_id)

    def test_row_outside_the_billing_month_is_an_error(self):
        row = self.row("EU-discount", **{"Start Date": "2026-09-01"})
        row["End Date"] = "2026-09-30"
        line = self.import_rows([row]).line_ids
        self.assertEqual(line.state, "error")
        self.assertEqual(
            line.message,
            "Service dates 2026-09-01–2026-09-30 are outside the billing month "
            "October 2026.",
        )

    def test_row_of_a_closed_subscription_is_an_error(self):
        self.subscriptions["discount"].state = "closed"
        line = self.import_rows([self.row("EU-discount")]).line_ids
        self.assertEqual(line.state, "error")
        self.assertEqual(
            line.message,
            f"Subscription {self.subscriptions['discount'].display_name} is closed.",
        )

    def test_ops_set_the_subscription_by_hand_and_check_again(self):
        batch = self.import_rows([self.row("NOPE", customer="Nobody Inc", quantity=2)])
        line = batch.line_ids
        line.subscription_id = self.subscriptions["markup"]
        batch.action_check()
        self.assertEqual(line.state, "ok")
        self.assertEqual(line.match_method, "manual")
        self.assertEqual(line.price_unit, 3.68)
        self.assertEqual(line.price_subtotal, 7.36)
        self.assertEqual(batch.error_count, 0)

    def test_check_again_keeps_the_subscription_set_by_hand(self):
        subscription = self._subscription(
            self.resellers["discount"], "Nobody Inc", False, self.pricelist_discount
        )
        batch = self.import_rows([self.row("NOPE", customer="Nobody Else")])
        line = batch.line_ids
        self.assertEqual(line.state, "error")
        line.subscription_id = subscription
        batch.action_check()
        batch.action_check()
        self.assertEqual(line.subscription_id, subscription)
        self.assertEqual(line.state, "ok")
        self.assertEqual(subscription.end_user_identifier, "NOPE")

    def test_checking_records_no_identifier_until_the_whole_batch_is_checked(self):
        subscription = self._subscription(
            self.resellers["discount"], "Acme Corp", False, self.pricelist_discount
        )
        batch = self.import_rows(
            [
                self.row("EU-markup"),
                self.row("NEW-ID-1", customer="Acme Corp"),
                self.row("NEW-ID-1", customer="Acme Corp", quantity=-1),
            ]
        )
        subscription.end_user_identifier = False
        after = 0
        while rows := batch._ppu_recheck(after_row=after, limit=1):
            after = rows[-1]["row_number"]
            self.assertFalse(subscription.end_user_identifier)
        self.assertEqual(batch.line_ids.mapped("match_method")[1:], ["name", "name"])
        batch._ppu_learn_identifiers()
        self.assertEqual(subscription.end_user_identifier, "NEW-ID-1")
        self.assertEqual(batch.line_ids.mapped("state"), ["ok", "ok", "ok"])

    def test_identifiers_refused_once_the_whole_batch_is_checked(self):
        subscription = self._subscription(
            self.resellers["discount"], "Acme Corp", False, self.pricelist_discount
        )
        batch = self.import_rows(
            [
                self.row("NEW-1", customer="Acme Corp"),
                self.row("NEW-2", customer="Acme Corp"),
            ]
        )
        rows = batch._ppu_recheck(limit=1) + batch._ppu_recheck(after_row=2, limit=1)
        self.assertEqual([row["state"] for row in rows], ["ok", "ok"])
        self.assertEqual(batch.line_ids.subscription_id, subscription)
        batch._ppu_learn_identifiers(rows)
        message = (
            "End customer Acme Corp appears with several End User Identifiers: "
            "pick the subscription by hand."
        )
        for line, row in zip(batch.line_ids, rows, strict=True):
            self.assertEqual((line.state, line.message), ("error", message))
            self.assertFalse(line.subscription_id)
            self.assertEqual((row["state"], row["message"]), ("error", message))
            self.assertFalse(row["subscription_id"])
        self.assertFalse(subscription.end_user_identifier)

    def test_a_row_repeating_a_row_left_to_ops_is_billable(self):
        """Acme is met with two identifiers: its rows go to ops. Bolt's row,
        the same consumption as Acme's first one, bills Bolt and teaches it
        the identifier."""
        acme, bolt = (
            self._subscription(
                self.resellers["discount"], name, False, self.pricelist_discount
            )
            for name in ("Acme Corp", "Bolt Ltd")
        )
        batch = self.import_rows(
            [
                self.row("NEW-1", customer="Acme Corp"),
                self.row("NEW-2", customer="Acme Corp"),
                self.row("NEW-1", customer="Bolt Ltd"),
            ]
        )
        self.assertEqual(batch.line_ids.mapped("state"), ["error", "error", "ok"])
        bolt_line = batch.line_ids[2]
        self.assertEqual(bolt_line.subscription_id, bolt)
        self.assertEqual(bolt_line.match_method, "name")
        self.assertFalse(bolt_line.message)
        self.assertEqual(bolt.end_user_identifier, "NEW-1")
        self.assertFalse(acme.end_user_identifier)
