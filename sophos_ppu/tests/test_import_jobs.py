# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The import and the invoicing as background jobs, driven synchronously:
chunks give the result of one pass, a failing chunk undoes the run, an
interrupted run resumes without double lines, a cancel stops the run."""

from odoo.exceptions import UserError
from odoo.tests import RecordCapturer, tagged

from odoo.addons.sophos_ppu.models import cron_run
from odoo.addons.sophos_ppu.models import sophos_ppu_import_job as job
from odoo.addons.sophos_ppu.models.sophos_ppu_import_invoice import (
    INVOICE_ROW_FIELDS,
)

from .common_import import PpuImportCommon


class Interrupted(Exception):
    """A worker killed mid-chunk: its transaction is rolled back."""


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
        """Nothing inline; chunks of a few rows."""
        self.patch(job, "INLINE_FILE_BYTES", 0)
        self.patch(job, "INLINE_ROWS", 0)
        self.patch(job, "CREATE_CHUNK", create)
        self.patch(job, "CHECK_CHUNK", check)
        self.patch(job, "INVOICE_CHUNK", invoice)

    def run_jobs(self, max_runs=200):
        """Call the scheduled action as Odoo does until no batch runs;
        :returns: the number of chunks run."""
        for runs in range(max_runs):
            if not self.Import.search_count([("state", "in", job.RUNNING)]):
                return runs
            self.Import._ppu_run_jobs()
        self.fail("the background jobs never end")

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

    def test_a_file_checked_in_chunks_gives_the_result_of_one_pass(self):
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
        self.assertGreater(self.run_jobs(), 6)
        self.assertEqual(batch.state, "checked")
        self.assertEqual(self.results(batch), expected)
        self.assertEqual(
            (self.named.end_user_identifier, self.twice_named.end_user_identifier),
            identifiers,
        )
        self.assertEqual((batch.progress_done, batch.progress_total), (11, 11))
        self.assertFalse(batch.job_rows_attachment_id)

    def test_the_user_who_started_it_is_told_when_it_ends(self):
        self.in_background()
        batch = self.import_rows([self.row("EU-discount"), self.row("NOPE")])
        self.run_jobs()
        notification = (
            self.env["bus.bus"]
            .sudo()
            .search([("message", "like", batch.name)], order="id desc", limit=1)
        )
        self.assertIn(f"{self.env.user.partner_id.id}]", notification.channel)
        self.assertIn("1 rows billable, 1 in error", notification.message)
        summaries = batch.message_ids.filtered(
            lambda message: self.ops_partner in message.partner_ids
        )
        self.assertEqual(len(summaries), 1)

    def test_invoicing_in_chunks_makes_one_invoice_per_reseller(self):
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

    def test_a_chunk_that_fails_leaves_no_invoice_and_says_why(self):
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("EU-markup"), self.row("EU-volume")]
        )
        self.in_background()
        Import = self.registry["sophos.ppu.import"]
        prepare = Import._ppu_prepare_invoice_vals

        def prepare_or_fail(record, partner, currency, lines, cache):
            if partner == self.resellers["volume"]:
                raise UserError("The volume reseller has no billing address.")
            return prepare(record, partner, currency, lines, cache)

        self.patch(Import, "_ppu_prepare_invoice_vals", prepare_or_fail)
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

    def test_a_run_killed_after_a_committed_chunk_resumes_without_double_lines(self):
        rows = [self.row("EU-discount"), self.row("EU-markup"), self.row("EU-eur")]
        batch = self.import_rows(rows)
        self.in_background()
        batch.action_create_invoices()
        while batch.job_step != "invoice":
            self.Import._ppu_run_jobs()
        self.Import._ppu_run_jobs()  # one reseller invoiced and committed
        self.assertEqual(len(batch.invoice_ids), 1)
        with self.assertRaises(Interrupted), self.env.cr.savepoint():
            self.Import._ppu_run_jobs()  # the next one, killed before commit
            raise Interrupted
        self.env.invalidate_all()
        self.assertEqual(len(batch.invoice_ids), 1)
        self.run_jobs()
        self.assertEqual(batch.state, "invoiced")
        product_lines = batch.invoice_ids.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        self.assertEqual(len(product_lines), 3)
        self.assertEqual(product_lines.ppu_import_line_id, batch.line_ids)

    def test_a_second_run_on_the_same_rows_bills_nothing_twice(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        self.in_background(invoice=10)
        batch.action_create_invoices()
        while batch.job_step != "invoice":
            self.Import._ppu_run_jobs()
        stale = self.env["sophos.ppu.import.line"].search_read(
            batch._ppu_billable_domain(), ["id"], load=None
        )
        self.run_jobs()
        self.assertEqual(batch.state, "invoiced")
        lines_before = self.env["account.move.line"].search_count([])
        rows = batch.line_ids.read(INVOICE_ROW_FIELDS, load=None)
        self.assertEqual({row["id"] for row in rows}, {row["id"] for row in stale})
        with (
            self.assertRaisesRegex(UserError, "billed meanwhile"),
            self.env.cr.savepoint(),
        ):
            batch._ppu_create_invoices(rows)
        self.assertEqual(self.env["account.move.line"].search_count([]), lines_before)

    def test_cancel_during_a_run_stops_it(self):
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("EU-markup"), self.row("EU-eur")]
        )
        self.in_background()
        batch.action_create_invoices()
        while not batch.invoice_ids:
            self.Import._ppu_run_jobs()
        batch.action_cancel()
        self.assertEqual(batch.state, "cancelled")
        self.assertFalse(batch.invoice_ids)
        self.assertFalse(batch.line_ids.filtered("billed"))
        self.assertEqual(self.run_jobs(), 0)
        self.assertFalse(
            self.env["account.move"].search([("ppu_import_id", "=", batch.id)])
        )

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

    def test_a_run_past_its_budget_hands_over_to_a_fresh_one(self):
        cron = self.env.ref("sophos_ppu.ir_cron_ppu_import_jobs")
        progress = self.env["ir.cron.progress"].sudo().create({"cron_id": cron.id})
        cron = cron.with_context(ir_cron_progress_id=progress.id)
        run = cron_run.CronRun()
        triggers = self.env["ir.cron.trigger"].sudo()
        run.begin()
        with RecordCapturer(triggers, [("cron_id", "=", cron.id)]) as woken:
            run.report(cron, done=1, remaining=3)
        # Within its budget the run goes on, and the cron workers are woken.
        self.assertEqual((progress.done, progress.remaining), (1, 3))
        self.assertEqual(len(woken.records), 1)
        run.started -= cron_run.RUN_BUDGET_SECONDS + 1
        with RecordCapturer(triggers, [("cron_id", "=", cron.id)]) as woken:
            run.report(cron, done=1, remaining=3)
        # Past it, the run reports nothing left and a fresh run is triggered.
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertEqual(len(woken.records), 1)
