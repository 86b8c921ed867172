# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import uuid

import psycopg2

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.sophos_ppu.core import read_consumption_file
from odoo.addons.sophos_ppu.tools.billing_guard import trusted

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportDuplicates(PpuImportCommon):
    def test_second_upload_of_the_same_file_bills_nothing_twice(self):
        data = self.consumption_csv(
            [self.row("EU-discount", quantity=7), self.row("EU-markup", quantity=10)]
        )
        first = self.import_file(data)
        first.action_create_invoices()
        second = self.import_file(data)
        self.assertEqual(second.line_ids.mapped("state"), ["duplicate", "duplicate"])
        self.assertEqual(second.line_ids.duplicate_import_id, first)
        self.assertEqual(
            second.line_ids[0].message, f"Already billed by import {first.name}."
        )
        with (
            self.assertRaisesRegex(UserError, "nothing to invoice"),
            self.env.cr.savepoint(),
        ):
            second._ppu_create_invoices()
        second.action_create_invoices()
        self.assertFalse(second.invoice_ids)
        billed = self.env["sophos.ppu.import.line"].search(
            [("billed", "=", True), ("end_user_identifier", "=", "EU-discount")]
        )
        self.assertEqual(billed.import_id, first)

    def test_overlapping_file_bills_only_the_new_rows(self):
        self.import_rows([self.row("EU-discount")]).action_create_invoices()
        batch = self.import_rows([self.row("EU-discount"), self.row("EU-markup")])
        self.assertEqual(batch.line_ids.mapped("state"), ["duplicate", "ok"])
        batch.action_create_invoices()
        self.assertEqual(batch.invoice_ids.partner_id, self.resellers["markup"])

    def test_other_service_dates_are_not_duplicates(self):
        self.import_rows([self.row("EU-discount")]).action_create_invoices()
        half = self.row("EU-discount", **{"End Date": "2026-10-15"})
        self.assertEqual(self.import_rows([half]).line_ids.state, "ok")

    def test_unbilled_batch_does_not_make_duplicates(self):
        data = self.consumption_csv([self.row("EU-discount")])
        self.import_file(data)
        self.assertEqual(self.import_file(data).line_ids.state, "ok")

    def test_invoicing_checks_stale_rows_again(self):
        """Two batches of the same month both checked; once the first bills
        it, the second's rows, shown OK until then, are not billed again."""
        data = self.consumption_csv([self.row("EU-discount"), self.row("EU-markup")])
        first, second = self.import_file(data), self.import_file(data)
        self.assertEqual(second.line_ids.mapped("state"), ["ok", "ok"])
        first.action_create_invoices()
        second.action_create_invoices()
        self.assertEqual(second.line_ids.mapped("state"), ["duplicate", "duplicate"])
        self.assertEqual(second.line_ids.duplicate_import_id, first)
        self.assertFalse(second.invoice_ids)
        self.assertIn("nothing to invoice", second.invoice_error)

    def test_invoicing_prices_stale_rows_with_the_rule_of_today(self):
        batch = self.import_rows([self.row("EU-discount", quantity=2)])
        self.assertEqual(batch.line_ids.price_unit, 4.5)
        self.pricelist_discount.item_ids.percent_price = 20.0
        batch.action_create_invoices()
        self.assertEqual(batch.line_ids.price_unit, 4.0)
        self.assertEqual(batch.invoice_ids.amount_untaxed, 8.0)

    def test_same_consumption_twice_in_one_file_is_a_duplicate(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("eu-discount")])
        self.assertEqual(batch.line_ids.mapped("state"), ["ok", "duplicate"])
        self.assertEqual(
            batch.line_ids[1].message, "Same consumption as row 2 of this file."
        )

    def recheck_in_chunks(self, batch, size):
        """Check the batch again chunk by chunk, in row order."""
        rows, after = [], 0
        while chunk := batch._ppu_recheck(after_row=after, limit=size):
            self.assertLessEqual(len(chunk), size)
            rows += chunk
            after = chunk[-1]["row_number"]
        return rows

    def repeats_file(self):
        return self.consumption_csv(
            [
                self.row("EU-discount", quantity=2),
                self.row("EU-unknown"),
                self.row("EU-discount", quantity=2),
                self.row("EU-markup"),
                self.row("eu-discount", quantity=3),
                self.row("EU-markup", quantity=4),
            ]
        )

    def test_checking_chunk_by_chunk_gives_the_results_of_one_pass(self):
        batch = self.import_file(self.repeats_file())
        lines = batch.line_ids
        one_pass = [(line.state, line.message) for line in lines]
        self.assertEqual(
            [state for state, _message in one_pass],
            ["ok", "error", "duplicate", "ok", "duplicate", "duplicate"],
        )
        self.assertEqual(
            [message for _state, message in one_pass[2:]],
            [
                "Repeats row 2 exactly: confirm it if Sophos bills this "
                "consumption twice.",
                False,
                "Same consumption as row 2 of this file.",
                "Same consumption as row 5 of this file.",
            ],
        )
        for size in (1, 2, 4):
            with self.subTest(size=size):
                # Whatever was stored, chunk by chunk finds it again.
                lines._ppu_write({"state": "error", "message": "stale"})
                rows = self.recheck_in_chunks(batch, size)
                self.assertEqual([row["id"] for row in rows], lines.ids)
                self.assertEqual(
                    [(row["state"], row["message"]) for row in rows], one_pass
                )
                self.assertEqual(
                    [(line.state, line.message) for line in lines], one_pass
                )

    def test_import_chunks_repeat_the_rows_created_before_them(self):
        """The import checks a chunk of rows not created yet, creates their
        lines, then checks the next chunk."""
        data = self.repeats_file()
        one_pass = [
            (line.state, line.message) for line in self.import_file(data).line_ids
        ]
        attachment = self.env["ir.attachment"].create({"name": "c.csv", "raw": data})
        with trusted():
            batch = self.env["sophos.ppu.import"].create(
                {"period_date": self.PERIOD, "attachment_id": attachment.id}
            )
        Line = self.env["sophos.ppu.import.line"]
        rows = Line._ppu_values_from_result(
            read_consumption_file(data, filename="c.csv"), self.company
        )
        for start in range(0, len(rows), 2):
            chunk = rows[start : start + 2]
            checks = batch._ppu_check_rows(chunk)
            Line._ppu_create(
                [
                    dict(row, **check, import_id=batch.id, company_id=self.company.id)
                    for row, check in zip(chunk, checks, strict=True)
                ]
            )
        self.assertEqual(
            [(line.state, line.message) for line in batch.line_ids], one_pass
        )

    def test_database_refuses_to_bill_a_key_twice(self):
        first = self.import_rows([self.row("EU-discount")])
        second = self.import_rows([self.row("EU-discount")])
        first.line_ids._ppu_write({"billed": True})
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            second.line_ids._ppu_write({"billed": True})
            self.env.flush_all()


