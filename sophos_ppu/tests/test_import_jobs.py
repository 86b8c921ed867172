# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The import and the invoicing as queue jobs, run one by one as queue_job's
runner would: units give the result of one pass, a failing unit undoes the
whole run and only it, a unit killed is run again without double lines, a
cancel is recorded at once, a reseller larger than a unit is invoiced."""

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.sophos_ppu.models import sophos_ppu_import_invoice as invoicing
from odoo.addons.sophos_ppu.models import sophos_ppu_import_job as job
from odoo.addons.sophos_ppu.models.sophos_ppu_import_invoice import (
    INVOICE_ROW_FIELDS,
)
from odoo.addons.sophos_ppu.tools.billing_guard import trusted

from .common_import import PpuImportCommon, run_queue_jobs


@tagged("post_install", "-at_install")
class TestImportJobs(PpuImportCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.named = cls._subscription(
            cls.resellers["discount"], "Named Ltd", False, cls.pricelist_discount
        )
        cls.twice_named = cls._subscription(
            cls.resellers["markup"], "Twice Named Ltd", False, cls.pricelist_markup
        )

    def setUp(self):
        super().setUp()
        self.Import = self.env["sophos.ppu.import"]

    def in_background(self, create=2, check=2, invoice=1):
        """Nothing inline; units of a few rows."""
        self.patch(job, "INLINE_FILE_BYTES", 0)
        self.patch(job, "INLINE_ROWS", 0)
        self.patch(job, "CREATE_CHUNK", create)
        self.patch(job, "CHECK_CHUNK", check)
        self.patch(invoicing, "INVOICE_UNIT_LINES", invoice)

    def run_jobs(self, **kwargs):
        return run_queue_jobs(self.env, **kwargs)

    def product_lines(self, batch):
        return batch.invoice_ids.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )

    def month_rows(self):
        """A file with a bit of everything the checks decide."""
        return [
            self.row("EU-discount", quantity=3),
            self.row("EU-markup", quantity=10),
            self.row("EU-discount", quantity=3),  # exact repeat of row 1
            self.row("EU-eur", quantity=4),
            self.row("NOPE", customer="Nobody Ltd"),  # unknown
            self.row("EU-NEW-1", customer="Named Ltd", quantity=2),  # learnt
            self.row("EU-T1", customer="Twice Named Ltd"),  # two identifiers
            self.row("EU-T2", customer="Twice Named Ltd", quantity=2),
            self.row("EU-volume", quantity=150),
            self.row("EU-volume", quantity=-5),  # a correction
            self.row("EU-markup", quantity=11),  # same consumption, other values
        ]

    def results(self, batch):
        return {
            line.row_number: (
                line.state,
                line.message,
                line.subscription_id,
                line.match_method,
                line.price_unit,
                line.price_subtotal,
                line.duplicate_import_id == batch,
            )
            for line in batch.line_ids
        }

    def test_a_file_checked_in_units_gives_the_result_of_one_pass(self):
        data = self.consumption_csv(self.month_rows())
        with self.env.cr.savepoint() as savepoint:
            one_pass = self.import_file(data)
            expected = self.results(one_pass)
            identifiers = (
                self.named.end_user_identifier,
                self.twice_named.end_user_identifier,
            )
            savepoint.rollback()
        self.env.invalidate_all()
        self.assertEqual(identifiers, ("EU-NEW-1", False))
        self.assertFalse(self.named.end_user_identifier)

        self.in_background()
        batch = self.import_file(data)
        self.assertEqual(batch.state, "importing")
        self.assertFalse(batch.line_ids)
        # read, its next, 6 units of 2 rows, their next, learn, its next
        self.assertEqual(self.run_jobs(), 11)
        self.assertEqual(batch.state, "checked")
        self.assertEqual(self.results(batch), expected)
        self.assertEqual(
            (self.named.end_user_identifier, self.twice_named.end_user_identifier),
            identifiers,
        )
        self.assertEqual((batch.progress_total, batch.job_retries), (0, 0))
        self.assertFalse(batch.job_rows_attachment_id)

    def test_the_user_who_started_it_is_told_once_when_it_ends(self):
        self.in_background()
        batch = self.import_rows([self.row("EU-discount"), self.row("NOPE")])
        self.run_jobs()
        notifications = (
            self.env["bus.bus"]
            .sudo()
            .search([("message", "like", batch.name), ("message", "like", "billable")])
        )
        self.assertEqual(len(notifications), 1)
        self.assertIn(f"{self.env.user.partner_id.id}]", notifications.channel)
        self.assertIn("1 rows billable, 1 in error", notifications.message)
        summaries = batch.message_ids.filtered(
            lambda message: self.ops_partner in message.partner_ids
        )
        self.assertEqual(len(summaries), 1)

    def test_invoicing_in_parallel_units_makes_one_invoice_per_reseller(self):
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("EU-markup"), self.row("EU-eur")]
        )
        self.in_background()
        batch.action_create_invoices()
        self.assertEqual(batch.state, "invoicing")
        self.assertFalse(batch.invoice_ids)
        self.run_jobs()
        self.assertEqual(batch.state, "invoiced")
        self.assertEqual(
            batch.invoice_ids.partner_id,
            self.resellers["discount"]
            | self.resellers["markup"]
            | self.resellers["eur"],
        )
        self.assertEqual(len(batch.invoice_ids), 3)
        self.assertTrue(all(batch.line_ids.mapped("billed")))
        self.assertEqual(
            sorted(batch.invoice_ids.mapped("amount_untaxed")), [3.68, 4.5, 9.0]
        )
        # Numbered when posted: units creating the first drafts of a period
        # at once would otherwise each give theirs the period's first number.
        self.assertEqual(batch.invoice_ids.mapped("name"), ["/"] * 3)
        units = (
            self.env["queue.job"]
            .sudo()
            .search(
                [("method_name", "=", "_ppu_job_unit"), ("name", "like", "invoice")]
            )
        )
        self.assertEqual(len(units), 3)
        self.assertEqual(set(units.mapped("channel")), {"root.sophos_ppu"})
        # the three units of the group wait for nothing but the check before
        self.assertEqual(len(set(units.mapped("graph_uuid"))), 1)

    def test_a_reseller_larger_than_a_unit_is_invoiced_in_several_invoices(self):
        self.patch(invoicing, "INVOICE_MAX_LINES", 2)
        customers = [
            self._subscription(
                self.resellers["discount"],
                f"Big {n}",
                f"EU-BIG-{n}",
                self.pricelist_discount,
            )
            for n in range(3)
        ]
        rows = [
            self.row(subscription.end_user_identifier, quantity=2, sku=sku)
            for subscription, count in zip(customers, (3, 2, 2), strict=True)
            for sku in ("CIXA-PPU", "CIXS-PPU", "MDRC-PPU")[:count]
        ]
        batch = self.import_rows(rows)
        self.assertEqual(batch.ok_count, 7)
        self.in_background(invoice=2)
        batch.action_create_invoices()
        self.run_jobs()
        self.assertEqual(batch.state, "invoiced")
        invoices = batch.invoice_ids.sorted("id")
        sizes = [
            len(
                self.product_lines(invoice.ppu_import_id).filtered(
                    lambda line, invoice=invoice: line.move_id == invoice
                )
            )
            for invoice in invoices
        ]
        # Big 0 has 3 rows: alone beyond 2, cut; Big 1 and Big 2 each fit
        self.assertEqual(sorted(sizes), [1, 2, 2, 2])
        self.assertEqual(invoices.partner_id, self.resellers["discount"])
        self.assertEqual(self.product_lines(batch).ppu_import_line_id, batch.line_ids)
        # 7 rows of 2 units at 4.50 (5.00 MSRP − 10 %)
        self.assertAlmostEqual(sum(invoices.mapped("amount_untaxed")), 63.0)

    def test_a_unit_that_fails_undoes_the_whole_run_and_says_why(self):
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("EU-markup"), self.row("EU-volume")]
        )
        self.in_background()
        Import = self.registry["sophos.ppu.import"]
        prepare = Import._ppu_prepare_invoice

        def prepare_or_fail(record, rows, accounting):
            if rows[0]["partner_id"] == self.resellers["volume"].id:
                raise UserError("The volume reseller has no billing address.")
            return prepare(record, rows, accounting)

        self.patch(Import, "_ppu_prepare_invoice", prepare_or_fail)
        batch.action_create_invoices()
        self.run_jobs()
        self.assertEqual(batch.state, "checked")
        self.assertFalse(
            self.env["account.move"].search([("ppu_import_id", "=", batch.id)])
        )
        self.assertFalse(batch.line_ids.filtered("billed"))
        self.assertEqual(
            batch.invoice_error,
            "No invoice was created: The volume reseller has no billing address.",
        )
        self.assertIn("no billing address", batch.message_ids[0].body)

    def test_a_stopped_run_touches_only_what_it_made_and_holds_up_no_batch(self):
        """The posted invoice of an earlier run stays; a run with nothing to
        invoice ends with its reason; another batch queued meanwhile ends."""
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("EU-markup"), self.row("EU-eur")]
        )
        batch.action_create_invoices()
        posted = batch.invoice_ids.filtered(
            lambda move: move.partner_id == self.resellers["discount"]
        )
        posted.action_post()
        (batch.invoice_ids - posted).unlink()
        self.assertEqual(batch.state, "checked")
        self.subscriptions["markup"].state = "closed"
        self.subscriptions["eur"].state = "closed"
        batch.action_check()
        self.in_background()
        batch.with_context(ppu_leave_errors=True).action_create_invoices()
        other = self.import_rows([self.row("EU-volume")])
        self.assertEqual(other.state, "importing")
        self.run_jobs()
        self.assertEqual(batch.state, "checked")
        self.assertEqual(
            batch.invoice_error,
            "No invoice was created: There is nothing to invoice in this import.",
        )
        self.assertEqual(batch.invoice_ids, posted)
        self.assertEqual(posted.state, "posted")
        self.assertEqual(other.state, "checked")
        self.assertEqual(other.ok_count, 1)

    def test_a_unit_killed_is_run_again_without_double_lines(self):
        rows = [self.row("EU-discount"), self.row("EU-markup"), self.row("EU-eur")]
        batch = self.import_rows(rows)
        self.in_background()
        batch.action_create_invoices()
        seen = []

        def kill_the_second_invoicing_unit_once(queued):
            if queued.method_name != "_ppu_job_unit" or queued.args[1] != "invoice":
                return False
            seen.append(queued.uuid)
            return len(seen) == 2

        self.run_jobs(fail=kill_the_second_invoicing_unit_once)
        self.assertEqual(batch.state, "invoiced")
        self.assertEqual(len(self.product_lines(batch)), 3)
        self.assertEqual(self.product_lines(batch).ppu_import_line_id, batch.line_ids)
        retried = self.env["queue.job"].sudo().search([("retry", ">", 1)])
        self.assertEqual(retried.mapped("uuid"), [seen[1]])

    def test_the_batch_says_a_unit_was_retried(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        self.in_background()
        batch.action_create_invoices()
        while batch.job_step != "invoice":
            self.run_jobs(count=1)
        self.run_jobs(count=1, fail=lambda queued: True)
        batch.invalidate_recordset()
        self.assertEqual(batch.job_retries, 1)
        self.run_jobs()
        self.assertEqual(batch.state, "invoiced")

    def test_a_unit_the_job_queue_gives_up_is_shown_and_the_import_cancelled(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        self.in_background()
        batch.action_create_invoices()
        while batch.job_step != "invoice":
            self.run_jobs(count=1)
        unit = (
            self.env["queue.job"]
            .sudo()
            .search(
                [("state", "=", "pending"), ("method_name", "=", "_ppu_job_unit")],
                limit=1,
            )
        )
        # What the job runner writes once a unit died at every try.
        unit.write({"state": "failed", "retry": 6, "exc_name": "JobFoundDead"})
        batch.invalidate_recordset()
        self.assertIn("gave up", batch.job_given_up)
        self.assertIn("JobFoundDead", batch.job_given_up)
        batch.action_cancel()
        self.run_jobs()
        self.assertEqual((batch.state, batch.job_step), ("cancelled", False))
        self.assertFalse(batch.invoice_ids)
        self.assertFalse(batch.line_ids.filtered("billed"))

    def test_a_second_run_on_the_same_rows_bills_nothing_twice(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        self.in_background(invoice=10)
        batch.action_create_invoices()
        self.run_jobs()
        self.assertEqual(batch.state, "invoiced")
        lines_before = self.env["account.move.line"].search_count([])
        rows = batch.line_ids.read(INVOICE_ROW_FIELDS, load=None)
        with (
            self.assertRaisesRegex(UserError, "billed meanwhile"),
            self.env.cr.savepoint(),
        ):
            batch._ppu_create_invoices(rows)
        self.assertEqual(self.env["account.move.line"].search_count([]), lines_before)

    def test_a_cancel_is_recorded_at_once_and_undoes_the_run(self):
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("EU-markup"), self.row("EU-eur")]
        )
        self.in_background()
        batch.action_create_invoices()
        while not batch.invoice_ids:
            if not self.run_jobs(count=1):
                self.fail("the run stopped before its first invoice")
        batch.action_cancel()
        self.assertEqual(batch.state, "cancelled")  # the next unit reads it
        self.run_jobs()
        self.assertFalse(
            self.env["account.move"].search([("ppu_import_id", "=", batch.id)])
        )
        self.assertFalse(batch.line_ids.filtered("billed"))
        self.assertEqual((batch.state, batch.job_step), ("cancelled", False))

    def test_a_second_create_invoices_while_one_runs_is_told_so(self):
        batch = self.import_rows([self.row("EU-discount")])
        self.in_background()
        batch.action_create_invoices()
        with self.assertRaisesRegex(UserError, "being imported or invoiced already"):
            batch.action_create_invoices()

    def test_an_import_that_fails_midway_drops_its_rows_and_is_cancelled(self):
        self.in_background(create=1)
        Import = self.registry["sophos.ppu.import"]
        create_rows = Import._ppu_create_rows

        def fail_on_the_second_unit(record, unit):
            if unit["start"] == 1:
                raise UserError("The disk is full.")
            return create_rows(record, unit)

        self.patch(Import, "_ppu_create_rows", fail_on_the_second_unit)
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        self.run_jobs()
        self.assertEqual(batch.state, "cancelled")
        self.assertFalse(batch.line_ids)
        self.assertIn("The disk is full.", batch.invoice_error)

    def test_a_large_file_that_cannot_be_read_cancels_its_batch(self):
        self.in_background()
        batch = self.import_file(b"%PDF-1.7 not a workbook", filename="october.xlsx")
        self.assertEqual(batch.state, "importing")
        self.run_jobs()
        self.assertEqual(batch.state, "cancelled")
        self.assertIn("october.xlsx cannot be imported", batch.invoice_error)
        self.assertFalse(batch.line_ids)

    def test_errors_found_by_the_check_before_invoicing_stop_it(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        self.subscriptions["markup"].state = "closed"
        self.in_background()
        batch.action_create_invoices()
        self.run_jobs()
        self.assertEqual(batch.state, "checked")
        self.assertFalse(batch.invoice_ids)
        self.assertIn("1 rows of import", batch.invoice_error)
        self.assertEqual(self.line_of(batch, "EU-markup").state, "error")


@tagged("post_install", "-at_install")
class TestImportJobsConcurrency(TransactionCase):
    """Two "Create Invoices" of one batch at the same moment, in two real
    transactions: the second is told so, never a raw database error. Runs
    on committed data in the main company, removed afterwards."""

    def test_a_click_while_another_transaction_holds_the_batch_is_told_so(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            attachment = env["ir.attachment"].create(
                {"name": "race.csv", "raw": b"x", "res_model": "sophos.ppu.import"}
            )
            with trusted():
                batch = env["sophos.ppu.import"].create(
                    {
                        "period_date": "2026-10-01",
                        "attachment_id": attachment.id,
                        "state": "checked",
                    }
                )
            cr.commit()
        try:
            with self.registry.cursor() as first, self.registry.cursor() as second:
                first.execute(
                    "SELECT id FROM sophos_ppu_import WHERE id = %s FOR UPDATE",
                    [batch.id],
                )
                env = api.Environment(second, SUPERUSER_ID, {})
                with self.assertRaisesRegex(UserError, "being changed by another run"):
                    env["sophos.ppu.import"].browse(batch.id).action_create_invoices()
                self.assertEqual(
                    env["sophos.ppu.import"].browse(batch.id).state, "checked"
                )
                first.rollback()
        finally:
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM sophos_ppu_import WHERE id = %s", [batch.id])
                cr.execute("DELETE FROM ir_attachment WHERE id = %s", [attachment.id])
