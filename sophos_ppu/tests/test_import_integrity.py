# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Billing integrity holds in the model layer: what ops, accountants or any
RPC client can and cannot change on batches, rows and their invoices."""

from datetime import date

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportIntegrity(PpuImportCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ops = new_test_user(
            cls.env,
            login="ppu-ops-integrity",
            groups="sophos_ppu.group_ppu_operations",
            company_id=cls.company.id,
        )
        cls.accountant = new_test_user(
            cls.env,
            login="ppu-accountant-integrity",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
        )

    def invoiced_batch(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        batch.action_create_invoices()
        self.assertEqual(batch.state, "invoiced")
        return batch

    # -- rows --------------------------------------------------------------

    def test_ops_cannot_write_what_the_checks_decide(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("NOPE")])
        line = self.line_of(batch, "EU-discount").with_user(self.ops)
        for vals in (
            {"price_unit": 0.01},
            {"price_subtotal": 0.01},
            {"state": "ok"},
            {"billed": True},
            {"consumption_key": "forged"},
            {"quantity": 1000},
            {"pricelist_item_id": False},
            {"partner_id": self.resellers["markup"].id},
            {"import_id": batch.id},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                line.write(vals)
        self.assertEqual(line.price_unit, 4.5)
        self.assertFalse(line.billed)

    def test_ops_pick_the_subscription_of_an_error_row_only(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("NOPE")])
        ok_line = self.line_of(batch, "EU-discount").with_user(self.ops)
        with self.assertRaisesRegex(UserError, "only rows in error or duplicate"):
            ok_line.subscription_id = self.subscriptions["markup"]
        error_line = self.line_of(batch, "NOPE").with_user(self.ops)
        error_line.subscription_id = self.subscriptions["markup"]
        self.assertEqual(error_line.match_method, "manual")
        batch.with_user(self.ops).action_check()
        self.assertEqual(error_line.state, "ok")
        self.assertEqual(error_line.price_unit, 3.68)

    def test_rows_are_created_only_by_the_import(self):
        batch = self.import_rows([self.row("EU-discount")])
        with self.assertRaises(AccessError):
            self.env["sophos.ppu.import.line"].with_user(self.ops).create(
                {"import_id": batch.id, "company_id": self.company.id, "state": "ok"}
            )

    def test_billed_rows_cannot_be_deleted(self):
        batch = self.invoiced_batch()
        with self.assertRaisesRegex(UserError, "Billed consumption rows"):
            batch.line_ids[0].unlink()
        self.assertEqual(len(batch.line_ids), 2)

    def test_a_forged_price_never_reaches_an_invoice(self):
        batch = self.import_rows([self.row("EU-discount", quantity=2)])
        line = batch.line_ids
        # Whatever reached the row (SQL, a bug), invoices are priced anew.
        self.env.cr.execute(
            "UPDATE sophos_ppu_import_line SET price_unit = 999999, "
            "price_subtotal = 1999998 WHERE id = %s",
            [line.id],
        )
        line.invalidate_recordset()
        batch.action_create_invoices()
        self.assertEqual(
            batch.invoice_ids.invoice_line_ids.filtered("product_id").price_unit, 4.5
        )
        self.assertEqual(batch.invoice_ids.amount_untaxed, 9.0)
        self.assertEqual(line.price_unit, 4.5)

    # -- batches -----------------------------------------------------------

    def test_a_batch_is_created_only_by_the_wizard_with_its_file(self):
        Import = self.env["sophos.ppu.import"].with_user(self.ops)
        count = Import.search_count([])
        with self.assertRaises(AccessError):
            Import.create({"period_date": date(2026, 10, 1)})
        attachment = self.env["ir.attachment"].create({"name": "x.csv", "raw": b"x"})
        with self.assertRaises(AccessError):
            Import.create(
                {
                    "period_date": date(2026, 10, 1),
                    "attachment_id": attachment.id,
                    "state": "checked",
                }
            )
        self.assertEqual(Import.search_count([]), count)

    def test_an_invoiced_batch_cannot_go_back_to_checked(self):
        batch = self.invoiced_batch()
        with self.assertRaises(AccessError):
            batch.with_user(self.ops).write({"state": "checked"})
        with self.assertRaisesRegex(UserError, "Check the import before"):
            batch.with_user(self.ops).action_create_invoices()
        self.assertEqual(batch.state, "invoiced")
        self.assertEqual(len(batch.invoice_ids), 2)

    def test_accountants_cannot_run_the_batch_actions(self):
        batch = self.import_rows([self.row("EU-discount")]).with_user(self.accountant)
        for action in (batch.action_check, batch.action_create_invoices):
            with self.subTest(action=action.__name__), self.assertRaises(AccessError):
                action()
        self.assertFalse(batch.invoice_ids)

    def test_an_invoiced_batch_cannot_be_deleted(self):
        batch = self.invoiced_batch()
        with self.assertRaisesRegex(UserError, "has made invoices: it cannot be"):
            batch.with_user(self.ops).unlink()
        self.assertTrue(batch.exists())
        self.assertEqual(len(batch.line_ids.filtered("billed")), 2)

    def test_a_cancelled_batch_can_be_deleted(self):
        batch = self.invoiced_batch()
        batch.action_cancel()
        batch.with_user(self.ops).unlink()
        self.assertFalse(batch.exists())

    def test_a_checked_batch_is_cancelled_before_it_is_deleted(self):
        batch = self.import_rows([self.row("EU-discount")])
        with self.assertRaisesRegex(UserError, "Cancel it"):
            batch.unlink()

    # -- invoices ----------------------------------------------------------

    def test_nobody_links_an_invoice_to_a_batch_by_hand(self):
        batch = self.invoiced_batch()
        invoice = batch.invoice_ids[0].with_user(self.accountant)
        other = self.import_rows([self.row("EU-eur")])
        with self.assertRaises(AccessError):
            invoice.write({"ppu_import_id": other.id})
        with self.assertRaises(AccessError):
            invoice.invoice_line_ids.filtered("product_id")[0].write(
                {"ppu_import_line_id": other.line_ids.id}
            )
        self.assertEqual(invoice.ppu_import_id, batch)

    def test_deleting_a_draft_invoice_lets_the_batch_bill_its_rows_again(self):
        batch = self.invoiced_batch()
        invoice = batch.invoice_ids.filtered(
            lambda move: move.partner_id == self.resellers["discount"]
        )
        invoice.with_user(self.accountant).unlink()
        line = self.line_of(batch, "EU-discount")
        self.assertFalse(line.billed)
        self.assertEqual(batch.state, "checked")
        self.assertIn("its rows are no longer billed", batch.message_ids[0].body)
        batch.action_create_invoices()
        self.assertEqual(batch.state, "invoiced")
        self.assertEqual(len(batch.invoice_ids), 2)
        self.assertTrue(line.billed)
        self.assertEqual(len(line.invoice_line_ids), 1)
        # The other reseller's row, billed all along, was not billed again.
        markup = self.line_of(batch, "EU-markup")
        self.assertEqual(len(markup.invoice_line_ids), 1)

    def test_cancelling_a_draft_invoice_keeps_its_rows_billed(self):
        data = self.consumption_csv([self.row("EU-discount")])
        batch = self.import_file(data)
        batch.action_create_invoices()
        batch.invoice_ids.with_user(self.accountant).button_cancel()
        self.assertTrue(batch.line_ids.billed)
        self.assertIn("Its rows stay billed", batch.message_ids[0].body)
        self.assertEqual(self.import_file(data).line_ids.state, "duplicate")

    def test_portal_resellers_do_not_see_the_batch_on_their_invoices(self):
        batch = self.invoiced_batch()
        invoice = batch.invoice_ids[0]
        self.assertFalse(invoice.invoice_origin)
        field = invoice._fields["ppu_import_id"]
        portal = new_test_user(self.env, login="ppu-portal", groups="base.group_portal")
        self.assertFalse(field.is_accessible(invoice.with_user(portal).env))
        self.assertTrue(field.is_accessible(invoice.with_user(self.accountant).env))
