# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What ops see of a batch: rows that look editable only where they are,
counts that stay right while a row is edited, a "Needs attention" that lists
what can still be acted on, the wizard's help, the cancel dialog, and a
chatter that tells a check only when it changed something."""

import base64
from datetime import date

from lxml import etree

from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common_import import PpuImportCommon

#: The rows list's columns ops decide with, shown by default.
DECIDING_COLUMNS = [
    "row_number",
    "import_id",
    "end_user_identifier",
    "end_customer_name",
    "state",
    "message",
    "subscription_id",
    "product_description",
    "quantity",
    "price_unit",
    "price_subtotal",
]


@tagged("post_install", "-at_install")
class TestBatchWalk(PpuImportCommon):
    def arch(self, xmlid):
        return etree.fromstring(self.env.ref(xmlid).arch)

    def test_only_correctable_cells_look_editable(self):
        Line = self.env["sophos.ppu.import.line"]
        fields = Line.fields_get(attributes=["readonly"])
        for name in (
            "row_number",
            "message",
            "partner_id",
            "price_unit",
            "price_subtotal",
            "state",
            "currency_id",
            "duplicate_import_id",
        ):
            with self.subTest(field=name):
                self.assertTrue(fields[name]["readonly"])
        for name in ("subscription_id", "quantity", "end_user_identifier"):
            with self.subTest(field=name):
                self.assertFalse(fields[name]["readonly"])  # by row, in the view

    def test_counts_stay_those_of_the_stored_rows_while_a_row_is_edited(self):
        batch = self.import_rows(
            [self.row("EU-discount", quantity=3), self.row("EU-nobody", quantity=1)]
        )
        edited = batch.new(origin=batch)  # what the form computes with
        self.assertEqual(
            (edited.line_count, edited.ok_count, edited.error_count), (2, 1, 1)
        )
        self.assertEqual(edited.close_cost_company, batch.close_cost_company)

    def test_needs_attention_lists_only_rows_someone_can_act_on(self):
        open_batch = self.import_rows([self.row("EU-nobody", quantity=1)])
        cancelled = self.import_rows([self.row("EU-nobody2", quantity=1)])
        cancelled.action_cancel()
        invoiced = self.import_rows(
            [self.row("EU-discount", quantity=3), self.row("EU-discount", quantity=3)]
        )
        invoiced.action_create_invoices()
        [attention] = self.arch("sophos_ppu.sophos_ppu_import_line_view_search").xpath(
            "//filter[@name='attention']"
        )
        rows = self.env["sophos.ppu.import.line"].search(
            safe_eval(attention.get("domain"))
        )
        self.assertEqual(rows.import_id, open_batch)

    def test_the_wizard_names_the_columns_a_file_needs(self):
        wizard = Form(self.env["sophos.ppu.import.wizard"])
        self.assertIn("End User Identifier", wizard.required_columns)
        self.assertIn("Total Quantity", wizard.required_columns)

    def test_the_rows_list_shows_the_deciding_columns_and_hides_the_rest(self):
        arch = self.arch("sophos_ppu.sophos_ppu_import_line_view_list")
        shown = [
            field.get("name")
            for field in arch.xpath("/list/field")
            if field.get("optional") != "hide"
            and field.get("column_invisible") not in ("True", "1")
        ]
        self.assertEqual(shown, DECIDING_COLUMNS)

    def test_the_rows_show_as_a_list_on_phones_too(self):
        # (without it, phones show the rows, and the month close's lines by
        # currency and reason, as cards holding only their id or name)
        form = self.arch("sophos_ppu.sophos_ppu_import_view_form")
        for name in ("line_ids", "reconciliation_ids"):
            [rows] = form.xpath(f"//field[@name='{name}']")
            self.assertEqual(rows.get("mode"), "list", name)

    def test_the_cancel_dialog_names_its_actions(self):
        [cancel] = self.arch("sophos_ppu.sophos_ppu_import_view_form").xpath(
            "//header/button[@name='action_cancel']"
        )
        self.assertEqual(
            (cancel.get("confirm-label"), cancel.get("cancel-label")),
            ("Cancel import", "Keep it"),
        )

    def test_a_check_that_changes_nothing_posts_no_summary(self):
        batch = self.import_rows([self.row("EU-nobody", quantity=1)])

        def summaries():
            return batch.message_ids.filtered(
                lambda message: "Errors:" in (message.body or "")
            )

        self.assertEqual(len(summaries()), 1)
        batch.action_check()
        self.assertEqual(len(summaries()), 1, "nothing changed: no new summary")
        self._subscription(
            self.resellers["discount"],
            "Nobody Ltd",
            "EU-nobody",
            self.pricelist_discount,
        )
        batch.action_check()
        self.assertEqual(len(summaries()), 2, "a row became billable")

    def test_an_end_customer_known_under_another_identifier_is_named(self):
        batch = self.import_rows(
            [self.row("EU-typo", quantity=1, customer="Customer discount")]
        )
        line = batch.line_ids
        self.assertEqual((line.state, line.issue), ("error", "other_identifier"))
        self.assertEqual(
            line.message,
            "End customer Customer discount has a subscription under another End "
            "User Identifier (Customer discount - Sophos CyberSecurity: "
            "EU-discount), not EU-typo: check the identifier with the reseller, "
            "or pick the subscription by hand.",
        )

    def test_the_wizard_proposes_the_files_month_and_warns_for_another(self):
        # (the upload widget sets the name with the file)
        wizard = Form(
            self.env["sophos.ppu.import.wizard"].with_context(
                default_filename="usage.csv"
            )
        )
        wizard.file = base64.b64encode(
            self.consumption_csv([self.row("EU-discount", quantity=3)])
        )
        self.assertEqual(wizard.period_date, date(2026, 10, 1))  # its rows'
        self.assertFalse(wizard.period_warning)
        wizard.period_date = date(2026, 12, 1)
        self.assertEqual(
            wizard.period_warning,
            "The file's consumption is of October 2026, not December 2026: its "
            "rows would be outside the billing month.",
        )
        [confirmed] = self.arch("sophos_ppu.sophos_ppu_import_wizard_view_form").xpath(
            "//button[@name='action_import'][@confirm]"
        )
        self.assertEqual(confirmed.get("invisible"), "not period_warning")

    def test_no_invoicing_button_is_highlighted_without_billable_rows(self):
        form = self.arch("sophos_ppu.sophos_ppu_import_view_form")
        for button in form.xpath("//header/button[@name='action_create_invoices']"):
            with self.subTest(button=button.get("string")):
                self.assertIn("not ok_count", button.get("invisible"))
