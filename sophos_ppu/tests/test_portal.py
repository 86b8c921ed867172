# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Resellers see their PPU subscriptions and consumption in the portal, and
nothing of another reseller's."""

import csv
import html
import io
import re
from datetime import date, datetime
from urllib.parse import urlparse

from odoo import Command, http
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from .common_import import PpuImportCommon

NOVEMBER = date(2026, 11, 1)


def _text(markup):
    """The text of an HTML fragment, blanks collapsed (no-break spaces
    kept)."""
    text = html.unescape(re.sub(r"<[^>]+>", "", markup))
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


@tagged("post_install", "-at_install")
class TestPpuPortal(PpuImportCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.discount = cls.resellers["discount"]
        cls.markup = cls.resellers["markup"]
        cls.subscription = cls.subscriptions["discount"]
        cls.portal_user = cls._portal_user("ppu_portal", cls.discount)
        cls.other_portal_user = cls._portal_user("ppu_portal_other", cls.markup)

    @classmethod
    def _portal_user(cls, login, reseller):
        user = new_test_user(
            cls.env,
            login=login,
            groups="base.group_portal",
            name=f"{login} contact",
            email=f"{login}@example.com",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        user.partner_id.parent_id = reseller
        return user

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _bill(self, rows, period=None, post=True):
        batch = self.import_rows(rows, period_date=period or self.PERIOD)
        batch.action_create_invoices()
        self.assertTrue(batch.invoice_ids)
        if post:
            batch.invoice_ids.action_post()
        return batch

    def _november_row(self, identifier, **values):
        return self.row(
            identifier,
            **{"Start Date": "2026-11-01", "End Date": "2026-11-30"},
            **values,
        )

    def _invoice_of(self, batch, reseller):
        return batch.invoice_ids.filtered(lambda move: move.partner_id == reseller)

    def _get(self, url, user=None, **kwargs):
        user = user or self.portal_user
        self.authenticate(user.login, user.login)
        response = self.url_open(url, **kwargs)
        self.env.invalidate_all()  # the request wrote through its own env
        return response

    def _post_close_request(self, subscription, reason, user=None):
        user = user or self.portal_user
        self.authenticate(user.login, user.login)
        response = self.url_open(
            f"/my/ppu/{subscription.id}/close_request",
            data={"reason": reason, "csrf_token": http.Request.csrf_token(self)},
        )
        self.env.invalidate_all()  # the request wrote through its own env
        return response

    def _statement(self, month, extension, user=None):
        return self._get(f"/my/ppu/statement/{month}.{extension}", user=user)

    def _close_request_mails(self, subscription):
        return self.env["mail.mail"].search(
            [
                ("model", "=", subscription._name),
                ("res_id", "=", subscription.id),
                ("subject", "=like", "PPU close request:%"),
            ]
        )

    # ------------------------------------------------------------------
    # /my/ppu
    # ------------------------------------------------------------------

    def test_home_counts_own_subscriptions(self):
        self._subscription(
            self.discount, "Aardvark Ltd", "EU-aard", self.pricelist_discount
        )
        self.authenticate(self.portal_user.login, self.portal_user.login)
        home = self.url_open("/my")
        self.assertEqual(home.status_code, 200)
        self.assertIn('href="/my/ppu"', home.text)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["ppu_subscription_count"]}
        )
        self.assertEqual(counters, {"ppu_subscription_count": 2})

    def test_list_shows_own_subscriptions_with_last_billed_month(self):
        batch = self._bill(
            [
                self.row("EU-discount", quantity=10),
                self.row("EU-markup", quantity=7),
            ]
        )
        self._bill([self._november_row("EU-discount", quantity=3)], NOVEMBER, False)
        response = self._get("/my/ppu")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("Customer discount", page)
        self.assertIn("EU-discount", page)
        for foreign in ("Customer markup", "EU-markup", "Customer eur"):
            self.assertNotIn(foreign, page)
        row = self._list_row(page, self.subscription)
        # Last posted month only: November is a draft. 10 x 5.00 - 10 %.
        self.assertIn("October 2026", row)
        self.assertNotIn("November 2026", page)
        self.assertIn("45.00", row)
        self.assertIn('href="/my/ppu/statement/2026-10.xlsx"', page)
        self.assertIn('href="/my/ppu/statement/2026-10.csv"', page)
        self.assertNotIn("2026-11", page)
        # Neither the batch nor its file is ever named.
        self.assertNotIn(batch.name, page)
        self.assertNotIn("consumption.csv", page)

    def _list_row(self, page, subscription):
        match = re.search(
            rf'<tr[^>]*data-subscription_id="{subscription.id}".*?</tr>', page, re.S
        )
        self.assertTrue(match, f"no row for {subscription.name}")
        return match.group(0)

    def test_list_filters_and_sorts(self):
        aardvark = self._subscription(
            self.discount, "Aardvark Ltd", "EU-aard", self.pricelist_discount
        )
        aardvark.action_close()
        page = self._get("/my/ppu").text
        self.assertLess(page.index("Aardvark Ltd"), page.index("Customer discount"))
        active = self._get("/my/ppu?filterby=active").text
        self.assertIn("Customer discount", active)
        self.assertNotIn("Aardvark Ltd", active)
        closed = self._get("/my/ppu?filterby=closed").text
        self.assertIn("Aardvark Ltd", closed)
        self.assertNotIn("Customer discount", closed)
        by_state = self._get("/my/ppu?sortby=state").text
        self.assertLess(
            by_state.index("Customer discount"), by_state.index("Aardvark Ltd")
        )

    # ------------------------------------------------------------------
    # /my/ppu/<id>
    # ------------------------------------------------------------------

    def test_detail_shows_posted_months_with_invoice_link(self):
        october = self._bill([self.row("EU-discount", quantity=10)])
        self._bill([self._november_row("EU-discount", quantity=3)], NOVEMBER, False)
        invoice = self._invoice_of(october, self.discount)
        response = self._get(f"/my/ppu/{self.subscription.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn('data-month="2026-10"', page)
        self.assertIn("October 2026", page)
        self.assertNotIn('data-month="2026-11"', page)
        self.assertNotIn("November 2026", page)
        rows = re.findall(r'<tr class="ppu_consumption_row">.*?</tr>', page, re.S)
        self.assertEqual(len(rows), 1)
        self.assertIn("Sophos Intercept X Advanced", rows[0])
        self.assertIn("4.50", rows[0])
        self.assertIn("45.00", rows[0])
        self.assertIn(invoice.name, rows[0])
        self.assertTrue(invoice.access_token)
        self.assertIn(
            f'href="/my/invoices/{invoice.id}?access_token={invoice.access_token}"',
            rows[0],
        )
        self.assertIn('href="/my/ppu/statement/2026-10.xlsx"', page)
        # The end customer stands in for the contact without an order.
        self.assertIn("Customer discount", page)
        self.assertNotIn(october.name, page)
        # The distributor's cost (3.20) is never shown.
        self.assertNotIn("3.20", page)

    def test_detail_shows_the_contact_given_at_order_time(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.discount.id,
                "pricelist_id": self.pricelist_discount.id,
                "order_line": [Command.create({"product_id": self.product.id})],
                "ppu_contact_name": "Hank Scorpio",
                "ppu_contact_email": "hank@globex.example.com",
                "ppu_contact_phone": "+1 555 0199",
            }
        )
        self.subscription.sale_line_id = order.order_line
        page = self._get(f"/my/ppu/{self.subscription.id}").text
        contact = re.search(r'id="ppu_contact".*?</div>\s*</div>', page, re.S).group(0)
        for text in ("Hank Scorpio", "hank@globex.example.com", "+1 555 0199"):
            self.assertIn(text, contact)

    def test_detail_without_consumption(self):
        page = self._get(f"/my/ppu/{self.subscription.id}").text
        self.assertIn("No consumption has been invoiced", page)
        self.assertNotIn("ppu_consumption_row", page)

    # ------------------------------------------------------------------
    # Statement
    # ------------------------------------------------------------------

    def _bill_october_with_a_formula_customer(self):
        evil = self._subscription(
            self.discount,
            '=HYPERLINK("http://evil.example.com","x")',
            "EU-evil",
            self.pricelist_discount,
        )
        batch = self._bill(
            [
                self.row("EU-discount", quantity=10),
                self.row("EU-evil", quantity=2, description="Intercept X Server"),
                self.row("EU-markup", quantity=7),
            ]
        )
        return batch, evil

    def _expected_statement(self, invoice):
        return [
            [
                "2026-10",
                "Customer discount",
                "EU-discount",
                "Sophos Intercept X Advanced",
                "2026-10-01",
                "2026-10-31",
                "10",
                "4.5",
                "45",
                "USD",
                invoice.name,
            ],
            [
                "2026-10",
                """'=HYPERLINK("http://evil.example.com","x")""",
                "EU-evil",
                "Intercept X Server",
                "2026-10-01",
                "2026-10-31",
                "2",
                "4.5",
                "9",
                "USD",
                invoice.name,
            ],
        ]

    def test_statement_csv_has_own_rows_neutralised(self):
        batch, _evil = self._bill_october_with_a_formula_customer()
        invoice = self._invoice_of(batch, self.discount)
        response = self._statement("2026-10", "csv")
        self.assertEqual(response.status_code, 200)
        self.assertIn("text/csv", response.headers["Content-Type"])
        self.assertIn(
            "sophos-consumption-2026-10.csv", response.headers["Content-Disposition"]
        )
        text = response.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(
            rows[0],
            [
                "Month",
                "End Customer",
                "End User Identifier",
                "Service",
                "Start Date",
                "End Date",
                "Quantity",
                "Unit Price",
                "Subtotal",
                "Currency",
                "Invoice",
            ],
        )
        # Ordered by end customer: '=HYPERLINK…' sorts before 'Customer…'.
        self.assertEqual(sorted(rows[1:]), sorted(self._expected_statement(invoice)))
        self.assertNotIn("EU-markup", text)
        self.assertNotIn(batch.name, text)

    def test_statement_xlsx_has_own_rows_neutralised(self):
        from openpyxl import load_workbook

        batch, _evil = self._bill_october_with_a_formula_customer()
        invoice = self._invoice_of(batch, self.discount)
        response = self._statement("2026-10", "xlsx")
        self.assertEqual(response.status_code, 200)
        self.assertIn("spreadsheetml", response.headers["Content-Type"])
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        self.assertEqual(rows[0][:3], ["Month", "End Customer", "End User Identifier"])
        # The rows, then a blank row and the totals (see the formatting test).
        by_identifier = {row[2]: row for row in rows[1:3]}
        self.assertEqual(set(by_identifier), {"EU-discount", "EU-evil"})
        self.assertEqual(
            by_identifier["EU-discount"],
            [
                "2026-10",
                "Customer discount",
                "EU-discount",
                "Sophos Intercept X Advanced",
                datetime(2026, 10, 1),
                datetime(2026, 10, 31),
                10,
                4.5,
                45,
                "USD",
                invoice.name,
            ],
        )
        self.assertEqual(
            by_identifier["EU-evil"][1],
            """'=HYPERLINK("http://evil.example.com","x")""",
        )
        self.assertEqual(by_identifier["EU-evil"][8], 9)
        for cell in sheet.iter_rows():
            for value in cell:
                self.assertNotEqual(value.data_type, "f")

    def test_statement_of_a_month_without_posted_consumption_is_not_found(self):
        self._bill([self.row("EU-discount")])
        self._bill([self._november_row("EU-discount")], NOVEMBER, post=False)
        self.assertEqual(self._statement("2026-10", "csv").status_code, 200)
        for month, extension in (
            ("2026-11", "csv"),  # draft invoice only
            ("2026-09", "xlsx"),  # nothing billed
            ("2026-13", "csv"),
            ("2026-1", "csv"),
            ("2026-10", "pdf"),
        ):
            with self.subTest(month=month, extension=extension):
                self.assertEqual(self._statement(month, extension).status_code, 404)

    def test_statement_xlsx_is_a_finished_document(self):
        """Widths, a bold frozen header with a filter, dates and amounts in
        their currency, totals per end customer and overall, to the cent."""
        from openpyxl import load_workbook

        self._bill_october_with_a_formula_customer()
        sheet = load_workbook(
            io.BytesIO(self._statement("2026-10", "xlsx").content)
        ).active
        header = [cell.value for cell in sheet[1]]
        self.assertTrue(all(cell.font.bold for cell in sheet[1]))
        self.assertEqual(sheet.freeze_panes, "A2")
        self.assertEqual(sheet.auto_filter.ref, "A1:K3")
        for index, label in enumerate(header):
            letter = chr(ord("A") + index)
            with self.subTest(column=label):
                self.assertGreaterEqual(
                    sheet.column_dimensions[letter].width, len(label)
                )
        self.assertGreaterEqual(
            sheet.column_dimensions["D"].width, len("Sophos Intercept X Advanced")
        )
        col = {label: chr(ord("A") + index) for index, label in enumerate(header)}
        self.assertEqual(sheet[f"{col['Start Date']}2"].number_format, "yyyy-mm-dd")
        self.assertIn('"$"', sheet[f"{col['Unit Price']}2"].number_format)
        self.assertIn("0.00", sheet[f"{col['Unit Price']}2"].number_format)
        self.assertIn('"$"', sheet[f"{col['Subtotal']}2"].number_format)
        totals = [
            [cell.value for cell in row]
            for row in sheet.iter_rows(min_row=4)
            if any(cell.value is not None for cell in row)
        ]
        subtotal = header.index("Subtotal")
        customer = header.index("End Customer")
        self.assertEqual(
            [
                (row[0], row[customer], row[subtotal], row[subtotal + 1])
                for row in totals
            ],
            [
                (
                    "Total end customer",
                    """'=HYPERLINK("http://evil.example.com","x")""",
                    9,
                    "USD",
                ),
                ("Total end customer", "Customer discount", 45, "USD"),
                ("Total", None, 54, "USD"),
            ],
        )
        for row in sheet.iter_rows(min_row=5):
            self.assertTrue(row[0].font.bold)
            self.assertIn('"$"', row[subtotal].number_format)

    def _german_portal_user(self):
        self.env["res.lang"]._activate_lang("de_DE")
        german = self.env["res.lang"]._lang_get("de_DE")
        self.env["website"].search([]).language_ids |= german
        self.portal_user.lang = "de_DE"
        return german

    def test_statement_csv_of_a_german_reseller_uses_semicolons_and_decimal_commas(
        self,
    ):
        german = self._german_portal_user()
        self._bill([self.row("EU-discount", quantity=3)])
        response = self._get(f"/{german.url_code}/my/ppu/statement/2026-10.csv")
        self.assertEqual(response.status_code, 200)
        rows = list(
            csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
        )
        self.assertEqual(len(rows[0]), 11)
        # 3 x 4.50 = 13.50
        self.assertEqual(rows[1][6:10], ["3", "4,5", "13,5", "USD"])
        page = self._get(f"/{german.url_code}/my/ppu").text
        self.assertIn('data-csv_separator=";"', page)

    def test_statement_csv_convention_is_stated_on_the_portal(self):
        self._bill([self.row("EU-discount", quantity=3)])
        page = self._get("/my/ppu").text
        self.assertIn('data-csv_separator=","', page)
        self.assertIn("separate columns with a comma (,)", page)
        detail = self._get(f"/my/ppu/{self.subscription.id}").text
        self.assertIn('data-csv_separator=","', detail)
        text = self._statement("2026-10", "csv").content.decode("utf-8-sig")
        self.assertEqual(
            list(csv.reader(io.StringIO(text)))[1][6:9], ["3", "4.5", "13.5"]
        )

    # ------------------------------------------------------------------
    # One end customer's statement
    # ------------------------------------------------------------------

    def _bill_two_services_of_one_end_customer(self):
        """October: Customer discount has two services (10 x 4.50 and 2 x
        4.50), Aardvark Ltd of the same reseller one, the markup reseller
        its own."""
        aardvark = self._subscription(
            self.discount, "Aardvark Ltd", "EU-aard", self.pricelist_discount
        )
        batch = self._bill(
            [
                self.row("EU-discount", quantity=10),
                self.row(
                    "EU-discount",
                    quantity=2,
                    description="Sophos XDR",
                    sku="XDR-PPU",
                ),
                self.row("EU-aard", quantity=1),
                self.row("EU-markup", quantity=7),
            ]
        )
        return batch, aardvark

    def _end_customer_statement(self, extension, subscription=None, user=None):
        subscription = subscription or self.subscription
        return self._get(
            f"/my/ppu/{subscription.id}/statement/2026-10.{extension}", user=user
        )

    def test_end_customer_xlsx_has_its_services_at_the_resellers_price(self):
        from openpyxl import load_workbook

        batch, _aardvark = self._bill_two_services_of_one_end_customer()
        response = self._end_customer_statement("xlsx")
        self.assertEqual(response.status_code, 200)
        self.assertIn(
            "sophos-consumption-2026-10-Customer-discount.xlsx",
            response.headers["Content-Disposition"],
        )
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        self.assertEqual(
            rows[0],
            [
                "Service",
                "SKU",
                "Start Date",
                "End Date",
                "Quantity",
                "Unit Price",
                "Subtotal",
                "Currency",
            ],
        )
        self.assertEqual(
            sorted(row[:2] + row[4:] for row in rows[1:3]),
            [
                ["Sophos Intercept X Advanced", "CIXA-PPU", 10, 4.5, 45, "USD"],
                ["Sophos XDR", "XDR-PPU", 2, 4.5, 9, "USD"],
            ],
        )
        self.assertEqual(rows[3], [None] * 8)
        self.assertEqual(rows[4], ["Total", None, None, None, None, None, 54, "USD"])
        self.assertEqual(len(rows), 5)
        self.assertTrue(sheet["A1"].font.bold)
        self.assertEqual(sheet.freeze_panes, "A2")
        self.assertEqual(sheet.auto_filter.ref, "A1:H3")
        self.assertIn('"$"', sheet["G2"].number_format)
        # Never the distributor's cost (3.20), the MSRP (5.00), other end
        # customers, the batch or the file's row.
        values = {cell for row in rows for cell in row}
        for hidden in (3.2, 5, "Aardvark Ltd", "EU-markup", batch.name):
            self.assertNotIn(hidden, values)

    def test_end_customer_pdf_has_its_services_at_the_resellers_price(self):
        batch, _aardvark = self._bill_two_services_of_one_end_customer()
        response = self._end_customer_statement("pdf")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertIn(
            "sophos-consumption-2026-10-Customer-discount.pdf",
            response.headers["Content-Disposition"],
        )
        # Tests render reports as HTML (no wkhtmltopdf run): read it.
        html = response.content.decode()
        lines = re.findall(r'<tr class="ppu_statement_line">.*?</tr>', html, re.S)
        self.assertEqual(len(lines), 2)
        text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
        for expected in (
            "Customer discount",
            "October 2026",
            "Reseller discount",
            "Sophos Intercept X Advanced",
            "CIXA-PPU",
            "Sophos XDR",
            "XDR-PPU",
            "4.50",
            "45.00",
            "9.00",
            "54.00",
        ):
            self.assertIn(expected, text)
        tokens = text.split()
        for hidden in ("3.20", "5.00"):  # the cost and the MSRP
            self.assertNotIn(hidden, tokens)
        for hidden in ("Aardvark Ltd", "EU-markup", batch.name):
            self.assertNotIn(hidden, text)

    def test_end_customer_report_renders_as_a_pdf(self):
        """Outside tests the route answers what wkhtmltopdf prints."""
        statement = {
            "reseller": "Reseller discount",
            "end_customer": "Customer discount",
            "month": "October 2026",
            "lines": [
                dict.fromkeys(
                    (
                        "service",
                        "sku",
                        "start_date",
                        "end_date",
                        "quantity",
                        "price_unit",
                        "subtotal",
                    ),
                    "x",
                )
            ],
            "totals": ["$ 1.00"],
        }
        pdf, report_type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(
                "sophos_ppu.action_report_ppu_end_customer_statement",
                res_ids=self.subscription.ids,
                data={"statement": statement},
            )
        )
        self.assertEqual(report_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))

    def test_end_customer_statement_is_linked_from_the_subscription(self):
        self._bill([self.row("EU-discount", quantity=10)])
        page = self._get(f"/my/ppu/{self.subscription.id}").text
        for extension in ("xlsx", "pdf"):
            self.assertIn(
                f'href="/my/ppu/{self.subscription.id}/statement/2026-10.{extension}"',
                page,
            )

    def test_end_customer_statement_of_another_reseller_is_not_found(self):
        self._bill_two_services_of_one_end_customer()
        for extension in ("xlsx", "pdf"):
            with self.subTest(extension=extension):
                response = self._end_customer_statement(
                    extension, user=self.other_portal_user
                )
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("Customer discount", response.text)
        for url in (
            f"/my/ppu/{self.subscription.id}/statement/2026-09.xlsx",
            f"/my/ppu/{self.subscription.id}/statement/2026-10.csv",
            f"/my/ppu/{self.subscription.id}/statement/2026-13.pdf",
        ):
            with self.subTest(url=url):
                self.assertEqual(self._get(url).status_code, 404)

    def test_statement_mail_links_each_end_customers_statement(self):
        batch, aardvark = self._bill_two_services_of_one_end_customer()
        invoice = self._invoice_of(batch, self.discount)
        template = self.env.ref("sophos_ppu.mail_template_ppu_invoice_reseller")
        body = template._render_field("body_html", invoice.ids)[invoice.id]
        base = invoice.get_base_url()
        for subscription in (self.subscription, aardvark):
            for extension in ("xlsx", "pdf"):
                self.assertIn(
                    f"{base}/my/ppu/{subscription.id}/statement/2026-10.{extension}",
                    body,
                )

    # ------------------------------------------------------------------
    # Month over month, search
    # ------------------------------------------------------------------

    def test_month_over_month_shows_each_end_customers_last_months(self):
        aardvark = self._subscription(
            self.discount, "Aardvark Ltd", "EU-aard", self.pricelist_discount
        )
        # October: 10 x 4.50 = 45.00; November: 3 x 4.50 = 13.50 (-70.0 %).
        self._bill(
            [self.row("EU-discount", quantity=10), self.row("EU-markup", quantity=7)]
        )
        self._bill(
            [
                self._november_row("EU-discount", quantity=3),
                self._november_row("EU-aard", quantity=1),
            ],
            NOVEMBER,
        )
        page = self._get("/my/ppu").text
        section = re.search(
            r'<section id="ppu_month_over_month".*?</section>', page, re.S
        ).group(0)
        headers = re.findall(r"<th[^>]*>([^<]*)</th>", section)
        self.assertEqual(
            headers,
            [
                "End Customer",
                "September 2026",
                "October 2026",
                "November 2026",
                "Change",
            ],
        )

        def line(name):
            row = re.search(
                rf'<tr class="ppu_mom_line" data-end_customer="{name}">.*?</tr>',
                section,
                re.S,
            ).group(0)
            cells = re.findall(r'class="text-end ppu_mom_amount">(.*?)</td>', row, re.S)
            amounts = [_text(cell) for cell in cells]
            change = re.search(r'ppu_mom_change[^"]*">(.*?)</td>', row, re.S).group(1)
            return amounts, _text(change)

        self.assertEqual(
            line("Customer discount"),
            (["$\xa00.00", "$\xa045.00", "$\xa013.50"], "-70.0\xa0%"),
        )
        self.assertEqual(
            line("Aardvark Ltd"), (["$\xa00.00", "$\xa00.00", "$\xa04.50"], "—")
        )
        self.assertNotIn("Customer markup", section)
        self.assertIn(aardvark.end_customer_id.name, section)
        # The same on phones, in cards.
        self.assertIn('class="d-md-none ppu_mom_cards"', section)
        self.assertIn("d-none d-md-table ppu_mom_table", section)

    def test_search_filters_the_list(self):
        self._subscription(
            self.discount, "Aardvark Ltd", "EU-aard", self.pricelist_discount
        )
        for query, shown, hidden in (
            ("search=aard&search_in=end_customer", "Aardvark Ltd", "Customer discount"),
            (
                "search=eu-disc&search_in=end_user_identifier",
                "Customer discount",
                "Aardvark Ltd",
            ),
            ("search=EU-aard&search_in=end_customer", None, "Aardvark Ltd"),
            ("search=DISCOUNT", "Customer discount", "Aardvark Ltd"),
        ):
            with self.subTest(query=query):
                page = self._get(f"/my/ppu?{query}").text
                if shown:
                    self.assertIn(shown, page)
                else:
                    self.assertIn("No pay-per-use subscription matches", page)
                self.assertNotIn(hidden, page)
        page = self._get("/my/ppu?search=aard").text
        self.assertIn('name="search"', page)
        self.assertIn('value="aard"', page)

    # ------------------------------------------------------------------
    # Close request
    # ------------------------------------------------------------------

    def test_close_request_mails_ops_and_shows_the_date(self):
        page = self._get(f"/my/ppu/{self.subscription.id}").text
        self.assertIn('id="ppu_close_request_form"', page)
        response = self._post_close_request(
            self.subscription, "  The customer moved\nto another MSP.\x07 "
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(urlparse(response.url).path, f"/my/ppu/{self.subscription.id}")
        self.assertRecordValues(
            self.subscription,
            [
                {
                    "state": "active",
                    "close_request_reason": "The customer moved\nto another MSP.",
                    "close_requested_by_id": self.portal_user.partner_id.id,
                }
            ],
        )
        self.assertTrue(self.subscription.close_requested_date)

        mail = self._close_request_mails(self.subscription)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.ops_partner)
        self.assertEqual(
            mail.subject, "PPU close request: Reseller discount for Customer discount"
        )
        self.assertIn("The customer moved", mail.body_html)

        note = self.subscription.message_ids.filtered(
            lambda message: "asked from the portal to close" in (message.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, self.portal_user.partner_id)
        self.assertIn("to another MSP.", note.body)
        self.assertTrue(note.subtype_id.internal)

        page = response.text
        self.assertIn("Close requested on", page)
        self.assertNotIn('id="ppu_close_request_form"', page)

        # Asked once until ops answer: no second e-mail.
        self._post_close_request(self.subscription, "Again")
        self.assertEqual(len(self._close_request_mails(self.subscription)), 1)
        self.assertEqual(
            self.subscription.close_request_reason,
            "The customer moved\nto another MSP.",
        )

    def test_close_request_needs_a_reason(self):
        response = self._post_close_request(self.subscription, " \n ")
        self.assertEqual(response.status_code, 200)
        self.assertIn("close_error=missing", response.url)
        self.assertFalse(self.subscription.close_requested_date)
        self.assertFalse(self._close_request_mails(self.subscription))

    def test_close_request_needs_the_csrf_token(self):
        self.authenticate(self.portal_user.login, self.portal_user.login)
        with self.assertLogs("odoo.http", "WARNING") as logs:
            response = self.url_open(
                f"/my/ppu/{self.subscription.id}/close_request",
                data={"reason": "No token"},
            )
        self.assertIn("No CSRF validation token", logs.output[0])
        self.env.invalidate_all()
        self.assertNotEqual(response.status_code, 200)
        self.assertFalse(self.subscription.close_requested_date)

    def test_closed_subscription_cannot_be_asked_to_close(self):
        self.subscription.action_close()
        self.assertNotIn(
            'id="ppu_close_request_form"',
            self._get(f"/my/ppu/{self.subscription.id}").text,
        )
        self._post_close_request(self.subscription, "Please")
        self.assertFalse(self.subscription.close_requested_date)

    def test_ops_close_or_dismiss_the_request(self):
        requester = self.portal_user.partner_id
        self.subscription._ppu_request_close("Moved", requester)
        self.assertIn(
            self.subscription,
            self.env["sophos.ppu.subscription"].search(
                [("close_requested_date", "!=", False), ("state", "=", "active")]
            ),
        )
        self.subscription.action_dismiss_close_request()
        self.assertFalse(self.subscription.close_requested_date)
        self.assertFalse(self.subscription.close_request_reason)

        self.subscription._ppu_request_close("Moved again", requester)
        self.subscription.action_close()
        self.assertEqual(self.subscription.state, "closed")
        self.subscription.action_reopen()
        self.assertFalse(self.subscription.close_requested_date)

    # ------------------------------------------------------------------
    # Isolation
    # ------------------------------------------------------------------

    def test_other_reseller_cannot_reach_a_foreign_subscription(self):
        self._bill([self.row("EU-discount", quantity=10)])
        foreign = self.subscription
        for url in (
            f"/my/ppu/{foreign.id}",
            f"/my/ppu/{foreign.id + 100000}",
            "/my/ppu/statement/2026-10.csv",
            "/my/ppu/statement/2026-10.xlsx",
        ):
            with self.subTest(url=url):
                response = self._get(url, user=self.other_portal_user)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("EU-discount", response.text)
                self.assertNotIn("Customer discount", response.text)
        response = self._post_close_request(
            foreign, "Not mine", user=self.other_portal_user
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(foreign.close_requested_date)
        self.assertFalse(self._close_request_mails(foreign))
        listing = self._get("/my/ppu", user=self.other_portal_user).text
        self.assertIn("Customer markup", listing)
        self.assertNotIn("Customer discount", listing)
        self.assertNotIn("/my/ppu/statement/2026-10", listing)

    def test_statement_holds_only_the_users_reseller_rows(self):
        self._bill(
            [self.row("EU-discount", quantity=10), self.row("EU-markup", quantity=7)]
        )
        text = self._statement(
            "2026-10", "csv", user=self.other_portal_user
        ).content.decode("utf-8-sig")
        self.assertIn("EU-markup", text)
        self.assertNotIn("EU-discount", text)

    def test_portal_user_has_no_access_to_consumption_rows(self):
        rows = self.env["sophos.ppu.import.line"].with_user(self.portal_user)
        self.assertFalse(rows.has_access("read"))
        self.assertFalse(
            self.env["sophos.ppu.import"].with_user(self.portal_user).has_access("read")
        )

    def test_portal_user_reads_nothing_of_the_import_through_invoice_lines(self):
        batch = self._bill([self.row("EU-discount", quantity=10)])
        own_lines = batch.invoice_ids.invoice_line_ids.with_user(self.portal_user)
        self.assertTrue(own_lines.has_access("read"), "their own invoice lines")
        self.authenticate(self.portal_user.login, self.portal_user.login)
        for method, kwargs in (
            ("search_read", {"domain": [], "fields": ["ppu_import_line_id"]}),
            (
                "read_group",
                {
                    "domain": [],
                    "fields": ["balance:sum"],
                    "groupby": ["ppu_import_line_id"],
                },
            ),
        ):
            with (
                self.subTest(method=method),
                self.assertRaises(JsonRpcException) as refused,
            ):
                self.make_jsonrpc_request(
                    f"/web/dataset/call_kw/account.move.line/{method}",
                    {
                        "model": "account.move.line",
                        "method": method,
                        "args": [],
                        "kwargs": kwargs,
                    },
                )
            self.assertEqual(str(refused.exception), "odoo.exceptions.AccessError")

    # ------------------------------------------------------------------
    # Browser
    # ------------------------------------------------------------------

    def test_portal_tour(self):
        self._bill([self.row("EU-discount", quantity=10)])
        self.start_tour("/my", "sophos_ppu_portal_tour", login=self.portal_user.login)

    def test_portal_phone_tour(self):
        """At 390 px the lists are cards: nothing is cut."""
        self._bill([self.row("EU-discount", quantity=10)])
        self.browser_size = "390x844"
        self.touch_enabled = True
        self.start_tour(
            "/my/ppu", "sophos_ppu_portal_phone_tour", login=self.portal_user.login
        )
