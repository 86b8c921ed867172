# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The e-mails of the December walk of the demo: statements of one sending run
in each recipient's language, amounts that never wrap and columns apart, and
the reseller told when ops close a subscription it asked to close or dismiss
its request."""

import re

from lxml import html

from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail

from .common_import import PpuImportCommon
from .test_import_mails import SENDING_JOBS, run_ppu_jobs

MODULE = "sophos_ppu"
#: An amount as format_amount writes it: symbol, no-break space, number (or
#: the other way round), in English or German.
AMOUNT = re.compile(r"(?:[$€]\xa0[\d.,]*\d|\d[\d.,]*\xa0[$€])")


def load_german(env, modules=("mail", "account", MODULE)):
    """German active, with the catalogues of the mail layout, of the
    invoice's document name and of the addon."""
    env["res.lang"]._activate_lang("de_DE")
    env["ir.module.module"]._load_module_terms(list(modules), ["de_DE"], overwrite=True)


def amounts_outside_nowrap(body):
    """The amounts of ``body`` (HTML) that a line could break: in no element
    styled ``white-space: nowrap``."""
    loose = []
    for element in html.fromstring(body).iter():
        for text, holder in (
            (element.text, element),
            (element.tail, element.getparent()),
        ):
            if not text or not AMOUNT.search(text):
                continue
            chain = [holder, *holder.iterancestors()]
            if not any(
                "white-space:nowrap" in (node.get("style") or "").replace(" ", "")
                for node in chain
            ):
                loose.extend(AMOUNT.findall(text))
    return loose


