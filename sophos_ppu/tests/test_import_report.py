# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import csv
import io

from openpyxl import load_workbook

from odoo.tests import tagged

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportErrorReport(PpuImportCommon):
    def _report(self, batch, report_format=None):
        action = batch.with_context(
            report_format=report_format
        ).action_download_error_report()
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment_id = int(action["url"].split("/")[3].split("?")[0])
        return self.env["ir.attachment"].browse(attachment_id)

    def test_csv_report_lists_rows_with_issues_and_neutralises_formulas(self):
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("=HYPERLINK(1)", customer="@evil")]
        )
        attachment = self._report(batch, "csv")
        self.assertTrue(attachment.name.endswith("-issues.csv"))
        rows = list(csv.reader(io.StringIO(attachment.raw.decode("utf-8-sig"))))
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[0][:3], ["Row", "End User Identifier", "End Customer"])
        self.assertEqual(rows[1][:3], ["3", "'=HYPERLINK(1)", "'@evil"])
        self.assertEqual(rows[1][9], "Error")
        self.assertTrue(
            rows[1][10].startswith("No subscription has End User Identifier")
        )

    def test_xlsx_report_holds_no_formula(self):
        batch = self.import_rows([self.row("+SUM(A1)", customer="-1")])
        attachment = self._report(batch)
        self.assertTrue(attachment.name.endswith("-issues.xlsx"))
        sheet = load_workbook(io.BytesIO(attachment.raw)).active
        values = [cell.value for cell in sheet[2]]
        self.assertEqual(values[:3], [2, "'+SUM(A1)", "'-1"])
        self.assertTrue(
            all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
        )
