# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
from datetime import date

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tests.common import new_test_user

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportWizard(PpuImportCommon):
    def test_import_keeps_the_file_and_creates_one_line_per_row(self):
        data = self.consumption_csv([self.row("EU-discount"), self.row("EU-markup")])
        batch = self.import_file(data, filename="october.csv")
        self.assertEqual(batch.state, "checked")
        self.assertEqual(batch.period_date, date(2026, 10, 1))
        self.assertEqual(batch.attachment_id.name, "october.csv")
        self.assertEqual(batch.attachment_id.raw, data)
        self.assertEqual(
            (batch.attachment_id.res_model, batch.attachment_id.res_id),
            ("sophos.ppu.import", batch.id),
        )
        self.assertEqual(batch.line_ids.mapped("row_number"), [2, 3])
        self.assertEqual(batch.line_ids.mapped("state"), ["ok", "ok"])

    def test_import_reads_xlsx_files(self):
        data = self.consumption_xlsx([self.row("EU-discount", quantity=3)])
        batch = self.import_file(data, filename="october.xlsx")
        self.assertEqual(batch.line_ids.quantity, 3.0)
        self.assertEqual(batch.line_ids.price_subtotal, 13.5)

    def test_file_the_core_rejects_gives_an_error_and_creates_nothing(self):
        data = b"Start Date,End Date,Quantity\n2026-10-01,2026-10-31,1\n"
        batches = self.env["sophos.ppu.import"].search([])
        with self.assertRaisesRegex(UserError, "missing.*End User Identifier"):
            self.import_file(data, filename="bad.csv")
        self.assertEqual(self.env["sophos.ppu.import"].search([]), batches)

    def test_wrong_extension_is_refused(self):
        with self.assertRaisesRegex(UserError, "choose an .xlsx, .xls or .csv"):
            self.import_file(b"hello", filename="notes.txt")

    def test_unreadable_row_becomes_an_error_line_with_row_and_column(self):
        rows = [self.row("EU-discount"), self.row("EU-markup", msrp="abc")]
        batch = self.import_rows(rows)
        bad = batch.line_ids.filtered(lambda line: line.row_number == 3)
        self.assertEqual(bad.state, "error")
        self.assertTrue(bad.parse_error)
        self.assertIn("row 3, column 'Unit MSRP'", bad.message)
        self.assertIn("abc", bad.message)

    def test_billing_month_defaults_to_last_month(self):
        wizard = Form(self.env["sophos.ppu.import.wizard"])
        today = date.today()
        last_month = date(
            today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1
        )
        self.assertEqual(wizard.period_date, last_month)

    def test_billing_month_is_stored_as_its_first_day(self):
        wizard = self.env["sophos.ppu.import.wizard"].create(
            {
                "file": base64.b64encode(
                    self.consumption_csv([self.row("EU-discount")])
                ),
                "filename": "october.csv",
                "period_date": date(2026, 10, 17),
            }
        )
        action = wizard.action_import()
        batch = self.env["sophos.ppu.import"].browse(action["res_id"])
        self.assertEqual(batch.period_date, date(2026, 10, 1))
        self.assertEqual(batch.line_ids.state, "ok")

    def test_user_outside_ppu_operations_cannot_run_the_import(self):
        salesman = new_test_user(
            self.env,
            login="ppu-salesman",
            groups="sales_team.group_sale_salesman,account.group_account_invoice",
            company_id=self.company.id,
        )
        with self.assertRaises(AccessError):
            self.env["sophos.ppu.import.wizard"].with_user(salesman).create(
                {
                    "file": base64.b64encode(
                        self.consumption_csv([self.row("EU-discount")])
                    ),
                    "filename": "october.csv",
                    "period_date": self.PERIOD,
                }
            )
        with self.assertRaises(AccessError):
            self.env["sophos.ppu.import"].with_user(salesman).create(
                {"period_date": self.PERIOD}
            )
