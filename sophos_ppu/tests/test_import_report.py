# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import csv
import io

from openpyxl import load_workbook

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportErrorReport(PpuImportCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="ppu_accountant",
            password="ppu_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _download(self, batch, report_format=None, user=None):
        """Download the report as a person does: the button's action, then
        its URL in the browser (as the accountant by default)."""
        user = user or self.accountant
        action = (
            batch.with_user(user)
            .with_context(report_format=report_format)
            .action_download_error_report()
        )
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.authenticate(user.login, user.login)
        return self.url_open(action["url"])

    def test_csv_report_lists_rows_with_issues_and_neutralises_formulas(self):
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("=HYPERLINK(1)", customer="@evil")]
        )
        response = self._download(batch, "csv")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/csv"))
        self.assertIn("-issues.csv", response.headers["Content-Disposition"])
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        self.assertEqual(len(rows), 2)
        self.assertEqual(
            rows[0][:3], ["Row", "End User Identifier", "End Customer (file)"]
        )
        self.assertEqual(rows[1][:3], ["3", "'=HYPERLINK(1)", "'@evil"])
        self.assertEqual(rows[1][3], "Error")
        self.assertTrue(
            rows[1][4].startswith("No subscription has End User Identifier")
        )

    def test_csv_report_neutralises_formulas_after_a_separator_or_a_newline(self):
        batch = self.import_rows(
            [self.row("x;=HYPERLINK(1)", customer="a\n=1+1")],
        )
        response = self._download(batch, "csv")
        text = response.content.decode("utf-8-sig")
        self.assertTrue(text.startswith('"Row","End User Identifier"'))
        row = list(csv.reader(io.StringIO(text)))[1]
        self.assertEqual(row[1:3], ["x;'=HYPERLINK(1)", "a\n'=1+1"])

    def test_xlsx_report_holds_no_formula(self):
        batch = self.import_rows([self.row("+SUM(A1)", customer="-1")])
        response = self._download(batch)
        self.assertEqual(response.status_code, 200)
        self.assertIn("-issues.xlsx", response.headers["Content-Disposition"])
        sheet = load_workbook(io.BytesIO(response.content)).active
        values = [cell.value for cell in sheet[2]]
        self.assertEqual(values[:3], [2, "'+SUM(A1)", "'-1"])
        self.assertTrue(
            all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
        )

    def test_accountant_downloads_the_report_without_write_rights_or_attachment(self):
        batch = self.import_rows([self.row("EU-unknown")])
        self.assertFalse(batch.with_user(self.accountant).has_access("write"))
        Attachment = self.env["ir.attachment"].sudo()
        attachments = Attachment.search_count([])
        for report_format in ("csv", "xlsx", "xlsx"):
            with self.subTest(report_format=report_format):
                response = self._download(batch, report_format)
                self.assertEqual(response.status_code, 200)
                self.assertTrue(response.content)
        self.assertEqual(Attachment.search_count([]), attachments)

    def test_report_of_another_company_is_refused(self):
        batch = self.import_rows([self.row("EU-unknown")])
        other_company = self.env["res.company"].create({"name": "Distributor NL"})
        outsider = new_test_user(
            self.env,
            login="ppu_accountant_nl",
            password="ppu_accountant_nl",
            groups="account.group_account_invoice",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.authenticate(outsider.login, outsider.login)
        response = self.url_open(f"/sophos_ppu/import/{batch.id}/issues.csv")
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"EU-unknown", response.content)

    def test_unknown_report_format_or_batch_is_not_found(self):
        batch = self.import_rows([self.row("EU-unknown")])
        self.authenticate(self.accountant.login, self.accountant.login)
        for url in (
            f"/sophos_ppu/import/{batch.id}/issues.pdf",
            f"/sophos_ppu/import/{batch.id + 1000}/issues.csv",
        ):
            with self.subTest(url=url):
                self.assertEqual(self.url_open(url).status_code, 404)
