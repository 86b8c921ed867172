# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import importlib.util
from pathlib import Path
from unittest.mock import patch

from odoo.tests import RecordCapturer, new_test_user, tagged

from odoo.addons.queue_job.job import Job
from odoo.addons.sophos_ppu.models import account_move, account_move_post

from .common_import import PpuImportCommon, perform_queue_job, run_queue_jobs

STATEMENT = "sophos_ppu.mail_template_ppu_invoice_reseller"
SEND_CRON = "account.ir_cron_account_move_send"
MAIL_CRON = "mail.ir_cron_mail_scheduler_action"
CHANNEL = "root.sophos_ppu"
POSTING_JOBS = ("_ppu_job_post", "_ppu_job_posted")
SENDING_JOBS = ("_ppu_job_send_statements",)


def load_migration(version, stage="post"):
    """The ``migrate`` function of a migration script of the addon, without
    openupgradelib's decorator (which inspects Odoo's loader)."""
    path = (
        Path(__file__).resolve().parent.parent
        / "migrations"
        / version
        / f"{stage}-migration.py"
    )
    spec = importlib.util.spec_from_file_location(f"ppu_{stage}_{version}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.migrate.__wrapped__


def ppu_jobs(env, methods=POSTING_JOBS + SENDING_JOBS, state=None):
    """The stored queue_job jobs of posting and sending, oldest first."""
    domain = [("model_name", "=", "account.move"), ("method_name", "in", methods)]
    if state:
        domain.append(("state", "=", state))
    return env["queue.job"].sudo().search(domain, order="id")


def records_of(jobs):
    """The records that ``jobs`` work on, together."""
    records = jobs.env["account.move"]
    for job in jobs:
        records |= job.records
    return records


def run_ppu_jobs(env, methods=POSTING_JOBS + SENDING_JOBS):
    """Run the pending jobs of ``methods`` as queue_job's runner does (loaded
    from the database, as the user stored with them, marked done, their
    dependent jobs released), one after the other in this transaction,
    until none is pending."""
    for _round in range(20):
        pending = ppu_jobs(env, methods, state="pending")
        if not pending:
            return
        for record in pending:
            perform_queue_job(env, record.uuid)
    raise AssertionError("jobs still pending after 20 rounds")


@tagged("post_install", "-at_install")
class TestImportMails(PpuImportCommon):
    def _template_mails(self, template_xmlid, record):
        template = self.env.ref(template_xmlid)
        return self.env["mail.mail"].search(
            [
                ("model", "=", record._name),
                ("res_id", "=", record.id),
                (
                    "subject",
                    "=",
                    template._render_field("subject", record.ids)[record.id],
                ),
            ]
        )

    def _send_queued(self):
        """What queue_job's runner does with the sending jobs that posting
        enqueued."""
        run_ppu_jobs(self.env, SENDING_JOBS)

    def _statements(self, invoice):
        return self._template_mails(STATEMENT, invoice)

    def _posted_statement(self, quantity=7):
        """Post the discount reseller's invoice (two end customers), send
        the queue, return (invoice, its one statement mail, Aardvark's
        subscription)."""
        batch, other = self.invoice_two_end_customers(quantity=quantity)
        invoice = batch.invoice_ids
        invoice.invoice_date = "2026-11-02"
        invoice.action_post()
        self._send_queued()
        mail = self._statements(invoice)
        self.assertEqual(len(mail), 1)
        return invoice, mail, other

    def test_posting_a_ppu_invoice_mails_the_reseller_its_breakdown(self):
        invoice, mail, other = self._posted_statement(quantity=7)
        self.assertEqual(mail.recipient_ids, self.resellers["discount"])
        self.assertIn("October 2026", mail.subject)
        body = mail.body_html
        self.assertLess(body.index("Aardvark Ltd"), body.index("Customer discount"))
        self.assertIn("Aardvark Ltd — Intercept X Server — 2026-10-01–2026-10-31", body)
        self.assertIn("$&nbsp;31.50", body)  # 7 x 4.50 for Customer discount
        self.assertIn("$&nbsp;9.00", body)  # 2 x 4.50 for Aardvark Ltd
        self.assertIn(f"$&nbsp;{invoice.amount_total:,.2f}", body)
        self.assertEqual(len(mail.attachment_ids), 1)
        self.assertIn(other.end_customer_id.name, body)
        # One trace on the invoice, as when an accountant sends it.
        self.assertEqual(mail.mail_message_id.model, "account.move")

    def test_the_statement_is_headed_invoice_with_clean_quantities_and_links(self):
        invoice, mail, _other = self._posted_statement(quantity=7)
        body = mail.body_html
        self.assertIn("Your Invoice", body)
        self.assertNotIn("Journal Entry", body)
        self.assertIn(invoice.name, body)
        self.assertIn(">7</td>", body)
        self.assertIn(">2</td>", body)
        self.assertNotIn(".0</td>", body)
        self.assertIn(f"/my/invoices/{invoice.id}?access_token=", body)
        self.assertIn(invoice.access_token, body)
        self.assertIn("/my/ppu", body)

    def test_posting_queues_the_statement_and_mails_nothing_itself(self):
        batch, _other = self.invoice_two_end_customers(quantity=7)
        invoice = batch.invoice_ids
        invoice.invoice_date = "2026-11-02"
        mails_before = self.env["mail.mail"].search_count([])
        with RecordCapturer(
            self.env["ir.cron.trigger"].sudo(),
            [("cron_id", "=", self.env.ref(SEND_CRON).id)],
        ) as triggers:
            invoice.action_post()
        self.assertEqual(invoice.state, "posted")
        # One sending job in the PPU channel, run as the user who posted;
        # Odoo's sending scheduled action is not woken (it is a safety net).
        job = ppu_jobs(self.env)
        self.assertEqual(len(job), 1)
        self.assertEqual(job.method_name, "_ppu_job_send_statements")
        self.assertEqual(job.channel, CHANNEL)
        self.assertEqual(job.state, "pending")
        self.assertEqual(job.user_id, self.env.user)
        self.assertEqual(job.records, invoice)
        self.assertFalse(triggers.records)
        self.assertEqual(
            invoice.sending_data,
            {
                "author_user_id": self.env.user.id,
                "author_partner_id": self.env.user.partner_id.id,
            },
        )
        self.assertTrue(invoice.is_being_sent)
        self.assertFalse(invoice.is_move_sent)
        self.assertFalse(invoice.invoice_pdf_report_id)
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)
        self.assertFalse(
            invoice.message_ids.filtered(lambda m: m.message_type == "comment")
        )

    def test_the_job_sends_one_statement_with_the_pdf_and_wakes_the_mail_queue(
        self,
    ):
        batch, _other = self.invoice_two_end_customers(quantity=7)
        invoice = batch.invoice_ids
        invoice.invoice_date = "2026-11-02"
        invoice.action_post()
        with RecordCapturer(
            self.env["ir.cron.trigger"].sudo(),
            [("cron_id", "=", self.env.ref(MAIL_CRON).id)],
        ) as triggers:
            self._send_queued()
        self.assertEqual(len(triggers.records), 1)
        self.assertEqual(ppu_jobs(self.env).state, "done")
        mail = self._statements(invoice)
        self.assertEqual(len(mail), 1)
        # Sent as Odoo sends invoices: by the accountant who posted, the PDF
        # kept on the invoice and attached, the invoice marked sent.
        self.assertEqual(mail.mail_message_id.author_id, self.env.user.partner_id)
        self.assertEqual(mail.recipient_ids, self.resellers["discount"])
        self.assertTrue(invoice.is_move_sent)
        self.assertFalse(invoice.sending_data)
        pdf = invoice.invoice_pdf_report_id
        self.assertTrue(pdf)
        self.assertEqual(mail.attachment_ids.name, pdf.name)
        self.assertEqual(pdf.name, invoice._get_invoice_report_filename())
        # Nothing left to send: neither the job run again nor Odoo's
        # scheduled action sends anything more.
        Job.load(self.env, ppu_jobs(self.env).uuid).perform()
        self.env.ref(SEND_CRON).method_direct_trigger()
        self.assertEqual(len(self._statements(invoice)), 1)
        self.assertFalse(
            self._template_mails("account.email_template_edi_invoice", invoice)
        )

    def test_posting_several_invoices_at_once_sends_one_statement_each(self):
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=7),
                self.row("EU-markup", quantity=10),
                self.row("EU-eur", quantity=3),
            ]
        )
        batch.action_create_invoices()
        invoices = batch.invoice_ids
        self.assertEqual(len(invoices), 3)
        invoices.invoice_date = "2026-11-02"
        # A few statements per job (STATEMENTS_PER_JOB), so that the jobs
        # share the month between the channel's workers.
        self.patch(account_move, "STATEMENTS_PER_JOB", 2)
        # The list view's "Confirm Entries" on the selection.
        wizard = (
            self.env["validate.account.move"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create({})
        )
        wizard.validate_move()
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        self.assertTrue(all(invoices.mapped("is_being_sent")))
        jobs = ppu_jobs(self.env)
        self.assertEqual(jobs.mapped("method_name"), list(SENDING_JOBS) * 2)
        self.assertEqual([len(job.records) for job in jobs], [2, 1])
        self.assertEqual(records_of(jobs), invoices)
        self._send_queued()
        self.assertFalse(invoices.filtered("is_being_sent"))
        for invoice in invoices:
            mail = self._statements(invoice)
            self.assertEqual(len(mail), 1, invoice.partner_id.name)
            self.assertEqual(mail.recipient_ids, invoice.partner_id)
            self.assertEqual(len(mail.attachment_ids), 1)
            self.assertTrue(invoice.is_move_sent)

    def test_odoos_scheduled_action_still_sends_waiting_statements_a_few_a_run(
        self,
    ):
        """The safety net: where no job runs, Odoo's daily "Send invoices
        automatically" sends the statements, STATEMENTS_PER_RUN per run, and
        calls itself again while invoices wait; the jobs then find them
        sent."""
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=7),
                self.row("EU-markup", quantity=10),
                self.row("EU-eur", quantity=3),
            ]
        )
        batch.action_create_invoices()
        invoices = batch.invoice_ids
        invoices.invoice_date = "2026-11-02"
        invoices.action_post()
        self.patch(account_move, "STATEMENTS_PER_RUN", 2)
        Move = self.env["account.move"]
        with RecordCapturer(
            self.env["ir.cron.trigger"].sudo(),
            [("cron_id", "=", self.env.ref(SEND_CRON).id)],
        ) as triggers:
            Move._cron_account_move_send(job_count=20)
        self.assertEqual(len(triggers.records), 1)
        self.assertEqual(len(invoices.filtered("is_being_sent")), 1)
        Move._cron_account_move_send(job_count=20)
        self.assertFalse(invoices.filtered("is_being_sent"))
        self._send_queued()
        for invoice in invoices:
            self.assertEqual(len(self._statements(invoice)), 1)

    def test_a_job_does_nothing_for_an_invoice_sent_meanwhile(self):
        batch, _other = self.invoice_two_end_customers(quantity=7)
        invoice = batch.invoice_ids
        invoice.invoice_date = "2026-11-02"
        invoice.action_post()
        # The accountant sends it with "Send" before the job runs.
        self.env["account.move.send"]._generate_and_send_invoices(invoice)
        self.assertTrue(invoice.is_move_sent)
        self.assertEqual(len(self._statements(invoice)), 1)
        self._send_queued()
        self.assertEqual(len(self._statements(invoice)), 1)

    def test_reposting_a_sent_invoice_does_not_send_it_again(self):
        invoice, _mail, _other = self._posted_statement()
        invoice.button_draft()
        invoice.action_post()
        self.assertFalse(invoice.sending_data)
        self._send_queued()
        self.assertEqual(len(self._statements(invoice)), 1)

    def test_an_invoice_reset_to_draft_before_sending_is_sent_once_when_posted(self):
        batch, _other = self.invoice_two_end_customers(quantity=7)
        invoice = batch.invoice_ids
        invoice.invoice_date = "2026-11-02"
        invoice.action_post()
        invoice.button_draft()
        # A draft leaves the queue: its job does nothing for it.
        self.assertFalse(invoice.sending_data)
        self._send_queued()
        self.assertFalse(self._statements(invoice))
        self.assertFalse(invoice.is_move_sent)
        self.assertEqual(ppu_jobs(self.env).state, "done")
        invoice.action_post()
        self._send_queued()
        self.assertEqual(len(self._statements(invoice)), 1)
        self.assertTrue(invoice.is_move_sent)
        self.assertEqual(len(ppu_jobs(self.env)), 2)

    def test_send_wizard_of_a_ppu_invoice_proposes_the_statement(self):
        invoice, _mail, _other = self._posted_statement()
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
        )
        self.assertEqual(wizard.mail_template_id, self.env.ref(STATEMENT))

    def test_statement_quantities_keep_the_decimals_they_have(self):
        move = self.env["account.move"]
        self.assertEqual(move._ppu_quantity_text(51.0), "51")
        self.assertEqual(move._ppu_quantity_text(2.5), "2.5")
        self.assertEqual(move._ppu_quantity_text(-3.25), "-3.25")
        self.assertEqual(move._ppu_quantity_text(1234.0), "1,234")

    def test_posting_an_ordinary_invoice_sends_no_ppu_mail(self):
        invoice = self.init_invoice("out_invoice", products=self.product_a, post=True)
        self.assertFalse(invoice.sending_data)
        self.assertFalse(ppu_jobs(self.env))
        self._send_queued()
        self.assertFalse(self._statements(invoice))
        self.assertFalse(
            self._template_mails("account.email_template_edi_invoice", invoice)
        )
        self.assertFalse(invoice.is_move_sent)
        self.assertEqual(
            invoice._get_mail_template(),
            self.env.ref("account.email_template_edi_invoice"),
        )

    def _summaries(self, batch):
        return batch.message_ids.filtered(
            lambda m: (m.subject or "").startswith("Sophos consumption import")
        )

    def test_each_check_is_one_message_mailed_once_to_each_ops_recipient(self):
        other_ops = self.env["res.partner"].create(
            {"name": "PPU Ops 2", "email": "ops2@distributor.example.com"}
        )
        self.company.ppu_ops_partner_ids = self.ops_partner | other_ops
        batch = self.import_rows(
            [self.row("EU-discount", quantity=7), self.row("NOPE")]
        )
        summary = self._summaries(batch)
        self.assertEqual(len(summary), 1)
        self.assertEqual(summary.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertEqual(summary.partner_ids, self.ops_partner | other_ops)
        mails = self.env["mail.mail"].search(
            [("model", "=", batch._name), ("res_id", "=", batch.id)]
        )
        self.assertEqual(mails.mail_message_id, summary)
        for partner in self.ops_partner | other_ops:
            self.assertEqual(
                len(mails.filtered(lambda mail, p=partner: p in mail.recipient_ids)),
                1,
            )
        # A check that changes the summary posts it again (one that changes
        # nothing posts none: test_batch_walk).
        self._subscription(
            self.resellers["discount"], "Nope Ltd", "NOPE", self.pricelist_discount
        )
        batch.action_check()
        self.assertEqual(len(self._summaries(batch)), 2)

    def test_the_checked_summary_counts_billable_rows_in_money_with_links(self):
        batch = self.import_rows(
            [self.row("EU-discount", quantity=7), self.row("NOPE")]
        )
        mail = self._template_mails(
            "sophos_ppu.mail_template_ppu_import_summary_ops", batch
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.ops_partner)
        self.assertTrue(mail.subject.endswith(": Checked"), mail.subject)
        body = mail.body_html
        self.assertIn("Rows: 2", body)
        self.assertIn("Billable: 1", body)
        self.assertNotIn("Billed:", body)
        self.assertIn("Errors: 1", body)
        self.assertIn("Duplicates: 0", body)
        self.assertIn("Reseller discount", body)
        self.assertIn("$&nbsp;31.50", body)
        self.assertNotIn("31.50 USD", body)
        self.assertIn(f"/mail/view?model=sophos.ppu.import&amp;res_id={batch.id}", body)
        self.assertIn(f"/sophos_ppu/import/{batch.id}/issues.xlsx", body)
        error = self.line_of(batch, "NOPE")
        self.assertIn(f"Row {error.row_number}: {error.message}", body)

    def test_the_invoiced_summary_counts_billed_rows(self):
        batch = self.import_rows([self.row("EU-markup", quantity=10)])
        batch.action_create_invoices()
        summaries = self._summaries(batch).sorted("id")
        self.assertEqual(len(summaries), 2)
        mails = self.env["mail.mail"].search(
            [("model", "=", batch._name), ("res_id", "=", batch.id)]
        )
        self.assertEqual(len(mails), 2)
        self.assertEqual(mails.recipient_ids, self.ops_partner)
        last = mails.sorted("id")[-1].body_html
        self.assertIn("Invoiced", last)
        self.assertIn("Billed: 1", last)
        self.assertIn("$&nbsp;36.80", last)
        self.assertNotIn("issues.xlsx", last)


@tagged("post_install", "-at_install")
class TestPostingInBackground(PpuImportCommon):
    """ "Confirm Entries" on a month of PPU invoices: more lines than a
    request posts in time are posted by queue_job units that run in
    parallel, as the accountant who confirmed, who is notified once."""

    def setUp(self):
        super().setUp()
        # Three invoices of a few lines stand for a month: beyond one line
        # they are posted in the background, one invoice per unit.
        for name in ("PPU_POST_INLINE_LINES", "POST_JOB_LINES"):
            patcher = patch.object(account_move_post, name, 1)
            patcher.start()
            self.addCleanup(patcher.stop)
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=7),
                self.row("EU-markup", quantity=10),
                self.row("EU-eur", quantity=3),
            ]
        )
        batch.action_create_invoices()
        self.invoices = batch.invoice_ids
        self.assertEqual(len(self.invoices), 3)
        self.accountant = new_test_user(
            self.env,
            login="ppu_accountant",
            groups="base.group_user,account.group_account_invoice",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )

    def _confirm(self, moves, user=None):
        """The invoice list's "Confirm Entries" on ``moves``, by ``user`` (the
        accountant)."""
        return (
            self.env["validate.account.move"]
            .with_user(user or self.accountant)
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({})
            .validate_move()
        )

    def _statements(self, invoice):
        return self.env["mail.mail"].search(
            [
                ("model", "=", "account.move"),
                ("res_id", "=", invoice.id),
                (
                    "subject",
                    "=",
                    self.env.ref(STATEMENT)._render_field("subject", invoice.ids)[
                        invoice.id
                    ],
                ),
            ]
        )

    def test_confirming_enqueues_units_and_posts_nothing_itself(self):
        action = self._confirm(self.invoices)
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("3 invoices are being posted", action["params"]["message"])
        self.assertEqual(set(self.invoices.mapped("state")), {"draft"})
        self.assertTrue(all(self.invoices.mapped("ppu_posting_data")))
        self.assertFalse(self.invoices.filtered("sending_data"))
        # One unit per invoice (one line each here), one after the other
        # (one journal numbers its invoices in turn), then the notification,
        # waiting for them all; every job is the accountant's.
        jobs = ppu_jobs(self.env)
        units = jobs.filtered(lambda job: job.method_name == "_ppu_job_post")
        final = jobs - units
        self.assertEqual(len(units), 3)
        self.assertEqual(records_of(units), self.invoices)
        self.assertEqual(
            sorted(units.mapped("state")),
            ["pending", "wait_dependencies", "wait_dependencies"],
        )
        self.assertEqual(final.method_name, "_ppu_job_posted")
        self.assertEqual(final.state, "wait_dependencies")
        self.assertEqual(final.records, self.invoices)
        self.assertEqual(len(set(jobs.mapped("graph_uuid"))), 1)
        self.assertEqual(set(jobs.mapped("channel")), {CHANNEL})
        self.assertEqual(jobs.user_id, self.accountant)
        # The mark of a waiting invoice names no user.
        self.assertEqual(self.invoices.mapped("ppu_posting_data"), [True] * 3)

    def test_the_units_post_as_the_accountant_who_is_notified_once(self):
        self._confirm(self.invoices)
        users = self.registry["res.users"]
        partners = self.registry["res.partner"]
        with (
            patch.object(users, "_bus_send", autospec=True) as bus_send,
            patch.object(partners, "_bus_send", autospec=True) as warning,
        ):
            first = ppu_jobs(self.env, state="pending")[0]
            Job.load(self.env, first.uuid).perform()
            posted = self.invoices.filtered(lambda move: move.state == "posted")
            self.assertEqual(posted, first.records)
            self.assertFalse(posted.ppu_posting_data)
            bus_send.assert_not_called()
            run_ppu_jobs(self.env, POSTING_JOBS)
            bus_send.assert_called_once()
            warning.assert_not_called()
        self.assertEqual(set(self.invoices.mapped("state")), {"posted"})
        self.assertFalse(self.invoices.filtered("ppu_posting_data"))
        self.assertEqual(bus_send.call_args.args[0], self.accountant)
        self.assertEqual(bus_send.call_args.args[1], "simple_notification")
        self.assertIn("The 3 invoices", bus_send.call_args.args[2]["message"])
        # Posted by the accountant (who posts is who sends the statements:
        # ``sending_data``), whose jobs send them.
        for invoice in self.invoices:
            self.assertEqual(invoice.sending_data["author_user_id"], self.accountant.id)
        sending = ppu_jobs(self.env, SENDING_JOBS)
        self.assertEqual(sending.user_id, self.accountant)
        self.assertEqual(set(sending.mapped("channel")), {CHANNEL})
        with RecordCapturer(
            self.env["ir.cron.trigger"].sudo(),
            [("cron_id", "=", self.env.ref(MAIL_CRON).id)],
        ) as triggers:
            run_ppu_jobs(self.env, SENDING_JOBS)
        self.assertEqual(len(triggers.records), len(sending))
        for invoice in self.invoices:
            mail = self._statements(invoice)
            self.assertEqual(len(mail), 1, invoice.partner_id.name)
            self.assertEqual(mail.recipient_ids, invoice.partner_id)
            self.assertTrue(invoice.is_move_sent)

    def test_the_posting_user_is_never_taken_from_a_written_value(self):
        """``ppu_posting_data`` can be written by an accountant on a draft:
        nothing reads a user from it, the jobs post as whoever enqueued."""
        admin = self.env.ref("base.user_admin")
        self._confirm(self.invoices)
        self.invoices.with_user(self.accountant).write(
            {"ppu_posting_data": {"user_id": admin.id, "soft": False}}
        )
        users = self.registry["res.users"]
        with patch.object(users, "_bus_send", autospec=True) as bus_send:
            run_ppu_jobs(self.env, POSTING_JOBS)
        self.assertEqual(set(self.invoices.mapped("state")), {"posted"})
        for invoice in self.invoices:
            self.assertEqual(invoice.sending_data["author_user_id"], self.accountant.id)
        bus_send.assert_called_once()
        self.assertEqual(bus_send.call_args.args[0], self.accountant)
        # A value written on a draft nobody confirmed posts nothing.
        other = self.invoices[0].copy({"invoice_date": "2026-11-02"})
        other.write({"ppu_posting_data": {"user_id": admin.id}})
        run_ppu_jobs(self.env)
        self.assertEqual(other.state, "draft")

    def test_an_invoice_odoo_refuses_says_why_and_the_one_notice_lists_it(self):
        self._confirm(self.invoices)
        refused = self.invoices[0]
        refused.partner_id = False
        users = self.registry["res.users"]
        partners = self.registry["res.partner"]
        with (
            patch.object(users, "_bus_send", autospec=True) as success,
            patch.object(partners, "_bus_send", autospec=True) as bus_send,
        ):
            run_ppu_jobs(self.env, POSTING_JOBS)
        self.assertEqual(refused.state, "draft")
        self.assertFalse(self.invoices.filtered("ppu_posting_data"))
        self.assertEqual(
            (self.invoices - refused).mapped("state"), ["posted", "posted"]
        )
        self.assertIn("could not be posted", refused.message_ids[0].body)
        self.assertIn("Customer", refused.message_ids[0].body)
        success.assert_not_called()
        bus_send.assert_called_once()
        self.assertEqual(bus_send.call_args.args[0], self.accountant.partner_id)
        warning = bus_send.call_args.args[2]
        self.assertEqual(warning["action_button"]["res_ids"], refused.ids)
        self.assertIn("2 of the 3 invoices", warning["message"])
        self.assertEqual(
            set(ppu_jobs(self.env, POSTING_JOBS).mapped("state")), {"done"}
        )

    def test_an_invoice_posted_by_hand_meanwhile_is_posted_and_sent_once(self):
        self._confirm(self.invoices)
        self.invoices[1].action_post()
        self.assertFalse(self.invoices[1].ppu_posting_data)
        run_ppu_jobs(self.env)
        self.assertEqual(set(self.invoices.mapped("state")), {"posted"})
        for invoice in self.invoices:
            self.assertEqual(len(self._statements(invoice)), 1)

    def test_an_ordinary_invoice_in_the_selection_is_left_to_odoo(self):
        ordinary = self.init_invoice(
            "out_invoice", products=self.product_a, invoice_date="2026-11-02"
        )
        self._confirm(self.invoices | ordinary)
        # Posted at once by Odoo, in no job, sent nothing.
        self.assertEqual(ordinary.state, "posted")
        self.assertFalse(ordinary.ppu_posting_data)
        self.assertFalse(ordinary.sending_data)
        self.assertNotIn(ordinary, records_of(ppu_jobs(self.env)))
        run_ppu_jobs(self.env)
        self.assertFalse(ordinary.is_move_sent)
        self.assertFalse(self._statements(ordinary))
        self.assertNotIn(ordinary, records_of(ppu_jobs(self.env)))

    def test_a_selection_within_the_limit_is_posted_at_once(self):
        with patch.object(account_move_post, "PPU_POST_INLINE_LINES", 10_000):
            action = self._confirm(self.invoices)
        self.assertEqual(action["type"], "ir.actions.act_window_close")
        self.assertEqual(set(self.invoices.mapped("state")), {"posted"})
        self.assertFalse(self.invoices.filtered("ppu_posting_data"))
        self.assertFalse(ppu_jobs(self.env, POSTING_JOBS))
        self.assertEqual(records_of(ppu_jobs(self.env, SENDING_JOBS)), self.invoices)

    def test_the_upgrade_removes_the_scheduled_actions_and_frees_their_queue(self):
        """18.0.1.3.0: the scheduled actions that the jobs replace are deleted;
        an invoice the old posting action had queued, with a user in its
        mark, is a draft again that says so, and no job posts it."""
        admin = self.env.ref("base.user_admin")
        crons = self.env["ir.cron"]
        for name in ("ir_cron_ppu_post_invoices", "ir_cron_ppu_import_jobs"):
            cron = self.env["ir.cron"].create(
                {
                    "name": f"Sophos PPU: {name}",
                    "model_id": self.env.ref("account.model_account_move").id,
                    "state": "code",
                    "code": "model.browse()",
                }
            )
            self.env["ir.model.data"].create(
                {
                    "module": "sophos_ppu",
                    "name": name,
                    "model": "ir.cron",
                    "res_id": cron.id,
                    "noupdate": True,
                }
            )
            crons |= cron
        waiting = self.invoices[0]
        waiting._ppu_set_posting_data({"user_id": admin.id, "soft": True, "total": 1})
        load_migration("18.0.1.3.0")(self.env, "18.0.1.2.0")
        self.assertFalse(crons.exists())
        self.assertFalse(self.env.ref("sophos_ppu.ir_cron_ppu_post_invoices", False))
        self.assertFalse(waiting.ppu_posting_data)
        self.assertEqual(waiting.state, "draft")
        self.assertIn("confirm it again", waiting.message_ids[0].body)
        self.assertFalse(ppu_jobs(self.env))


