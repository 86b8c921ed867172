# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Sophos corrections, exact repeats and rows naming another reseller."""

from datetime import date

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_import import HEADER, PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportCorrections(PpuImportCommon):
    def invoice_quantities(self, batch):
        return sorted(
            batch.invoice_ids.invoice_line_ids.filtered("product_id").mapped("quantity")
        )

    def test_a_correction_in_the_same_file_bills_a_negative_line(self):
        batch = self.import_rows(
            [self.row("EU-discount", quantity=10), self.row("EU-discount", quantity=-3)]
        )
        self.assertEqual(batch.line_ids.mapped("state"), ["ok", "ok"])
        batch.action_create_invoices()
        invoice = batch.invoice_ids
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(self.invoice_quantities(batch), [-3.0, 10.0])
        self.assertAlmostEqual(invoice.amount_untaxed, 7 * 4.5, places=2)

    def test_a_correction_is_billed_once(self):
        data = self.consumption_csv(
            [self.row("EU-discount", quantity=10), self.row("EU-discount", quantity=-3)]
        )
        self.import_file(data).action_create_invoices()
        again = self.import_file(data)
        self.assertEqual(again.line_ids.mapped("state"), ["duplicate", "duplicate"])

    def test_a_correction_of_an_earlier_month_bills_a_credit_note(self):
        self.import_rows(
            [self.row("EU-discount", quantity=10)]
        ).action_create_invoices()
        # November's file corrects October's consumption.
        batch = self.import_rows(
            [self.row("EU-discount", quantity=-3)], period_date=date(2026, 11, 1)
        )
        line = batch.line_ids
        self.assertEqual(line.state, "ok", line.message)
        batch.action_create_invoices()
        credit = batch.invoice_ids
        self.assertEqual(credit.move_type, "out_refund")
        self.assertAlmostEqual(credit.amount_untaxed, 3 * 4.5, places=2)
        self.assertTrue(line.billed)

    def test_an_earlier_month_is_no_place_for_consumption(self):
        batch = self.import_rows(
            [self.row("EU-discount", quantity=3)], period_date=date(2026, 11, 1)
        )
        self.assertEqual(batch.line_ids.state, "error")
        self.assertIn("outside the billing month", batch.line_ids.message)

    def test_an_exact_repeat_waits_for_ops_then_bills_once(self):
        data = self.consumption_csv(
            [self.row("EU-discount", quantity=2), self.row("EU-discount", quantity=2)]
        )
        batch = self.import_file(data)
        repeat = batch.line_ids[1]
        self.assertEqual(repeat.state, "duplicate")
        self.assertEqual(repeat.repeat_of_row, 2)
        self.assertEqual(
            repeat.message,
            "Repeats row 2 exactly: confirm it if Sophos bills this consumption "
            "twice.",
        )
        repeat.action_confirm_repeat()
        self.assertEqual(repeat.state, "ok")
        batch.action_create_invoices()
        self.assertEqual(self.invoice_quantities(batch), [2.0, 2.0])
        # The same file again: both rows, the confirmed repeat too, are billed.
        again = self.import_file(data)
        self.assertEqual(again.line_ids.mapped("state"), ["duplicate", "duplicate"])
        self.assertIn("Already billed by import", again.line_ids[1].message)
        with self.assertRaisesRegex(UserError, "not a repeat within its own file"):
            again.line_ids[1].action_confirm_repeat()

    def test_a_row_naming_another_reseller_is_an_error(self):
        header = [*HEADER, "Partner Name"]
        rows = [
            self.row("EU-discount", **{"Partner Name": "Reseller markup"}),
            self.row("EU-markup", **{"Partner Name": "Reseller markup"}),
            self.row("EU-eur", **{"Partner Name": "Some reseller Odoo does not know"}),
        ]
        batch = self.import_file(self.consumption_csv(rows, header=header))
        hijacked = self.line_of(batch, "EU-discount")
        self.assertEqual(hijacked.state, "error")
        self.assertEqual(
            hijacked.message,
            "The file bills this row to Reseller markup, but End User Identifier "
            "EU-discount belongs to a subscription of another reseller.",
        )
        self.assertEqual(self.line_of(batch, "EU-markup").state, "ok")
        self.assertEqual(self.line_of(batch, "EU-eur").state, "ok")

    def test_a_row_naming_the_reseller_by_its_reference_is_checked_too(self):
        self.resellers["markup"].ref = "P-100"
        header = [*HEADER, "Partner ID"]
        rows = [self.row("EU-discount", **{"Partner ID": "P-100"})]
        batch = self.import_file(self.consumption_csv(rows, header=header))
        self.assertEqual(batch.line_ids.state, "error")
