# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportMails(PpuImportCommon):
    def _mails(self, template_xmlid, record):
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
        mail = self._mails("sophos_ppu.mail_template_ppu_invoice_reseller", invoice)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.resellers["discount"])
        self.assertIn("October 2026", mail.subject)
        body = mail.body_html
        self.assertLess(body.index("Aardvark Ltd"), body.index("Customer discount"))
        self.assertIn("Aardvark Ltd — Intercept X Server — 2026-10-01–2026-10-31", body)
        self.assertIn("$\xa031.50", body)  # 7 x 4.50 for Customer discount
        self.assertIn("$\xa09.00", body)  # 2 x 4.50 for Aardvark Ltd
        self.assertIn(f"$\xa0{invoice.amount_total:,.2f}", body)
        self.assertEqual(len(mail.attachment_ids), 1)
        self.assertIn(other.end_customer_id.name, body)

    def test_posting_an_ordinary_invoice_sends_no_ppu_mail(self):
        invoice = self.init_invoice("out_invoice", products=self.product_a, post=True)
        self.assertFalse(
            self._mails("sophos_ppu.mail_template_ppu_invoice_reseller", invoice)
        )

    def test_ops_receive_the_summary_after_checking_and_it_is_on_the_chatter(self):
        batch = self.import_rows(
            [self.row("EU-discount", quantity=7), self.row("NOPE")]
        )
        mail = self._mails("sophos_ppu.mail_template_ppu_import_summary_ops", batch)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.ops_partner)
        self.assertIn("Rows: 2", mail.body_html)
        self.assertIn("Billed: 1", mail.body_html)
        self.assertIn("Errors: 1", mail.body_html)
        self.assertIn("Duplicates: 0", mail.body_html)
        self.assertIn("Reseller discount", mail.body_html)
        self.assertIn("31.50 USD", mail.body_html)
        note = batch.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("mail.mt_note")
            and "Billed: 1" in (m.body or "")
        )
        self.assertEqual(len(note), 1)

    def test_ops_receive_the_summary_after_invoicing(self):
        batch = self.import_rows([self.row("EU-markup", quantity=10)])
        batch.action_create_invoices()
        mails = self.env["mail.mail"].search(
            [("model", "=", batch._name), ("res_id", "=", batch.id)]
        )
        self.assertEqual(len(mails), 2)
        self.assertIn("Invoiced", mails.sorted("id")[-1].body_html)
        self.assertIn("36.80 USD", mails.sorted("id")[-1].body_html)
        self.assertEqual(mails.recipient_ids, self.ops_partner)
