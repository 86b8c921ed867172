# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Accountants close the month: corrections credited as billed, Sophos's bill
from the file, cost and margin on every row, the reconciliation and the
exceptions of the month, and who sees them."""

import io
from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common_import import HEADER, PpuImportCommon

NOVEMBER = date(2026, 11, 1)


class MonthCloseCommon(PpuImportCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sophos = cls.env["res.partner"].create(
            {"name": "Sophos Ltd", "is_company": True}
        )
        cls.cost_product = cls.env["product.product"].create(
            {
                "name": "Sophos pay-per-use (cost)",
                "type": "service",
                "purchase_ok": True,
                "supplier_taxes_id": [Command.clear()],
            }
        )
        cls.company.write(
            {
                "ppu_vendor_id": cls.sophos.id,
                "ppu_cost_product_id": cls.cost_product.id,
            }
        )

    def correction(self, identifier, quantity, **values):
        """A row of November's file correcting October's consumption."""
        return self.row(identifier, quantity=quantity, **values)

    def november(self, rows):
        batch = self.import_rows(rows, period_date=NOVEMBER)
        return batch

    def billed_october(self, rows):
        batch = self.import_rows(rows)
        batch.with_context(ppu_leave_errors=True).action_create_invoices()
        batch.invoice_ids.action_post()
        return batch

    def eur_rate(self, day, rate):
        self.env["res.currency.rate"].create(
            {
                "name": day,
                "currency_id": self.eur.id,
                "rate": rate,
                "company_id": self.company.id,
            }
        )


@tagged("post_install", "-at_install")
class TestCorrectionsCreditWhatWasBilled(MonthCloseCommon):
    def test_a_moved_rate_leaves_the_credit_at_the_billed_price(self):
        # The EUR reseller's pricelist, the file in USD: 5 USD at 2 EUR per
        # USD, less 10 %, billed 9.00 EUR in October.
        october = self.billed_october([self.row("EU-eur", quantity=10)])
        billed = self.line_of(october, "EU-eur")
        self.assertEqual((billed.price_unit, billed.currency_id), (9.0, self.eur))
        self.eur_rate("2026-11-01", 2.5)  # today's rule would price 11.25 EUR
        batch = self.november([self.correction("EU-eur", -3)])
        line = batch.line_ids
        self.assertEqual(line.state, "ok", line.message)
        self.assertEqual(line.issue, "credits_billed")
        self.assertEqual((line.price_unit, line.currency_id), (9.0, self.eur))
        self.assertEqual(line.corrected_line_id, billed)
        self.assertEqual(line.credited_invoice_id, october.invoice_ids)
        self.assertIn(october.invoice_ids.name, line.message)
        batch.action_create_invoices()
        credit = batch.invoice_ids
        self.assertEqual(credit.move_type, "out_refund")
        self.assertEqual(credit.currency_id, self.eur)
        self.assertAlmostEqual(credit.amount_untaxed, 27.0, places=2)
        [credit_line] = credit.invoice_line_ids.filtered("product_id")
        self.assertEqual(credit_line.price_unit, 9.0)
        self.assertIn(f"credits {october.invoice_ids.name}", credit_line.name)

    def test_a_changed_rule_leaves_the_credit_at_the_billed_price(self):
        october = self.billed_october([self.row("EU-discount", quantity=10)])
        self.pricelist_discount.item_ids.percent_price = 20.0
        batch = self.november([self.correction("EU-discount", -3)])
        self.assertEqual(batch.line_ids.price_unit, 4.5)
        batch.action_create_invoices()
        self.assertAlmostEqual(batch.invoice_ids.amount_untaxed, 13.5, places=2)
        self.assertEqual(batch.line_ids.credited_invoice_id, october.invoice_ids)

    def test_a_price_changed_on_the_draft_is_the_price_credited(self):
        october = self.import_rows([self.row("EU-discount", quantity=10)])
        october.action_create_invoices()
        invoice_line = october.invoice_ids.invoice_line_ids.filtered("product_id")
        invoice_line.price_unit = 4.2  # the accountant's change before posting
        october.invoice_ids.action_post()
        batch = self.november([self.correction("EU-discount", -3)])
        self.assertEqual(batch.line_ids.price_unit, 4.2)

    def test_a_correction_with_nothing_billed_is_priced_by_todays_rule_and_says_so(
        self,
    ):
        self.pricelist_discount.item_ids.percent_price = 20.0
        batch = self.november([self.correction("EU-discount", -3)])
        line = batch.line_ids
        self.assertEqual((line.state, line.issue), ("ok", "corrects_unbilled"))
        self.assertEqual(line.price_unit, 4.0)
        self.assertFalse(line.corrected_line_id)
        self.assertIn("priced by the current pricelist rule", line.message)

    def test_a_billed_consumption_is_credited_after_its_subscription_closed(self):
        self.billed_october([self.row("EU-discount", quantity=10)])
        self.subscriptions["discount"].state = "closed"
        batch = self.november([self.correction("EU-discount", -3)])
        self.assertEqual(batch.line_ids.state, "ok", batch.line_ids.message)
        self.assertEqual(batch.line_ids.partner_id, self.resellers["discount"])


@tagged("post_install", "-at_install")
class TestCostAndMargin(MonthCloseCommon):
    def test_every_row_has_its_cost_and_billable_rows_their_margin(self):
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=10),  # 4.50 billed, 3.20 cost
                # The file in EUR: 6.40 EUR cost is 3.20 USD; cost +15 %.
                self.row(
                    "EU-markup", quantity=2, msrp="10", cost="6.4", currency="EUR"
                ),
                self.row("EU-unknown", quantity=4),
            ]
        )
        discount = self.line_of(batch, "EU-discount")
        self.assertEqual(discount.cost_subtotal, 32.0)
        self.assertEqual(discount.cost_subtotal_company, 32.0)
        self.assertEqual(discount.margin_company, 13.0)
        self.assertEqual(discount.margin_percent, 28.89)
        markup = self.line_of(batch, "EU-markup")
        self.assertEqual(markup.cost_subtotal, 12.8)
        self.assertEqual(markup.file_currency_id, self.eur)
        self.assertEqual(markup.cost_subtotal_company, 6.4)
        self.assertEqual(markup.price_subtotal_company, 7.36)
        self.assertEqual(markup.margin_company, 0.96)
        unknown = self.line_of(batch, "EU-unknown")
        self.assertEqual((unknown.cost_subtotal, unknown.margin_company), (12.8, 0.0))
        self.assertEqual(unknown.close_status, "error")

    def test_a_row_priced_below_cost_is_flagged_and_still_billed(self):
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=10, msrp="3.00", cost="3.20"),
                self.row("EU-markup", quantity=1),
            ]
        )
        below = self.line_of(batch, "EU-discount")
        self.assertTrue(below.below_cost)
        self.assertEqual(below.margin_company, -5.0)
        self.assertFalse(self.line_of(batch, "EU-markup").below_cost)
        self.assertEqual(batch.below_cost_count, 1)
        self.assertEqual(batch.error_count, 0)
        self.assertEqual(batch._ppu_summary()["below_cost"], 1)
        batch.action_create_invoices()
        self.assertEqual(batch.state, "invoiced")

    def test_the_analysis_opens_on_billed_rows_only(self):
        batch = self.import_rows(
            [self.row("EU-discount", quantity=10), self.row("EU-unknown", quantity=4)]
        )
        batch.with_context(ppu_leave_errors=True).action_create_invoices()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "sophos_ppu.sophos_ppu_import_line_analysis_action"
        )
        self.assertIn("'search_default_billed': 1", action["context"])
        Line = self.env["sophos.ppu.import.line"]
        [[quantity, cost, margin]] = [
            list(group)
            for group in Line._read_group(
                [("billed", "=", True), ("import_id", "=", batch.id)],
                [],
                ["quantity:sum", "cost_subtotal_company:sum", "margin_company:sum"],
            )
        ]
        self.assertEqual((quantity, cost, margin), (10.0, 32.0, 13.0))
        # Without any filter, only billed rows add up as billed.
        [[billed_quantity, billed]] = Line._read_group(
            [("import_id", "=", batch.id)],
            [],
            ["billed_quantity:sum", "billed_subtotal_company:sum"],
        )
        self.assertEqual((billed_quantity, billed), (10.0, 45.0))
        batch.invoice_ids.unlink()  # a draft deleted: its rows bill nothing
        [[billed_quantity, billed]] = Line._read_group(
            [("import_id", "=", batch.id)],
            [],
            ["billed_quantity:sum", "billed_subtotal_company:sum"],
        )
        self.assertEqual((billed_quantity, billed), (0.0, 0.0))
        # What the pivot offers as measures: amounts, never row numbers.
        measures = {
            name
            for name, field in Line.fields_get(attributes=["aggregator"]).items()
            if field.get("aggregator")
        }
        self.assertIn("margin_company", measures)
        self.assertFalse({"repeat_of_row", "row_number", "margin_percent"} & measures)


@tagged("post_install", "-at_install")
class TestSophosBill(MonthCloseCommon):
    def email_row(self):
        """Another service of the same end customer, at another cost."""
        return self.row(
            "EU-discount", quantity=3, cost="1.10", sku="MAIL-PPU",
            description="Sophos Email",
        )  # fmt: skip

    def file_of_the_month(self):
        return self.import_rows(
            [
                self.row("EU-discount", quantity=10),
                self.row("EU-volume", quantity=5),
                self.row("EU-unknown", quantity=4),  # billed to nobody
                self.email_row(),
                self.row(
                    "EU-markup", quantity=2, msrp="10", cost="6.4", currency="EUR"
                ),
            ]
        )

    def test_one_draft_bill_per_file_currency_equal_to_the_file_cost(self):
        batch = self.file_of_the_month()
        batch.with_context(ppu_leave_errors=True).action_create_invoices()
        batch.action_create_vendor_bills()
        bills = batch.vendor_bill_ids.sorted(lambda bill: bill.currency_id.name)
        self.assertEqual(bills.currency_id.mapped("name"), ["EUR", "USD"])
        self.assertEqual(set(bills.mapped("move_type")), {"in_invoice"})
        self.assertEqual(set(bills.mapped("state")), {"draft"})
        self.assertEqual(bills.partner_id, self.sophos)
        self.assertEqual(set(bills.mapped("invoice_date")), {date(2026, 10, 31)})
        self.assertEqual(bills.ppu_cost_import_id, batch)
        eur, usd = bills
        self.assertEqual(eur.amount_untaxed, 12.8)
        # The unknown end customer's 4 units are on Sophos's bill too.
        self.assertEqual(usd.amount_untaxed, 64.1)
        self.assertEqual(
            [
                (line.name, line.quantity, line.price_unit)
                for line in usd.invoice_line_ids.sorted("name")
            ],
            [
                ("Sophos Email (MAIL-PPU)", 3.0, 1.1),
                ("Sophos Intercept X Advanced (CIXA-PPU)", 19.0, 3.2),
            ],
        )
        self.assertEqual(usd.invoice_line_ids.product_id, self.cost_product)
        attachments = self.env["ir.attachment"].search(
            [("res_model", "=", "account.move"), ("res_id", "in", bills.ids)]
        )
        self.assertEqual(len(attachments), 2)
        self.assertEqual(set(attachments.mapped("name")), {batch.filename})
        self.assertEqual(batch.vendor_bill_difference, 0.0)
        story = batch.message_ids[:1].body
        self.assertIn("made from the file", story)
        for bill in bills:
            self.assertIn(f'data-oe-id="{bill.id}"', story)  # linked, not text
        with self.assertRaisesRegex(UserError, "has a Sophos bill already"):
            batch.action_create_vendor_bills()

    def test_a_bill_rounds_to_the_file_cost_to_the_cent(self):
        batch = self.import_rows([self.row("EU-discount", quantity=3, cost="1.235")])
        batch.action_create_vendor_bills()
        bill = batch.vendor_bill_ids
        self.assertEqual(batch.line_ids.cost_subtotal, 3.71)
        self.assertEqual(bill.amount_untaxed, 3.71)
        self.assertIn(
            "Rounding to the file's cost", bill.invoice_line_ids.mapped("name")
        )

    def test_settings_name_the_vendor_first(self):
        batch = self.import_rows([self.row("EU-discount", quantity=3)])
        self.company.ppu_vendor_id = False
        with self.assertRaisesRegex(UserError, "Set the Sophos vendor"):
            batch.action_create_vendor_bills()

    def test_a_bill_entered_by_hand_is_linked_and_compared_line_by_line(self):
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=10),
                self.email_row(),
            ]
        )
        entered = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.sophos.id,
                "invoice_date": date(2026, 11, 3),
                "invoice_line_ids": [
                    Command.create(
                        {"name": "CIXA-PPU October", "quantity": 10, "price_unit": 3.2}
                    ),
                    Command.create(
                        {"name": "Sophos Email", "quantity": 3, "price_unit": 1.2}
                    ),
                ],
            }
        )
        wizard = (
            self.env["sophos.ppu.vendor.bill.link"]
            .with_context(default_import_id=batch.id)
            .create({"bill_ids": [Command.set(entered.ids)]})
        )
        wizard.action_link()
        self.assertEqual(batch.vendor_bill_ids, entered)
        self.assertAlmostEqual(batch.vendor_bill_difference, 0.3, places=2)
        [(currency, rows, difference)] = batch._ppu_vendor_bill_tables()
        self.assertEqual(currency, self.usd)
        self.assertEqual(
            [(row.label, float(row.difference)) for row in rows],
            [
                ("Sophos Email (MAIL-PPU)", 0.3),
                ("Sophos Intercept X Advanced (CIXA-PPU)", 0.0),
            ],
        )
        self.assertIn("Sophos Email (MAIL-PPU)", batch.vendor_bill_comparison)


@tagged("post_install", "-at_install")
class TestReconciliation(MonthCloseCommon):
    def test_the_month_adds_up_by_reason_to_the_cent(self):
        self.subscriptions["volume"].state = "closed"
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=10),  # billed
                self.row("EU-discount", quantity=0),  # zero
                self.row("EU-markup", quantity=2),  # billed
                self.row("EU-markup", quantity=2, cost="3.30"),  # same consumption
                self.row("EU-volume", quantity=5),  # closed subscription
                self.row("EU-unknown", quantity=4),  # error
            ]
        )
        batch.with_context(ppu_leave_errors=True).action_create_invoices()
        by_status = {
            line.close_status: line.cost_subtotal_company
            for line in batch.reconciliation_ids
        }
        self.assertEqual(
            by_status,
            {
                "billed": 32.0 + 6.4,
                "zero": 0.0,
                "duplicate": 6.6,
                "closed": 16.0,
                "error": 12.8,
            },
        )
        self.assertAlmostEqual(batch.close_cost_company, 73.8, places=2)
        self.assertAlmostEqual(batch.close_billed_cost_company, 38.4, places=2)
        self.assertAlmostEqual(batch.close_unbilled_cost_company, 35.4, places=2)
        # 10 x 4.50 and 2 x 3.68 (cost + 15 %)
        self.assertAlmostEqual(batch.close_billed_company, 52.36, places=2)
        self.assertAlmostEqual(batch.close_margin_company, 13.96, places=2)
        self.assertAlmostEqual(batch.close_result_company, 52.36 - 73.8, places=2)
        self.assertAlmostEqual(
            sum(batch.invoice_ids.mapped("amount_untaxed_signed")), 52.36, places=2
        )
        closed = batch.reconciliation_ids.filtered(
            lambda line: line.close_status == "closed"
        )
        rows = self.env["sophos.ppu.import.line"].search(
            closed.action_view_rows()["domain"]
        )
        self.assertEqual(rows, self.line_of(batch, "EU-volume"))

    def test_the_month_close_downloads_as_a_workbook_and_prints(self):
        from openpyxl import load_workbook

        from odoo.addons.sophos_ppu.core.billing import workbook_xlsx

        batch = self.import_rows(
            [self.row("EU-discount", quantity=10), self.row("EU-unknown", quantity=4)]
        )
        batch.with_context(ppu_leave_errors=True).action_create_invoices()
        workbook = load_workbook(io.BytesIO(workbook_xlsx(batch._ppu_close_tables())))
        self.assertEqual(
            workbook.sheetnames,
            [
                "Month close",
                "By currency and reason",
                "Invoices to resellers",
                "Sophos's bill",
                "Below cost",
                "Without consumption",
                "Unknown end customers",
            ],
        )
        figures = {
            row[0]: row[1]
            for row in workbook["Month close"].iter_rows(min_row=2, values_only=True)
        }
        self.assertEqual(figures["Sophos cost"], 44.8)
        self.assertEqual(figures["Margin"], 13.0)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("sophos_ppu.report_ppu_month_close", batch.ids)[0]
            .decode()
        )
        self.assertIn("Cost billed to nobody", html)
        self.assertIn("12.80", html)


@tagged("post_install", "-at_install")
class TestExceptions(MonthCloseCommon):
    def test_idle_subscriptions_and_unknown_end_customers_are_listed(self):
        self.subscriptions["norule"].state = "closed"
        # The subscriptions were opened today, in December.
        december = {"Start Date": "2026-12-01", "End Date": "2026-12-31"}
        rows = [
            self.row("EU-discount", quantity=10, **december),
            self.row(
                "EU-new", quantity=4, **december, **{"Partner Name": "Reseller markup"}
            ),
        ]
        batch = self.import_file(
            self.consumption_csv(rows, header=[*HEADER, "Partner Name"]),
            period_date=date(2026, 12, 1),
        )
        october = self.import_rows([self.row("EU-discount", quantity=10)])
        self.assertFalse(october.idle_subscription_ids, "none was open in October")
        self.assertEqual(
            batch.idle_subscription_ids,
            self.subscriptions["markup"]
            | self.subscriptions["eur"]
            | self.subscriptions["volume"]
            | self.subscriptions["rounded"],
        )
        unknown = self.line_of(batch, "EU-new")
        self.assertEqual(batch.unknown_line_ids, unknown)
        self.assertEqual(unknown.file_partner_name, "Reseller markup")


@tagged("post_install", "-at_install")
class TestMonthCloseAccess(MonthCloseCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ops = new_test_user(
            cls.env,
            login="ppu-close-ops",
            groups="sophos_ppu.group_ppu_operations",
            company_id=cls.company.id,
        )
        cls.portal = new_test_user(
            cls.env,
            login="ppu-close-portal",
            groups="base.group_portal",
            company_id=cls.company.id,
        )
        cls.portal.partner_id.parent_id = cls.resellers["discount"]
        cls.accountant = new_test_user(
            cls.env,
            login="ppu-close-accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
        )

    def setUp(self):
        super().setUp()
        self.batch = self.import_rows([self.row("EU-discount", quantity=10)])
        self.batch.action_create_invoices()
        self.batch.invoice_ids.action_post()

    def test_ops_read_margins_but_neither_change_them_nor_bill_sophos(self):
        line = self.batch.line_ids.with_user(self.ops)
        self.assertEqual(line.margin_company, 13.0)
        with self.assertRaises(AccessError):
            line.write({"margin_company": 99.0})
        with self.assertRaises(AccessError):
            self.batch.with_user(self.ops).action_create_vendor_bills()
        self.assertFalse(self.batch.vendor_bill_ids)
        # Once an accountant billed Sophos, ops read the month close too.
        self.batch.action_create_vendor_bills()
        [close] = self.batch.with_user(self.ops).read(
            ["close_margin_company", "vendor_bill_difference", "vendor_bill_comparison"]
        )
        self.assertEqual(close["close_margin_company"], 13.0)
        self.assertEqual(close["vendor_bill_difference"], 0.0)
        self.assertIn("CIXA-PPU", close["vendor_bill_comparison"])

    def test_accountants_bill_sophos_and_link_bills(self):
        batch = self.batch.with_user(self.accountant)
        self.assertEqual(batch.close_margin_company, 13.0)
        batch.action_create_vendor_bills()
        self.assertEqual(batch.vendor_bill_ids.amount_untaxed, 32.0)
        self.assertEqual(batch.vendor_bill_ids.create_uid, self.accountant)
        batch.vendor_bill_ids.button_cancel()
        entered = batch.vendor_bill_ids.copy({"invoice_date": date(2026, 11, 2)})
        self.env["sophos.ppu.vendor.bill.link"].with_user(self.accountant).with_context(
            default_import_id=batch.id
        ).create({"bill_ids": [Command.set(entered.ids)]}).action_link()
        self.assertIn(entered, batch.vendor_bill_ids)

    def test_portal_users_never_read_cost_or_margin_over_rpc(self):
        for model, fields in (
            ("sophos.ppu.import.line", ["cost_subtotal", "margin_company"]),
            ("sophos.ppu.reconciliation", ["cost_subtotal"]),
            ("sophos.ppu.import", ["close_margin_company"]),
        ):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.portal).search_read([], fields)
        self.authenticate(self.portal.login, self.portal.login)
        response = self.url_open(
            "/web/dataset/call_kw/sophos.ppu.import.line/search_read",
            data=(
                '{"jsonrpc": "2.0", "method": "call", "params": {"model": '
                '"sophos.ppu.import.line", "method": "search_read", "args": [[]], '
                '"kwargs": {"fields": ["margin_company", "cost_subtotal"]}}}'
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertIn("error", response.json())
        self.assertNotIn("result", response.json())

    def test_portal_users_never_download_the_month_close(self):
        self.authenticate(self.portal.login, self.portal.login)
        response = self.url_open(
            f"/sophos_ppu/import/{self.batch.id}/month-close.xlsx",
            allow_redirects=False,
        )
        self.assertNotEqual(response.status_code, 200)
        # Their own consumption page shows what they were billed, no cost.
        page = self.url_open("/my/ppu").text
        self.assertNotIn("3.20", page)
        self.assertNotIn("Margin", page)

    def test_accountants_download_the_month_close(self):
        self.authenticate(self.accountant.login, self.accountant.login)
        response = self.url_open(f"/sophos_ppu/import/{self.batch.id}/month-close.xlsx")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"PK"))


@tagged("post_install", "-at_install")
class TestTwoMonthsReconcile(MonthCloseCommon):
    """October billed; November corrects it after the EUR rate moved and a
    rule changed, with new consumption and a row nobody is billed for."""

    def test_two_months_with_corrections_reconcile_to_the_cent(self):
        october = self.billed_october(
            [
                self.row("EU-discount", quantity=10),  # 4.50 USD
                self.row("EU-eur", quantity=10),  # 9.00 EUR
                self.row("EU-volume", quantity=4),  # 4.75 USD
            ]
        )
        self.eur_rate("2026-11-01", 2.5)
        self.pricelist_discount.item_ids.percent_price = 20.0
        november_dates = {"Start Date": "2026-11-01", "End Date": "2026-11-30"}
        batch = self.november(
            [
                self.row("EU-discount", quantity=5, **november_dates),  # 4.00
                self.row("EU-eur", quantity=5, **november_dates),  # 11.25 EUR
                self.correction("EU-discount", -3),  # credits 4.50
                self.correction("EU-eur", -2),  # credits 9.00 EUR
                self.correction("EU-volume", -4),  # credits 4.75
                self.row("EU-unknown", quantity=2, **november_dates),
            ]
        )
        self.assertEqual(batch.error_count, 1)
        batch.with_context(ppu_leave_errors=True).action_create_invoices()
        billed_prices = {
            line.id: line.invoice_line_id.price_unit for line in october.line_ids
        }
        for line in batch.line_ids.filtered(lambda line: line.quantity < 0):
            with self.subTest(row=line.end_user_identifier):
                self.assertEqual(
                    line.price_unit, billed_prices[line.corrected_line_id.id]
                )
                self.assertEqual(
                    line.invoice_line_id.price_unit,
                    billed_prices[line.corrected_line_id.id],
                )
        by_currency = {
            (move.partner_id, move.currency_id): move.amount_untaxed_signed
            for move in batch.invoice_ids
        }
        self.assertAlmostEqual(
            by_currency[self.resellers["discount"], self.usd], 5 * 4.0 - 3 * 4.5
        )
        self.assertAlmostEqual(
            batch.invoice_ids.filtered(
                lambda move: move.currency_id == self.eur
            ).amount_untaxed_in_currency_signed,
            5 * 11.25 - 2 * 9.0,
        )
        self.assertAlmostEqual(
            by_currency[self.resellers["volume"], self.usd], -4 * 4.75
        )
        batch.action_create_vendor_bills()
        bill = batch.vendor_bill_ids
        # Sophos bills every row at 3.20: 5 + 5 - 3 - 2 - 4 + 2 = 3 units.
        self.assertAlmostEqual(bill.amount_untaxed, 3 * 3.2, places=2)
        self.assertAlmostEqual(batch.close_cost_company, 9.6, places=2)
        self.assertAlmostEqual(
            batch.close_cost_company,
            batch.close_billed_cost_company + batch.close_unbilled_cost_company,
            places=2,
        )
        self.assertAlmostEqual(
            batch.close_billed_company - batch.close_billed_cost_company,
            batch.close_margin_company,
            places=2,
        )
        self.assertAlmostEqual(
            batch.close_result_company,
            batch.close_margin_company - batch.close_unbilled_cost_company,
            places=2,
        )
        self.assertAlmostEqual(batch.close_unbilled_cost_company, 6.4, places=2)
        self.assertEqual(batch.vendor_bill_difference, 0.0)
