# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tests.common import new_test_user

from odoo.addons.sophos_ppu.models import sophos_ppu_import_invoice

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportInvoices(PpuImportCommon):
    def test_one_draft_invoice_per_reseller_and_currency(self):
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=7),
                self.row("EU-markup", quantity=10),
                self.row("EU-discount", quantity=2, sku="CEM-PPU", description="Email"),
                self.row("EU-eur", quantity=3),
            ]
        )
        batch.action_create_invoices()
        self.assertEqual(batch.state, "invoiced")
        invoices = batch.invoice_ids
        self.assertEqual(len(invoices), 3)
        self.assertEqual(set(invoices.mapped("state")), {"draft"})
        self.assertEqual(set(invoices.mapped("move_type")), {"out_invoice"})
        by_partner = {move.partner_id: move for move in invoices}
        discount = by_partner[self.resellers["discount"]]
        self.assertEqual(discount.currency_id, self.usd)
        self.assertEqual(discount.amount_untaxed, 40.50)  # 7 x 4.50 + 2 x 4.50
        self.assertEqual(by_partner[self.resellers["markup"]].amount_untaxed, 36.80)
        eur = by_partner[self.resellers["eur"]]
        self.assertEqual(eur.currency_id, self.eur)
        self.assertEqual(eur.amount_untaxed, 27.00)
        self.assertFalse(discount.invoice_origin)  # resellers never see the batch
        self.assertEqual(discount.ppu_import_id, batch)

    def test_invoice_takes_reseller_terms_fiscal_position_and_mapped_taxes(self):
        reseller = self.resellers["discount"]
        reseller.property_account_position_id = self.fiscal_pos_a
        batch = self.import_rows([self.row("EU-discount", quantity=7)])
        batch.action_create_invoices()
        invoice = batch.invoice_ids
        self.assertEqual(invoice.invoice_payment_term_id, self.pay_terms_b)
        self.assertEqual(invoice.fiscal_position_id, self.fiscal_pos_a)
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.tax_sale_b)
        self.assertEqual(invoice.amount_untaxed, 31.50)
        self.assertEqual(self.tax_sale_b.amount_type, "percent")
        self.assertEqual(
            invoice.amount_tax, self.usd.round(31.50 * self.tax_sale_b.amount / 100)
        )
        self.assertTrue(invoice.line_ids.filtered("tax_line_id"))

    def test_invoices_are_those_odoo_builds_the_plain_way(self):
        """Same lines, accounts, amounts, taxes, tags, payment-term lines and
        totals as an invoice created with the same products, labels,
        quantities and prices, Odoo computing all the rest."""
        self.resellers["discount"].property_account_position_id = self.fiscal_pos_a
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=7),
                self.row("EU-discount", quantity=-2, description="Fix", sku="C"),
                self.row("EU-discount", quantity=3, msrp="1.37", sku="X"),
                self.row("EU-eur", quantity=3),
                self.row("EU-eur", quantity=11, msrp="2.33", sku="Y"),
                self.row("EU-markup", quantity=-5),
            ]
        )
        batch.action_create_invoices()
        self.assertEqual(
            sorted(batch.invoice_ids.mapped("move_type")),
            ["out_invoice", "out_invoice", "out_refund"],
        )
        for invoice in batch.invoice_ids:
            plain = self.env["account.move"].create(
                {
                    "move_type": invoice.move_type,
                    "partner_id": invoice.partner_id.id,
                    "currency_id": invoice.currency_id.id,
                    "invoice_origin": invoice.invoice_origin,
                    "ref": invoice.ref,
                    "invoice_line_ids": [
                        Command.create(
                            {"display_type": "line_section", "name": line.name}
                            if line.display_type == "line_section"
                            else {
                                "product_id": line.product_id.id,
                                "name": line.name,
                                "quantity": line.quantity,
                                "price_unit": line.price_unit,
                            }
                        )
                        for line in invoice.invoice_line_ids
                    ],
                }
            )
            self.assertEqual(self._snapshot(invoice), self._snapshot(plain))

    def _snapshot(self, move):
        move_fields = [
            "move_type",
            "journal_id",
            "currency_id",
            "invoice_currency_rate",
            "fiscal_position_id",
            "invoice_payment_term_id",
            "invoice_date_due",
            "amount_untaxed",
            "amount_tax",
            "amount_total",
            "amount_residual",
            "amount_untaxed_signed",
            "amount_tax_signed",
            "amount_total_signed",
            "tax_totals",
        ]
        line_fields = [
            "sequence",
            "display_type",
            "name",
            "account_id",
            "partner_id",
            "product_id",
            "product_uom_id",
            "quantity",
            "price_unit",
            "discount",
            "tax_ids",
            "tax_tag_ids",
            "tax_line_id",
            "tax_repartition_line_id",
            "tax_base_amount",
            "currency_id",
            "amount_currency",
            "balance",
            "debit",
            "credit",
            "price_subtotal",
            "price_total",
            "date_maturity",
            "analytic_distribution",
        ]
        [header] = move.read(move_fields, load=None)
        header.pop("id")
        lines = [
            {fname: line[fname] for fname in line_fields}
            for line in move.line_ids.read(line_fields, load=None)
        ]
        self.assertTrue(lines)
        return header, sorted(lines, key=repr)

    def test_invoice_lines_are_labelled_ordered_by_end_customer_and_linked(self):
        batch, other = self.invoice_two_end_customers(quantity=1)
        lines = batch.invoice_ids.invoice_line_ids.filtered("product_id")
        self.assertEqual(
            lines.mapped("name"),
            [
                "Aardvark Ltd — Intercept X Server — 2026-10-01–2026-10-31",
                "Customer discount — Sophos Intercept X Advanced — "
                "2026-10-01–2026-10-31",
            ],
        )
        self.assertEqual(lines.mapped("quantity"), [2.0, 1.0])
        self.assertEqual(lines[0].ppu_subscription_id, other)
        import_line = self.line_of(batch, "EU-aard")
        self.assertEqual(lines[0].ppu_import_line_id, import_line)
        self.assertEqual(import_line.invoice_line_id, lines[0])
        self.assertEqual(import_line.invoice_id, batch.invoice_ids)
        self.assertEqual(
            batch.invoice_ids.ppu_import_attachment_id, batch.attachment_id
        )
        action = batch.invoice_ids.action_ppu_download_file()
        self.assertEqual(
            action["url"], f"/web/content/{batch.attachment_id.id}?download=true"
        )

    def test_invoice_lines_are_grouped_by_end_customer_under_sections(self):
        self._subscription(
            self.resellers["discount"],
            "Aardvark Ltd",
            "EU-aard",
            self.pricelist_discount,
        )
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=3),
                self.row("EU-aard", quantity=2, description="Intercept X Server"),
                self.row("EU-discount", quantity=1, sku="X", description="Email"),
            ],
        )
        batch.action_create_invoices()
        invoice = batch.invoice_ids
        self.assertEqual(
            [
                (line.display_type, line.name.split(" — ")[0])
                for line in invoice.invoice_line_ids
            ],
            [
                ("line_section", "Aardvark Ltd"),
                ("product", "Aardvark Ltd"),
                ("line_section", "Customer discount"),
                ("product", "Customer discount"),
                ("product", "Customer discount"),
            ],
        )
        self.assertEqual(invoice.amount_untaxed, 27.0)  # 6 x 4.50

    def test_invoice_says_which_batch_and_file_made_it_to_staff_only(self):
        batch = self.import_rows([self.row("EU-discount")], filename="oct.csv")
        batch.action_create_invoices()
        invoice = batch.invoice_ids
        note = invoice.message_ids.filtered(lambda m: batch.name in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("oct.csv", note.body)
        self.assertIn("October 2026", note.body)
        self.assertTrue(note.subtype_id.internal)
        self.assertFalse(invoice.invoice_origin)
        self.assertNotIn(batch.name, str(invoice.narration or ""))

    def test_zero_quantity_rows_are_skipped_visibly(self):
        batch = self.import_rows(
            [self.row("EU-discount", quantity=1), self.row("EU-markup", quantity=0)]
        )
        zero = self.line_of(batch, "EU-markup")
        self.assertEqual(zero.message, "Zero quantity: not invoiced.")
        batch.action_create_invoices()
        self.assertEqual(batch.invoice_ids.partner_id, self.resellers["discount"])
        self.assertFalse(zero.invoice_line_id)
        self.assertFalse(zero.billed)

    def test_negative_row_becomes_a_negative_line(self):
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=10),
                self.row("EU-discount", quantity=-2, description="Correction", sku="C"),
            ]
        )
        batch.action_create_invoices()
        invoice = batch.invoice_ids
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(
            sorted(
                invoice.invoice_line_ids.filtered("product_id").mapped("price_subtotal")
            ),
            [-9.0, 45.0],
        )
        self.assertEqual(invoice.amount_untaxed, 36.00)

    def test_reseller_with_a_negative_total_gets_a_credit_note(self):
        batch = self.import_rows([self.row("EU-markup", quantity=-5)])
        batch.action_create_invoices()
        refund = batch.invoice_ids
        self.assertEqual(refund.move_type, "out_refund")
        self.assertEqual(refund.invoice_line_ids.filtered("product_id").quantity, 5.0)
        self.assertEqual(refund.amount_untaxed, 18.40)
        self.assertEqual(refund.amount_untaxed_signed, -18.40)

    def test_failure_midway_leaves_no_invoice_and_the_batch_says_why(self):
        batch = self.import_rows(
            [self.row("EU-discount"), self.row("EU-markup"), self.row("EU-eur")]
        )
        Move = type(self.env["account.move"])
        original = Move.create
        created = []

        def failing_create(model, vals_list):
            if created:
                raise UserError("Sequence exhausted")
            created.append(vals_list)
            return original(model, vals_list)

        self.patch(Move, "create", failing_create)
        # one invoice per account.move create() call: the 2nd call fails
        self.patch(sophos_ppu_import_invoice, "MOVE_CREATE_BATCH", 1)
        batch.action_create_invoices()
        self.assertTrue(created)
        self.assertFalse(batch.invoice_ids)
        self.assertFalse(
            self.env["account.move"].search([("ppu_import_id", "=", batch.id)])
        )
        self.assertEqual(batch.state, "checked")
        self.assertEqual(
            batch.invoice_error, "No invoice was created: Sequence exhausted"
        )
        self.assertFalse(batch.line_ids.filtered("billed"))

    def test_invoicing_is_refused_while_errors_remain(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("NOPE")])
        with self.assertRaisesRegex(UserError, "1 rows of import .* are in error"):
            batch.action_create_invoices()
        self.assertFalse(batch.invoice_ids)

    def test_ops_confirm_invoicing_valid_lines_and_leaving_errors(self):
        batch = self.import_rows([self.row("EU-discount"), self.row("NOPE")])
        batch.with_context(ppu_leave_errors=True).action_create_invoices()
        self.assertEqual(batch.invoice_ids.amount_untaxed, 4.50)
        self.assertFalse(self.line_of(batch, "NOPE").billed)

    def test_ops_user_without_accounting_rights_creates_and_cancels_invoices(self):
        ops = new_test_user(
            self.env,
            login="ppu-ops",
            groups="sophos_ppu.group_ppu_operations",
            company_id=self.company.id,
        )
        self.env = self.env(user=ops)
        batch = self.import_rows([self.row("EU-discount", quantity=7)])
        batch.action_create_invoices()
        self.assertEqual(batch.invoice_ids.amount_untaxed, 31.50)
        self.assertEqual(batch.invoice_ids.create_uid, ops)
        batch.action_cancel()
        self.assertFalse(batch.invoice_ids)
