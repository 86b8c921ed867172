# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Files no distributor sends by accident are refused by the wizard with a
clear error; nothing is created and the server process goes on."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.sophos_ppu.core.xlsx_parts import (
    inline,
    sheet_xml,
    workbook_parts,
    zip_bytes,
)

from .common_import import HEADER, PpuImportCommon


def xlsx(rows_xml):
    """A hand-made workbook whose only sheet holds ``rows_xml``, the consumption
    header on row 1 before it."""
    header = "".join(inline(f"{chr(65 + i)}1", name) for i, name in enumerate(HEADER))
    sheet = sheet_xml(rows_xml, f'<row r="1">{header}</row>')
    return zip_bytes(workbook_parts([("Usage", "visible", sheet)]))


@tagged("post_install", "-at_install")
class TestImportHostileFiles(PpuImportCommon):
    def assertRefused(self, data, filename, *words):
        Import, Attachment = self.env["sophos.ppu.import"], self.env["ir.attachment"]
        batches, attachments = Import.search_count([]), Attachment.search_count([])
        with self.assertRaises(UserError) as caught:
            self.import_file(data, filename=filename)
        message = str(caught.exception)
        self.assertIn(filename, message)
        for word in words:
            self.assertIn(word, message)
        self.assertEqual(Import.search_count([]), batches)
        self.assertEqual(Attachment.search_count([]), attachments)
        return message

    def test_a_far_away_cell_is_refused_without_a_dense_grid(self):
        self.assertRefused(
            xlsx('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
            "far.xlsx",
        )

    def test_a_row_number_excel_cannot_hold_is_refused(self):
        self.assertRefused(
            xlsx('<row r="99999999999"><c r="A99999999999"><v>1</v></c></row>'),
            "giant.xlsx",
        )

    def test_text_cells_without_their_shared_strings_are_refused(self):
        self.assertRefused(
            xlsx('<row r="2"><c r="A2" t="s"><v>7</v></c></row>'), "nostrings.xlsx"
        )

    def test_a_pdf_named_xlsx_is_named_for_what_it_is(self):
        self.assertRefused(
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "usage.xlsx", "PDF"
        )

    def test_a_truncated_workbook_is_refused(self):
        data = self.consumption_xlsx([self.row("EU-discount")])
        self.assertRefused(data[: len(data) // 2], "cut.xlsx")

    def test_more_rows_than_the_settings_allow_are_refused(self):
        self.env["ir.config_parameter"].set_param("sophos_ppu.max_rows", "5")
        data = self.consumption_csv([self.row("EU-discount")] * 10)
        self.assertRefused(data, "long.csv", "5")

    def test_a_file_over_the_size_limit_is_refused_before_it_is_decoded(self):
        self.env["ir.config_parameter"].set_param("sophos_ppu.max_file_mb", "1")
        data = self.consumption_csv([self.row("EU-discount")] * 20_000)
        self.assertGreater(len(data), 10**6)
        self.assertRefused(data, "big.csv", "larger than 1 MB")

    def test_the_wizard_still_imports_after_hostile_files(self):
        with self.assertRaises(UserError):
            self.import_file(b"%PDF-1.7\n", filename="usage.xlsx")
        batch = self.import_rows([self.row("EU-discount")])
        self.assertEqual(batch.line_ids.state, "ok")
