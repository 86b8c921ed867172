# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The company header and footer on every PDF, whichever wkhtmltopdf prints
it: the build with patched Qt draws them from ``--header-html`` and
``--footer-html``; Debian's (unpatched Qt) ignores both, so each document
carries them in its body."""

import io
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.sophos_ppu.tools import wkhtmltopdf

from .common_import import PpuImportCommon

INVOICE_REPORT = "account.account_invoices"
MONTH_CLOSE_REPORT = "sophos_ppu.action_report_ppu_month_close"
TAGLINE = "Sophos PPU distribution"
FOOTER = "Registered in Hamburg HRB 4711"


@tagged("post_install", "-at_install")
class TestReportPdfHeader(PpuImportCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "name": "Elbe Distribution GmbH",
                "street": "Hafenstraße 12",
                "zip": "20457",
                "city": "Hamburg",
                "company_details": False,
                "report_header": TAGLINE,
                "report_footer": FOOTER,
            }
        )
        cls.invoice = cls.init_invoice(
            "out_invoice", partner=cls.partner_a, amounts=[100.0], post=True
        )

    def setUp(self):
        super().setUp()
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() == "install":
            self.skipTest("wkhtmltopdf is not installed")

    def _patched_qt(self, patched):
        return patch.object(wkhtmltopdf, "has_patched_qt", return_value=patched)

    def _pdf_text(self, report_ref, records):
        """The text of the PDF that wkhtmltopdf prints. Without the report's
        style sheets: wkhtmltopdf draws the glyphs of their web fonts (Lato)
        as shapes that no PDF reader reads back as text, and would fetch
        them from a server that a TransactionCase does not run (the base
        URL below is one that wkhtmltopdf refuses at once)."""
        self.env["ir.config_parameter"].set_param("report.url", "file:///nowhere")
        pdf, report_type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report_ref, res_ids=records.ids)
        )
        self.assertEqual(report_type, "pdf")
        return self._text_of(pdf)

    def _text_of(self, pdf):
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        text = "\n".join(page.extract_text() for page in reader.pages)
        return " ".join(text.split())

    def _prepared(self, report_ref, records):
        """``_prepare_html``'s bodies, header, footer and paper arguments,
        as Odoo hands them to wkhtmltopdf."""
        reports = self.env["ir.actions.report"]
        report = reports._get_report(report_ref)
        html = reports._render_qweb_html(
            report_ref, records.ids, data={"report_type": "pdf"}
        )[0]
        bodies, _ids, header, footer, paper_args = report._prepare_html(
            html, report_model=report.model
        )
        return "".join(bodies), header, footer, paper_args

    def _assert_company_in(self, text):
        for expected in (
            "Elbe Distribution GmbH",
            "Hafenstraße 12",
            "20457",
            "Hamburg",
            TAGLINE,
            FOOTER,
        ):
            self.assertIn(expected, text)

    def test_unpatched_wkhtmltopdf_prints_the_invoice_with_company_header_and_footer(
        self,
    ):
        with self._patched_qt(False):
            text = self._pdf_text(INVOICE_REPORT, self.invoice)
        self._assert_company_in(text)
        self.assertIn(self.invoice.name, text)
        # The header comes first, the footer after the document.
        self.assertLess(text.index(TAGLINE), text.index(self.invoice.name))
        self.assertLess(text.index(self.invoice.name), text.index(FOOTER))

    def test_unpatched_wkhtmltopdf_prints_the_month_close_with_company_header(self):
        batch = self.import_rows([self.row("EU-discount")])
        with self._patched_qt(False):
            text = self._pdf_text(MONTH_CLOSE_REPORT, batch)
        self._assert_company_in(text)
        self.assertIn(batch.name, text)

    def test_unpatched_wkhtmltopdf_gets_header_and_footer_inside_the_body(self):
        with self._patched_qt(False):
            body, header, footer, paper_args = self._prepared(
                INVOICE_REPORT, self.invoice
            )
        self.assertIsNone(header)
        self.assertIsNone(footer)
        self._assert_company_in(body)
        # Nothing would number the pages there: no empty "Page  / ".
        self.assertNotIn('class="topage"', body)
        # The margins that made room for the header and footer shrink.
        self.assertEqual(paper_args["data-report-margin-top"], "11.0")
        self.assertEqual(paper_args["data-report-margin-bottom"], "11.0")

    def test_patched_wkhtmltopdf_gets_header_and_footer_apart_as_in_odoo(self):
        with self._patched_qt(True):
            body, header, footer, paper_args = self._prepared(
                INVOICE_REPORT, self.invoice
            )
        self.assertIn(TAGLINE, header)
        self.assertIn("Hafenstraße 12", header)
        self.assertIn(FOOTER, footer)
        self.assertIn('class="topage"', footer)
        self.assertIn(self.invoice.name, body)
        for layout_text in (TAGLINE, "Hafenstraße 12", FOOTER):
            self.assertNotIn(layout_text, body)
        self.assertNotIn("data-report-margin-top", paper_args)

    def test_unpatched_wkhtmltopdf_is_not_given_the_header_options_it_ignores(self):
        reports = self.env["ir.actions.report"]
        paperformat = self.env.ref("base.paperformat_euro")
        for patched, expected in ((True, True), (False, False)):
            with self.subTest(patched=patched), self._patched_qt(patched):
                args = reports._build_wkhtmltopdf_args(paperformat, False)
                self.assertEqual("--header-spacing" in args, expected)
                self.assertIn("--margin-top", args)

    def test_unpatched_wkhtmltopdf_prints_several_invoices_one_by_one(self):
        second = self.init_invoice(
            "out_invoice", partner=self.partner_b, amounts=[50.0], post=True
        )
        invoices = self.invoice | second
        with self._patched_qt(False):
            text = self._pdf_text(INVOICE_REPORT, invoices)
            streams = (
                self.env["ir.actions.report"]
                .with_context(force_report_rendering=True)
                ._render_qweb_pdf_prepare_streams(
                    INVOICE_REPORT, {"report_type": "pdf"}, res_ids=invoices.ids
                )
            )
        self.assertEqual(list(streams), invoices.ids)
        for invoice in invoices:
            self.assertTrue(
                streams[invoice.id]["stream"].getvalue().startswith(b"%PDF")
            )
        # One PDF of both, each with its company header.
        self.assertEqual(text.count("Elbe Distribution GmbH"), 2)
        self.assertLess(text.index(self.invoice.name), text.index(second.name))

    def test_unpatched_wkhtmltopdf_sends_several_invoices_each_with_its_pdf(self):
        second = self.init_invoice(
            "out_invoice", partner=self.partner_b, amounts=[50.0], post=True
        )
        report = self.env.ref("account.account_invoices")
        invoices_data = {
            invoice: {"pdf_report": report} for invoice in self.invoice | second
        }
        self.env["ir.config_parameter"].set_param("report.url", "file:///nowhere")
        with self._patched_qt(False):
            self.env["account.move.send"].with_context(
                force_report_rendering=True
            )._prepare_invoice_pdf_report(invoices_data)
        for invoice, invoice_data in invoices_data.items():
            text = self._text_of(invoice_data["pdf_attachment_values"]["raw"])
            self.assertIn(invoice.name, text)
            self.assertIn("Elbe Distribution GmbH", text)
