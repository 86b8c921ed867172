# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Reviewing a batch: analysis totals, row names, correcting unreadable rows,
the error report's columns."""

import csv
import io
from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.sophos_ppu.core.billing import error_report_csv

from .common_import import HEADER, PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportReview(PpuImportCommon):
    def _bad_row(self):
        """A row whose quantity cannot be read, for Helios BV."""
        return self.row("EU-discount", quantity="many", customer="Helios BV")

    def test_group_totals_never_add_currencies_row_numbers_or_unit_prices(self):
        batch = self.import_rows(
            [self.row("EU-discount", quantity=10), self.row("EU-eur", quantity=10)]
        )
        self.assertEqual(set(batch.line_ids.mapped("state")), {"ok"})
        # Both rows under one reseller-less group: the batch.
        Line = self.env["sophos.ppu.import.line"]
        groups = Line.read_group(
            [("import_id", "=", batch.id)],
            ["row_number", "price_unit", "unit_msrp", "price_subtotal", "quantity"],
            ["import_id"],
        )
        self.assertEqual(len(groups), 1)
        group = groups[0]
        for fname in ("row_number", "price_unit", "unit_msrp", "price_subtotal"):
            with self.subTest(field=fname):
                self.assertNotIn(fname, group)
        self.assertEqual(group["quantity"], 20.0)
        # The company-currency subtotal adds up: 45.00 USD + 90.00 EUR / 2.
        usd, eur = batch.line_ids.sorted("row_number")
        self.assertEqual((usd.price_subtotal, usd.currency_id), (45.0, self.usd))
        # 10 x 5.00 USD = 10.00 EUR MSRP, -10 %
        self.assertEqual((eur.price_subtotal, eur.currency_id), (90.0, self.eur))
        total = Line.read_group(
            [("import_id", "=", batch.id)], ["price_subtotal_company"], ["import_id"]
        )[0]["price_subtotal_company"]
        self.assertAlmostEqual(total, 90.0, places=2)

    def test_group_by_state_reads_full_labels(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-unknown")])
        groups = self.env["sophos.ppu.import.line"].read_group(
            [("import_id", "=", batch.id)], ["state"], ["state"]
        )
        labels = dict(
            self.env["sophos.ppu.import.line"]
            ._fields["state"]
            ._description_selection(self.env)
        )
        self.assertEqual(
            sorted(labels[group["state"]] for group in groups), ["Error", "OK"]
        )

    def test_row_is_named_after_its_batch_and_row_number(self):
        batch = self.import_rows([self.row("EU-discount")])
        line = batch.line_ids
        self.assertEqual(line.display_name, f"{batch.name} – row 2")

    def test_values_as_read_show_as_a_table(self):
        batch = self.import_rows([self.row("EU-discount", customer="A & B")])
        html = str(batch.line_ids.raw_values_html)
        self.assertIn("<table", html)
        self.assertIn("<th>End Customer Name</th><td>A &amp; B</td>", html)

    def test_counts_open_the_rows_of_their_state(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-unknown")])
        action = batch.with_context(ppu_line_state="error").action_view_lines()
        self.assertEqual(action["res_model"], "sophos.ppu.import.line")
        self.assertEqual(action["domain"], [("import_id", "=", batch.id)])
        self.assertEqual(action["context"].get("search_default_error"), 1)
        self.assertNotIn(
            "search_default_attention", batch.action_view_lines()["context"]
        )

    def test_unreadable_row_keeps_every_value_of_the_file(self):
        batch = self.import_rows([self._bad_row()])
        line = batch.line_ids
        self.assertTrue(line.parse_error)
        self.assertEqual(line.state, "error")
        cells = line._ppu_raw_cells()
        self.assertEqual(cells["End Customer Name"], "Helios BV")
        self.assertEqual(cells["Total Quantity"], "many")
        self.assertEqual(cells["Unit MSRP"], "5.00")
        self.assertEqual(line.end_user_identifier, "EU-discount")
        self.assertEqual(line.end_customer_name, "Helios BV")
        self.assertEqual(line.start_date, date(2026, 10, 1))
        self.assertEqual(line.unit_msrp, 5.0)

    def test_ops_correct_an_unreadable_row_then_check_bills_it(self):
        batch = self.import_rows([self.row("EU-markup"), self._bad_row()])
        line = batch.line_ids.filtered("parse_error")
        # Checking again without a correction keeps the file's reason.
        batch.action_check()
        self.assertTrue(line.parse_error)
        self.assertIn("many", line.message)
        line.write({"quantity": 10})
        batch.action_check()
        self.assertFalse(line.parse_error)
        self.assertEqual(line.state, "ok")
        self.assertEqual(line.price_subtotal, 45.0)
        self.assertTrue(line.consumption_key)
        self.assertEqual(batch.error_count, 0)
        batch.action_create_invoices()
        self.assertEqual(batch.state, "invoiced")
        self.assertTrue(line.billed)

    def test_correction_still_incomplete_says_what_is_missing(self):
        batch = self.import_rows(
            [self.row("EU-discount", quantity="many", **{"End Date": "soon"})]
        )
        line = batch.line_ids
        line.write({"quantity": 3})
        batch.action_check()
        self.assertTrue(line.parse_error)
        self.assertIn("End Date", line.message)
        line.write({"end_date": date(2026, 10, 31)})
        batch.action_check()
        self.assertEqual(line.state, "ok")

    def test_ops_cannot_write_the_values_of_a_readable_or_billed_row(self):
        batch = self.import_rows([self.row("EU-discount")])
        line = batch.line_ids
        with self.assertRaises(AccessError):
            line.write({"quantity": 100})
        batch.action_create_invoices()
        with self.assertRaises(AccessError):
            line.write({"unit_msrp": 1.0})
        self.assertEqual((line.quantity, line.unit_msrp), (1.0, 5.0))

    def test_ops_cannot_correct_rows_of_an_invoiced_batch(self):
        batch = self.import_rows([self.row("EU-discount"), self._bad_row()])
        batch.with_context(ppu_leave_errors=True).action_create_invoices()
        line = batch.line_ids.filtered("parse_error")
        with self.assertRaises(AccessError):
            line.write({"quantity": 10})

    def test_ops_cannot_write_prices_of_an_unreadable_row(self):
        batch = self.import_rows([self._bad_row()])
        line = batch.line_ids
        for vals in ({"price_unit": 1.0}, {"quantity": 10, "state": "ok"}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                line.write(vals)
        self.assertEqual((line.quantity, line.state), (0.0, "error"))


@tagged("post_install", "-at_install")
class TestImportErrorReportColumns(PpuImportCommon):
    def test_report_has_screen_columns_real_dates_and_every_file_column(self):
        batch = self.import_rows(
            [
                self.row("EU-unknown", customer="Helios BV"),
                self.row("EU-discount", quantity="many", customer=""),
            ]
        )
        header, rows = batch._ppu_error_report_rows()
        self.assertEqual(
            header[:13],
            [
                "Row",
                "End User Identifier",
                "End Customer (file)",
                "State",
                "Reason",
                "Reseller",
                "Product Description",
                "Start Date",
                "End Date",
                "Quantity",
                "Unit MSRP",
                "Cost",
                "File Currency",
            ],
        )
        self.assertNotIn("Unit Price", header[:13])
        self.assertEqual(header[13:], [f"{name} (file)" for name in HEADER])
        unknown, unreadable = rows
        self.assertEqual(unknown[7], date(2026, 10, 1))
        self.assertEqual(unknown[11], 3.2)
        self.assertEqual(unknown[12], "USD")
        self.assertEqual(unknown[5], None)
        self.assertNotIn(False, unknown)
        self.assertEqual(unreadable[2], None)
        self.assertEqual(unreadable[9], None)  # the unreadable quantity
        self.assertEqual(unreadable[13 + HEADER.index("Total Quantity")], "many")
        self.assertNotIn(False, unreadable)
        # The .csv holds no "False" either.
        text = error_report_csv(header, rows).decode("utf-8-sig")
        cells = [cell for line in csv.reader(io.StringIO(text)) for cell in line]
        self.assertIn("many", cells)
        self.assertNotIn("False", cells)