@tagged("post_install", "-at_install")
class TestStatementMailWalk(PpuImportCommon):
    def _post_and_send(self, rows):
        batch = self.import_rows(rows)
        batch.action_create_invoices()
        invoices = batch.invoice_ids.sorted("id")
        invoices.invoice_date = "2026-11-02"
        invoices.action_post()
        run_ppu_jobs(self.env, SENDING_JOBS)
        return invoices

    def _statement(self, invoice):
        mail = self.env["mail.mail"].search(
            [("model", "=", "account.move"), ("res_id", "=", invoice.id)]
        )
        self.assertEqual(len(mail), 1, invoice.partner_id.name)
        return mail

    def test_one_sending_run_writes_each_statement_in_its_recipients_language(self):
        load_german(self.env)
        german = self.resellers["discount"]
        english = self.resellers["markup"]
        german.lang = "de_DE"
        english.lang = "en_US"
        invoices = self._post_and_send(
            [self.row("EU-discount", quantity=7), self.row("EU-markup", quantity=10)]
        )
        # One job sent both: the German statement first.
        self.assertEqual(len(self.env["queue.job"].sudo().search([])), 1)
        self.assertEqual(invoices.partner_id, german | english)
        self.assertEqual(invoices[0].partner_id, german)
        de = self._statement(invoices.filtered(lambda m: m.partner_id == german))
        en = self._statement(invoices.filtered(lambda m: m.partner_id == english))
        self.assertEqual(de.recipient_ids, german)
        self.assertEqual(en.recipient_ids, english)

        self.assertIn("Oktober 2026", de.subject)
        for text in ("Ihr(e) Ausgangsrechnung", "Guten Tag", "Oktober 2026"):
            self.assertIn(text, de.body_html)
        for text in ("Your ", "Dear ", "October", "Here is your", "Best regards"):
            self.assertNotIn(text, de.body_html)

        self.assertIn("October 2026", en.subject)
        for text in ("Your Invoice", "Dear Reseller markup", "October 2026"):
            self.assertIn(text, en.body_html)
        for text in ("Ihr(e)", "Ausgangsrechnung", "Rechnung", "Guten Tag", "Oktober"):
            self.assertNotIn(text, en.subject + en.body_html)
        # The invoices' own reference, on their PDF, in their reader's language.
        self.assertEqual(
            {move.partner_id: move.ref for move in invoices},
            {
                german: "Sophos-Verbrauch Oktober 2026",
                english: "Sophos consumption October 2026",
            },
        )

    def test_statement_amounts_never_wrap_and_columns_stay_apart(self):
        (invoice,) = self._post_and_send([self.row("EU-discount", quantity=7)])
        body = self._statement(invoice).body_html
        tree = html.fromstring(body)
        amounts = AMOUNT.findall(tree.text_content())
        # Unit price, amount, end customer's total, untaxed and total.
        self.assertGreaterEqual(len(amounts), 5)
        self.assertEqual(amounts_outside_nowrap(body), [])
        # Each column after the service keeps its distance from the previous.
        rows = tree.xpath("//table[contains(@class, 'ppu-statement')]//tr")
        self.assertTrue(rows)
        for row in rows:
            for cell in row.xpath("./td|./th")[1:]:
                if cell.get("colspan"):
                    continue
                self.assertIn("padding-left", cell.get("style") or "")
        # "…total: $ 36.80, due 12/02/2026", the comma against the amount.
        text = " ".join(tree.text_content().split())
        self.assertRegex(text, r"\d, due ")
        self.assertNotIn(" , due", text)

    def test_statement_amounts_in_german_keep_symbol_and_number_together(self):
        load_german(self.env, modules=(MODULE,))
        self.resellers["eur"].lang = "de_DE"
        (invoice,) = self._post_and_send([self.row("EU-eur", quantity=3)])
        body = self._statement(invoice).body_html
        # The German template's markup, as translated, keeps amounts whole.
        self.assertIn("Guten Tag", body)
        self.assertIn("\xa0€", html.fromstring(body).text_content())
        self.assertNotRegex(body, r"\d €")
        self.assertEqual(amounts_outside_nowrap(body), [])

    def test_import_summary_amounts_never_wrap(self):
        batch = self.import_rows([self.row("EU-discount", quantity=7)])
        mail = self.env["mail.mail"].search(
            [("model", "=", batch._name), ("res_id", "=", batch.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("$&nbsp;31.50", mail.body_html)
        self.assertEqual(amounts_outside_nowrap(mail.body_html), [])

    def test_import_summary_is_in_the_companys_language(self):
        """Ops read the summary in the company's language, whoever ran the
        import, as they read the other operations e-mails."""
        load_german(self.env)
        self.env.company.partner_id.lang = "de_DE"
        self.assertEqual(self.env.user.lang, "en_US")
        batch = self.import_rows([self.row("EU-discount", quantity=7)])
        mail = self.env["mail.mail"].search(
            [("model", "=", batch._name), ("res_id", "=", batch.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("Sophos-Verbrauchsimport", mail.subject)


@tagged("post_install", "-at_install")
class TestCloseRequestAnswers(PpuImportCommon, MockEmail):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("de_DE")
        cls.subscription = cls.subscriptions["discount"]
        cls.reseller = cls.resellers["discount"]
        cls.reseller.lang = "en_US"
        cls.requester = cls.env["res.partner"].create(
            {
                "name": "Jana Kuhn",
                "email": "jana@reseller-discount.example.com",
                "parent_id": cls.reseller.id,
                "lang": "de_DE",
            }
        )

    def _request(self):
        self.subscription.sudo()._ppu_request_close("Customer left.", self.requester)
        self.subscription.close_requested_date = "2026-11-20 10:00:00"

    def _answers(self, template_xmlid):
        subject = self.env.ref(template_xmlid).subject.split("{{")[0]
        return self._new_mails.filtered(lambda mail: mail.subject.startswith(subject))

    def _assert_told(self, mails):
        """One e-mail to the requester (German) and one to the reseller
        (English), each in its reader's language."""
        self.assertEqual(len(mails), 2)
        by_recipient = {mail.recipient_ids: mail for mail in mails}
        self.assertEqual(set(by_recipient), {self.requester, self.reseller})
        german, english = by_recipient[self.requester], by_recipient[self.reseller]
        self.assertIn("Jana Kuhn", german.body_html)
        self.assertIn("20.11.2026", german.body_html)
        self.assertIn("Reseller discount", english.body_html)
        self.assertIn("11/20/2026", english.body_html)
        for mail in mails:
            self.assertIn(self.subscription.name, mail.subject)
            self.assertIn(f"/my/ppu/{self.subscription.id}", mail.body_html)
        notes = self.subscription.message_ids.mapped("body")
        told = f"E-mail sent to the reseller: Jana Kuhn, {self.reseller.name}."
        self.assertTrue(any(told in note for note in notes), notes)

    def test_a_requested_subscription_shows_close_requested(self):
        self.assertEqual(self.subscription.display_state, "active")
        self._request()
        self.assertEqual(self.subscription.display_state, "close_requested")
        labels = dict(
            self.subscription._fields["display_state"]._description_selection(self.env)
        )
        self.assertEqual(labels["close_requested"], "Close requested")
        arch = self.env["sophos.ppu.subscription"].get_views([(False, "list")])[
            "views"
        ]["list"]["arch"]
        self.assertIn('name="display_state"', arch)
        self.subscription.action_close()
        self.assertEqual(self.subscription.display_state, "closed")

    def test_closing_a_requested_subscription_tells_the_reseller(self):
        self._request()
        with self.mock_mail_gateway():
            self.subscription.action_close()
        self.assertEqual(self.subscription.state, "closed")
        self._assert_told(
            self._answers("sophos_ppu.mail_template_ppu_close_done_reseller")
        )

    def test_dismissing_a_request_tells_the_reseller(self):
        self._request()
        with self.mock_mail_gateway():
            self.subscription.action_dismiss_close_request()
        self.assertEqual(self.subscription.state, "active")
        self.assertFalse(self.subscription.close_requested_date)
        self._assert_told(
            self._answers("sophos_ppu.mail_template_ppu_close_dismissed_reseller")
        )

    def test_closing_without_request_mails_nobody(self):
        with self.mock_mail_gateway():
            self.subscription.action_close()
        self.assertEqual(self.subscription.state, "closed")
        self.assertFalse(self._new_mails)
