# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Rows staged in one INSERT (``_ppu_create_for``) are the rows Odoo's
``create()`` makes from the same values, column for column."""

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.sophos_ppu.core.reader import read_consumption_file
from odoo.addons.sophos_ppu.tools.billing_guard import trusted

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportBulkStaging(PpuImportCommon):
    def setUp(self):
        super().setUp()
        self.Line = self.env["sophos.ppu.import.line"]

    def new_batch(self, data):
        attachment = self.env["ir.attachment"].create({"name": "c.csv", "raw": data})
        with trusted():
            return self.env["sophos.ppu.import"].create(
                {"period_date": self.PERIOD, "attachment_id": attachment.id}
            )

    def staged_values(self, batch, data):
        """The values the import job stages and checks for the file's rows."""
        rows = self.Line._ppu_values_from_result(
            read_consumption_file(data, filename="c.csv"), self.company
        )
        checks = batch._ppu_check_rows(rows)
        return [dict(row, **check) for row, check in zip(rows, checks, strict=True)]

    def mixed_file(self):
        return self.consumption_csv(
            [
                self.row("EU-discount", quantity=3),
                # Another currency than the company's (USD): EUR at 2 per USD.
                self.row("EU-eur", quantity=7, msrp="4.37", cost="2.91"),
                self.row("EU-markup", quantity=5, currency="EUR"),
                self.row("EU-volume", quantity=-2),  # a credit
                self.row("EU-rounded", quantity=0),
                self.row("NOPE", quantity=4),  # no subscription
                self.row("EU-discount", quantity=3),  # repeats the first row
                self.row("EU-norule", quantity=1),  # no pricelist rule
                # Could not be read: a bad date, an unknown currency.
                self.row("EU-discount", **{"Start Date": "31/31/2026"}),
                self.row("EU-markup", quantity=2, currency="XYZ"),
            ]
        )

    def columns(self, lines):
        """Every column of ``lines`` but their id and batch, by row, as stored."""
        self.env.flush_all()
        table = self.Line._table
        names = [
            name
            for (name,) in self.env.execute_query(
                SQL(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = %s AND column_name NOT IN ('id', 'import_id') "
                    "ORDER BY column_name",
                    table,
                )
            )
        ]
        rows = self.env.execute_query(
            SQL(
                "SELECT %s FROM %s WHERE id IN %s ORDER BY row_number, id",
                SQL(", ").join(map(SQL.identifier, names)),
                SQL.identifier(table),
                tuple(lines.ids),
            )
        )
        return [dict(zip(names, row, strict=True)) for row in rows]

    def read_stored(self, lines):
        """Every stored field of ``lines`` but their id and batch, as read()."""
        names = [
            name
            for name, field in self.Line._fields.items()
            if field.store and name not in ("id", "import_id")
        ]
        return [
            {name: values[name] for name in names}
            for values in lines.sorted(lambda line: (line.row_number, line.id)).read(
                names
            )
        ]

    def test_bulk_rows_equal_the_rows_create_makes(self):
        data = self.mixed_file()
        bulk_batch, orm_batch = self.new_batch(data), self.new_batch(data)
        values = self.staged_values(bulk_batch, data)
        self.assertTrue(any(vals["parse_error"] for vals in values))
        self.assertTrue(any(vals["subscription_id"] for vals in values))
        self.assertTrue(any(not vals["subscription_id"] for vals in values))

        bulk = self.Line._ppu_create_for(bulk_batch, [dict(v) for v in values])
        orm = self.Line._ppu_create(
            [
                dict(vals, import_id=orm_batch.id, company_id=self.company.id)
                for vals in values
            ]
        )

        self.assertEqual(bulk.import_id, bulk_batch)
        self.assertEqual(len(bulk), len(values))
        self.assertEqual(self.read_stored(bulk), self.read_stored(orm))
        bulk_columns = self.columns(bulk)
        self.assertEqual(bulk_columns, self.columns(orm))
        # What the rows cover, in case the file changes.
        eur_row = next(row for row in bulk_columns if row["currency_id"] == self.eur.id)
        self.assertNotEqual(eur_row["price_subtotal_company"], 0)
        self.assertNotEqual(
            eur_row["price_subtotal_company"], eur_row["price_subtotal"]
        )
        self.assertTrue(any(row["quantity"] < 0 for row in bulk_columns))
        self.assertEqual(
            {(row["create_uid"], row["write_uid"]) for row in bulk_columns},
            {(self.env.uid, self.env.uid)},
        )
        self.assertEqual(
            {(row["create_date"], row["write_date"]) for row in bulk_columns},
            {(self.env.cr.now(), self.env.cr.now())},
        )

    def test_bulk_rows_come_back_in_the_order_of_their_values(self):
        data = self.mixed_file()
        batch = self.new_batch(data)
        values = self.staged_values(batch, data)[::-1]
        lines = self.Line._ppu_create_for(batch, values)
        self.assertEqual(
            lines.mapped("row_number"), [vals["row_number"] for vals in values]
        )

    def test_batch_sees_its_bulk_rows(self):
        """The batch's rows and counts, read before, include the new rows."""
        data = self.mixed_file()
        batch = self.new_batch(data)
        self.assertFalse(batch.line_ids)
        self.assertEqual(batch.line_count, 0)
        lines = self.Line._ppu_create_for(batch, self.staged_values(batch, data))
        self.assertEqual(batch.line_ids, lines)
        self.assertEqual(batch.line_count, len(lines))
        self.assertEqual(
            batch.ok_count, len(lines.filtered(lambda line: line.state == "ok"))
        )

    def test_bulk_rows_refuse_a_subscription_of_another_company(self):
        other = self.env["res.company"].create({"name": "Other distributor"})
        pricelist = (
            self.env["product.pricelist"]
            .sudo()
            .create({"name": "Elsewhere", "company_id": other.id})
        )
        subscription = (
            self.env["sophos.ppu.subscription"]
            .sudo()
            .create(
                {
                    "partner_id": self.resellers["discount"].id,
                    "end_customer_id": self.env["res.partner"]
                    .create({"name": "Elsewhere Ltd"})
                    .id,
                    "end_user_identifier": "EU-elsewhere",
                    "product_id": self.product.id,
                    "pricelist_id": pricelist.id,
                    "company_id": other.id,
                }
            )
        )
        data = self.consumption_csv([self.row("EU-discount")])
        batch = self.new_batch(data)
        values = self.staged_values(batch, data)
        values[0]["subscription_id"] = subscription.id
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self.Line._ppu_create_for(batch, values)
