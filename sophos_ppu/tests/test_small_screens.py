# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The subscription form's smart buttons and tracking, the import wizard's
month and warning, the PPU product's billing-rules button."""

from datetime import date

from odoo.tests import Form, tagged

from odoo.addons.sophos_ppu.core.columns import REQUIRED

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestSmallScreens(PpuImportCommon):
    def test_subscription_counts_its_rows_and_invoices_and_last_billed_month(self):
        subscription = self.subscriptions["discount"]
        self.assertEqual(subscription.import_line_count, 0)
        self.assertEqual(subscription.invoice_count, 0)
        self.assertFalse(subscription.last_billed_month)
        batch, _other = self.invoice_two_end_customers(quantity=3)
        subscription.invalidate_recordset()
        self.assertEqual(subscription.import_line_count, 1)
        self.assertEqual(subscription.invoice_count, 1)
        self.assertEqual(subscription.last_billed_month, "October 2026")
        rows = subscription.action_view_import_lines()
        self.assertEqual(
            self.env["sophos.ppu.import.line"].search(rows["domain"]),
            self.line_of(batch, "EU-discount"),
        )
        invoices = subscription.action_view_invoices()
        self.assertEqual(
            self.env["account.move"].search(invoices["domain"]), batch.invoice_ids
        )

    def test_end_user_identifier_changes_are_tracked(self):
        # The accounting test setup disables tracking; ops' edits are tracked.
        subscription = self.subscriptions["discount"].with_context(
            tracking_disable=False, mail_notrack=False
        )
        # As if the subscription had been created in an earlier transaction
        # (tracking ignores a record's changes in its creating transaction).
        self.env.flush_all()
        self.env.cr.flush()
        subscription.end_user_identifier = "EU-NEW-1"
        self.env.flush_all()
        self.env.cr.flush()  # runs the tracking, as a commit would
        subscription.invalidate_recordset(["message_ids"])
        tracked = (
            self.env["mail.tracking.value"]
            .sudo()
            .search([("mail_message_id", "in", subscription.message_ids.ids)])
        )
        tracked = tracked.filtered(
            lambda value: value.field_id.name == "end_user_identifier"
        )
        self.assertEqual(len(tracked), 1)
        self.assertEqual(tracked.old_value_char, "EU-discount")
        self.assertEqual(tracked.new_value_char, "EU-NEW-1")

    def test_wizard_keeps_the_first_day_and_warns_of_the_month_batches(self):
        batch = self.import_rows([self.row("EU-discount")])
        wizard = Form(self.env["sophos.ppu.import.wizard"])
        wizard.period_date = date(2026, 10, 17)
        self.assertEqual(wizard.period_date, date(2026, 10, 1))
        self.assertIn(f"{batch.name} (Checked)", wizard.existing_batch_warning)
        self.assertIn("October 2026", wizard.existing_batch_warning)
        wizard.period_date = date(2026, 11, 3)
        self.assertFalse(wizard.existing_batch_warning)
        batch.action_cancel()
        wizard.period_date = date(2026, 10, 1)
        self.assertFalse(wizard.existing_batch_warning)

    def test_wizard_lists_the_required_columns_of_the_core(self):
        wizard = self.env["sophos.ppu.import.wizard"].new({})
        self.assertEqual(
            wizard.required_columns, ", ".join(field.label for field in REQUIRED)
        )
        self.assertIn("End User Identifier", wizard.required_columns)

    def test_ppu_product_counts_the_rules_that_bill_it(self):
        template = self.product.product_tmpl_id
        action = template.action_ppu_view_rules()
        rules = self.env["product.pricelist.item"].search(action["domain"])
        self.assertEqual(template.ppu_rule_count, len(rules))
        billing = (
            self.pricelist_discount
            | self.pricelist_markup
            | self.pricelist_eur
            | self.pricelist_volume
            | self.pricelist_rounded
        ).item_ids
        self.assertEqual(rules & billing, billing)
        self.assertFalse(rules & self.pricelist_norule.item_ids)
        self.assertEqual(self.product_a.product_tmpl_id.ppu_rule_count, 0)
