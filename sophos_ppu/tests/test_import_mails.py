# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from .common_import import PpuImportCommon


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

    def test_posting_a_ppu_invoice_mails_the_reseller_its_breakdown(self):
        batch, other = self.invoice_two_end_customers(quantity=7)
        invoice = batch.invoice_ids
        invoice.invoice_date = "2026-11-02"
        invoice.action_post()
        mail = self._template_mails(
            "sophos_ppu.mail_template_ppu_invoice_reseller", invoice
        )
        self.assertEqual(len(mail), 1)
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
        batch, _other = self.invoice_two_end_customers(quantity=7)
        invoice = batch.invoice_ids
        invoice.invoice_date = "2026-11-02"
        invoice.action_post()
        mail = self._template_mails(
            "sophos_ppu.mail_template_ppu_invoice_reseller", invoice
        )
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

    def test_statement_quantities_keep_the_decimals_they_have(self):
        move = self.env["account.move"]
        self.assertEqual(move._ppu_quantity_text(51.0), "51")
        self.assertEqual(move._ppu_quantity_text(2.5), "2.5")
        self.assertEqual(move._ppu_quantity_text(-3.25), "-3.25")
        self.assertEqual(move._ppu_quantity_text(1234.0), "1,234")

    def test_posting_an_ordinary_invoice_sends_no_ppu_mail(self):
        invoice = self.init_invoice("out_invoice", products=self.product_a, post=True)
        self.assertFalse(
            self._template_mails(
                "sophos_ppu.mail_template_ppu_invoice_reseller", invoice
            )
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
