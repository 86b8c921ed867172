# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportCancel(PpuImportCommon):
    def test_cancel_removes_draft_invoices_and_frees_the_keys(self):
        data = self.consumption_csv([self.row("EU-discount"), self.row("EU-markup")])
        first = self.import_file(data)
        first.action_create_invoices()
        invoices = first.invoice_ids
        first.action_cancel()
        self.assertEqual(first.state, "cancelled")
        self.assertFalse(invoices.exists())
        self.assertFalse(first.line_ids.filtered("billed"))
        again = self.import_file(data)
        self.assertEqual(again.line_ids.mapped("state"), ["ok", "ok"])
        again.action_create_invoices()
        self.assertEqual(len(again.invoice_ids), 2)

    def test_cancel_is_refused_once_an_invoice_is_posted(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        batch.action_create_invoices()
        posted = batch.invoice_ids[0]
        posted.action_post()
        with self.assertRaisesRegex(
            UserError, f"invoices {posted.name} are posted. Correct them with credit"
        ):
            batch.action_cancel()
        self.assertEqual(batch.state, "invoiced")
        self.assertEqual(len(batch.invoice_ids), 2)
        self.assertTrue(all(batch.line_ids.mapped("billed")))

    def test_deleting_a_draft_invoice_frees_its_keys(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        batch.action_create_invoices()
        invoice = batch.invoice_ids.filtered(
            lambda move: move.partner_id == self.resellers["markup"]
        )
        invoice.unlink()
        self.assertEqual(batch.line_ids.mapped("billed"), [True, False])

    def test_cancelled_batch_cannot_be_checked_again(self):
        batch = self.import_rows([self.row("EU-discount")])
        batch.action_cancel()
        with self.assertRaisesRegex(UserError, r"is Cancelled: only draft or checked"):
            batch.action_check()