@tagged("post_install", "-at_install")
class TestUpgradeResumesBatches(PpuImportCommon):
    """18.0.1.3.0: batches the removed scheduled action was working on run
    again as jobs, and bill nothing twice."""

    def test_an_interrupted_invoicing_goes_on_as_jobs(self):
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("EU-markup"), self.row("EU-eur")]
        )
        batch.action_create_invoices()
        # As the removed action left it: one reseller invoiced, then stopped.
        kept = batch.invoice_ids.filtered(
            lambda move: move.partner_id == self.resellers["discount"]
        )
        (batch.invoice_ids - kept).unlink()
        batch._ppu_write({"state": "invoicing", "job_step": "invoice"})
        load_migration("18.0.1.3.0")(self.env, "18.0.1.2.0")
        self.assertEqual(batch.state, "invoiced")  # small: invoiced at once
        self.assertEqual(len(batch.invoice_ids), 3)
        self.assertIn(kept, batch.invoice_ids)
        lines = batch.invoice_ids.invoice_line_ids.filtered("ppu_import_line_id")
        self.assertEqual(lines.ppu_import_line_id, batch.line_ids)
        self.assertEqual(len(lines), 3)

    def test_an_interrupted_import_is_read_again_as_jobs(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        batch._ppu_write({"state": "importing", "job_step": "create"})
        batch.line_ids[1:]._ppu_unlink()  # the removed action's first chunk
        load_migration("18.0.1.3.0")(self.env, "18.0.1.2.0")
        self.assertEqual((batch.state, batch.job_kind), ("importing", "import"))
        self.assertFalse(batch.line_ids)
        run_queue_jobs(self.env)
        self.assertEqual(batch.state, "checked")
        self.assertEqual(batch.line_ids.mapped("state"), ["ok", "ok"])
