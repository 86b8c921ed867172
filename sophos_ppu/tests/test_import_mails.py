# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from unittest.mock import patch

from odoo.tests import RecordCapturer, tagged

from odoo.addons.sophos_ppu.models import account_move, account_move_post

from .common_import import PpuImportCommon

STATEMENT = "sophos_ppu.mail_template_ppu_invoice_reseller"
SEND_CRON = "account.ir_cron_account_move_send"
POST_CRON = "sophos_ppu.ir_cron_ppu_post_invoices"


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
        """What the scheduled action "Send invoices automatically" does when
        the posting triggered it (one run: 20 invoices)."""
        self.env.ref(SEND_CRON).method_direct_trigger()

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
        self.assertEqual(len(triggers.records), 1)
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

    def test_the_scheduled_action_sends_one_statement_with_the_pdf(self):
        invoice, mail, _other = self._posted_statement()
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
        # Nothing left to send: the next run sends nothing more.
        self._send_queued()
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
        # The list view's "Confirm Entries" on the selection.
        wizard = (
            self.env["validate.account.move"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create({})
        )
        wizard.validate_move()
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        self.assertTrue(all(invoices.mapped("is_being_sent")))
        # Chunks as the scheduled action takes them (it asks for 20, a run
        # makes at most STATEMENTS_PER_RUN): it calls itself again while
        # invoices wait.
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
        for invoice in invoices:
            mail = self._statements(invoice)
            self.assertEqual(len(mail), 1, invoice.partner_id.name)
            self.assertEqual(mail.recipient_ids, invoice.partner_id)
            self.assertEqual(len(mail.attachment_ids), 1)
            self.assertTrue(invoice.is_move_sent)

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
        # A draft leaves the queue: the scheduled action never sees it.
        self.assertFalse(invoice.sending_data)
        self._send_queued()
        self.assertFalse(self._statements(invoice))
        invoice.action_post()
        self._send_queued()
        self.assertEqual(len(self._statements(invoice)), 1)
        self.assertTrue(invoice.is_move_sent)

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
    request posts in time are posted by the scheduled action, in chunks."""

    def setUp(self):
        super().setUp()
        # Three invoices of a few lines stand for a month: beyond one line
        # they are posted in the background, one invoice per chunk.
        for name in ("PPU_POST_INLINE_LINES", "POST_CHUNK_LINES"):
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

    def _confirm(self, moves):
        """The invoice list's "Confirm Entries" on ``moves``."""
        return (
            self.env["validate.account.move"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({})
            .validate_move()
        )

    def _run_posting(self, times=10):
        cron = self.env.ref(POST_CRON)
        for _run in range(times):
            if not self.invoices.filtered("ppu_posting_data"):
                return
            cron.method_direct_trigger()

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

    def test_confirming_queues_the_invoices_and_posts_nothing_itself(self):
        with RecordCapturer(
            self.env["ir.cron.trigger"].sudo(),
            [("cron_id", "=", self.env.ref(POST_CRON).id)],
        ) as triggers:
            action = self._confirm(self.invoices)
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("3 invoices are being posted", action["params"]["message"])
        self.assertEqual(len(triggers.records), 1)
        self.assertEqual(set(self.invoices.mapped("state")), {"draft"})
        self.assertEqual(
            self.invoices.mapped("ppu_posting_data"),
            [{"user_id": self.env.uid, "soft": True, "total": 3}] * 3,
        )
        self.assertFalse(self.invoices.filtered("sending_data"))

    def test_the_scheduled_action_posts_chunk_by_chunk_as_the_user(self):
        self._confirm(self.invoices)
        cron = self.env.ref(POST_CRON)
        users = self.registry["res.users"]
        with patch.object(users, "_bus_send", autospec=True) as bus_send:
            cron.method_direct_trigger()
            self.assertEqual(len(self.invoices.filtered("ppu_posting_data")), 2)
            posted = self.invoices.filtered(lambda move: move.state == "posted")
            self.assertEqual(len(posted), 1)
            # Posted as the accountant who confirmed: the statement's author.
            self.assertEqual(posted.sending_data["author_user_id"], self.env.uid)
            bus_send.assert_not_called()
            self._run_posting()
            bus_send.assert_called_once()
        self.assertEqual(set(self.invoices.mapped("state")), {"posted"})
        self.assertFalse(self.invoices.filtered("ppu_posting_data"))
        self.assertEqual(bus_send.call_args.args[1], "simple_notification")
        self.assertIn("The 3 invoices", bus_send.call_args.args[2]["message"])
        self.env.ref(SEND_CRON).method_direct_trigger()
        for invoice in self.invoices:
            mail = self._statements(invoice)
            self.assertEqual(len(mail), 1, invoice.partner_id.name)
            self.assertEqual(mail.recipient_ids, invoice.partner_id)
            self.assertEqual(mail.mail_message_id.author_id, self.env.user.partner_id)

    def test_an_invoice_odoo_refuses_says_why_and_leaves_the_queue(self):
        self._confirm(self.invoices)
        refused = self.invoices[0]
        refused.partner_id = False
        partners = self.registry["res.partner"]
        with patch.object(partners, "_bus_send", autospec=True) as bus_send:
            self._run_posting()
        self.assertEqual(refused.state, "draft")
        self.assertFalse(self.invoices.filtered("ppu_posting_data"))
        self.assertEqual(
            (self.invoices - refused).mapped("state"), ["posted", "posted"]
        )
        self.assertIn("could not be posted", refused.message_ids[0].body)
        self.assertIn("Customer", refused.message_ids[0].body)
        warning = bus_send.call_args.args[2]
        self.assertEqual(warning["action_button"]["res_ids"], refused.ids)

    def test_an_invoice_posted_by_hand_meanwhile_is_posted_and_sent_once(self):
        self._confirm(self.invoices)
        self.invoices[1].action_post()
        self._run_posting()
        self.assertEqual(set(self.invoices.mapped("state")), {"posted"})
        self.env.ref(SEND_CRON).method_direct_trigger()
        for invoice in self.invoices:
            self.assertEqual(len(self._statements(invoice)), 1)

    def test_a_selection_within_the_limit_is_posted_at_once(self):
        with patch.object(account_move_post, "PPU_POST_INLINE_LINES", 10_000):
            action = self._confirm(self.invoices)
        self.assertEqual(action["type"], "ir.actions.act_window_close")
        self.assertEqual(set(self.invoices.mapped("state")), {"posted"})
        self.assertFalse(self.invoices.filtered("ppu_posting_data"))