@tagged("post_install", "-at_install")
class TestImportRace(TransactionCase):
    """Two imports of the same month invoiced in two concurrent transactions:
    only one may bill. Runs on committed data in the main company (a test
    transaction is invisible to other connections), removed afterwards."""

    def test_two_transactions_racing_cannot_both_bill(self):
        identifier = f"EU-RACE-{uuid.uuid4()}"
        data = PpuImportCommon.consumption_csv(
            [PpuImportCommon.row(identifier, customer="Race Customer")]
        )
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            Import = env["sophos.ppu.import"].with_company(company)
            template = env.ref("sophos_ppu.product_sophos_cybersecurity")
            pricelist = env["product.pricelist"].create(
                {
                    "name": "Race -10%",
                    "company_id": company.id,
                    "currency_id": company.currency_id.id,
                    "item_ids": [
                        Command.create(
                            {
                                "applied_on": "1_product",
                                "product_tmpl_id": template.id,
                                "compute_price": "percentage",
                                "percent_price": 10.0,
                            }
                        )
                    ],
                }
            )
            partners = env["res.partner"].create(
                [{"name": "Race Reseller"}, {"name": "Race Customer"}]
            )
            subscription = env["sophos.ppu.subscription"].create(
                {
                    "partner_id": partners[0].id,
                    "end_customer_id": partners[1].id,
                    "end_user_identifier": identifier,
                    "product_id": template.product_variant_id.id,
                    "pricelist_id": pricelist.id,
                    "company_id": company.id,
                }
            )
            first = Import._ppu_import_file(data, "a.csv", PpuImportCommon.PERIOD)
            second = Import._ppu_import_file(data, "b.csv", PpuImportCommon.PERIOD)
            ids = (first.id, second.id, subscription.id)
        self.addCleanup(self._cleanup_race, ids)

        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            # B is checked: both batches' rows are billable.
            self.assertEqual(env_b["sophos.ppu.import"].browse(ids[1]).ok_count, 1)
            env_a["sophos.ppu.import"].browse(ids[0]).action_create_invoices()
            # A holds its key uncommitted; B would wait for it: give up fast.
            cr_b.execute("SET LOCAL lock_timeout = '1s'")
            second = env_b["sophos.ppu.import"].browse(ids[1])
            with mute_logger("odoo.sql_db"):
                second.action_create_invoices()
            self.assertFalse(second.invoice_ids)
            self.assertEqual(second.state, "checked")
            cr_a.commit()
            # Once A committed, B's key is refused as a duplicate key.
            with mute_logger("odoo.sql_db"):
                second.action_create_invoices()
            self.assertFalse(second.invoice_ids)
            self.assertIn("billed by another import meanwhile", second.invoice_error)
            cr_b.commit()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            first, second = env["sophos.ppu.import"].browse(ids[:2])
            self.assertEqual(first.state, "invoiced")
            self.assertEqual(len(first.invoice_ids), 1)
            self.assertEqual(second.state, "checked")
            self.assertFalse(second.invoice_ids)

    def _cleanup_race(self, ids):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            batches = env["sophos.ppu.import"].browse(ids[:2])
            batches.action_cancel()
            batches.unlink()  # and their attachments
            subscription = env["sophos.ppu.subscription"].browse(ids[2])
            pricelist = subscription.pricelist_id
            partners = subscription.partner_id | subscription.end_customer_id
            subscription.unlink()
            pricelist.unlink()
            partners.unlink()
