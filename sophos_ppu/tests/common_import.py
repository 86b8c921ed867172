# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared setup of the consumption-import tests.

On the shared base (``common.PpuBase``: the company with its chart of
accounts in USD, EUR at 2 EUR per USD, the PPU product taxed at the default
sale tax), resellers whose pricelists are:

=================  ========  ===============================================
reseller           currency  rule reaching Sophos CyberSecurity
=================  ========  ===============================================
reseller_discount  USD       Discount 10 % (on MSRP)
reseller_markup    USD       Markup 15 % on Cost
reseller_eur       EUR       Discount 10 % (on MSRP)
reseller_volume    USD       20 % off from 100 units, else 5 % off
reseller_rounded   USD       Formula 3 % off MSRP, rounded to 0.05, +0.10
reseller_norule    USD       a rule for another product only
=================  ========  ===============================================

each with one end customer and its subscription (End User Identifier
``EU-<reseller>``), for October 2026.
"""

import base64
import contextlib
import csv
import io
from datetime import date

from odoo import Command

from odoo.addons.queue_job.job import Job

from .common import PpuBase

HEADER = [
    "Start Date",
    "End Date",
    "End User Identifier",
    "End Customer Name",
    "Product Description",
    "SKU",
    "Total Quantity",
    "Unit MSRP",
    "Unit Price",
    "Currency",
]


class PpuImportCommon(PpuBase):
    PERIOD = date(2026, 10, 1)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_product = cls.product_a
        cls.ops_partner = cls.env["res.partner"].create(
            {"name": "PPU Ops", "email": "ops@distributor.example.com"}
        )
        cls.company.ppu_ops_partner_ids = cls.ops_partner

        template = cls.product.product_tmpl_id
        discount_10 = {
            "applied_on": "1_product",
            "product_tmpl_id": template.id,
            "compute_price": "percentage",
            "percent_price": 10.0,
        }
        cls.pricelist_discount = cls._pricelist("Resellers -10%", [discount_10])
        cls.pricelist_markup = cls._pricelist(
            "Resellers cost +15%",
            [
                {
                    "applied_on": "3_global",
                    "compute_price": "formula",
                    "base": "standard_price",
                    "price_markup": 15.0,
                }
            ],
        )
        cls.pricelist_eur = cls._pricelist(
            "Resellers EUR -10%", [discount_10], currency=cls.eur
        )
        cls.pricelist_volume = cls._pricelist(
            "Resellers volume",
            [
                dict(discount_10, percent_price=20.0, min_quantity=100),
                dict(discount_10, percent_price=5.0),
            ],
        )
        cls.pricelist_rounded = cls._pricelist(
            "Resellers rounded",
            [
                {
                    "applied_on": "1_product",
                    "product_tmpl_id": template.id,
                    "compute_price": "formula",
                    "base": "list_price",
                    "price_discount": 3.0,
                    "price_round": 0.05,
                    "price_surcharge": 0.10,
                }
            ],
        )
        cls.pricelist_norule = cls._pricelist(
            "Resellers other products",
            [
                {
                    "applied_on": "1_product",
                    "product_tmpl_id": cls.other_product.product_tmpl_id.id,
                    "compute_price": "percentage",
                    "percent_price": 10.0,
                }
            ],
        )
        cls.resellers = {}
        cls.subscriptions = {}
        for key, pricelist in (
            ("discount", cls.pricelist_discount),
            ("markup", cls.pricelist_markup),
            ("eur", cls.pricelist_eur),
            ("volume", cls.pricelist_volume),
            ("rounded", cls.pricelist_rounded),
            ("norule", cls.pricelist_norule),
        ):
            reseller = cls.env["res.partner"].create(
                {
                    "name": f"Reseller {key}",
                    "email": f"billing@reseller-{key}.example.com",
                    "is_company": True,
                    "property_payment_term_id": cls.pay_terms_b.id,
                }
            )
            cls.resellers[key] = reseller
            cls.subscriptions[key] = cls._subscription(
                reseller, f"Customer {key}", f"EU-{key}", pricelist
            )

    @classmethod
    def _pricelist(cls, name, items, currency=None):
        return cls.env["product.pricelist"].create(
            {
                "name": name,
                "currency_id": (currency or cls.usd).id,
                "company_id": cls.company.id,
                "item_ids": [Command.create(item) for item in items],
            }
        )

    @classmethod
    def _subscription(cls, reseller, customer_name, identifier, pricelist, **vals):
        customer = cls.env["res.partner"].create(
            {"name": customer_name, "parent_id": False, "is_company": True}
        )
        return cls.env["sophos.ppu.subscription"].create(
            {
                "partner_id": reseller.id,
                "end_customer_id": customer.id,
                "end_user_identifier": identifier,
                "product_id": cls.product.id,
                "pricelist_id": pricelist.id,
                "company_id": cls.company.id,
                **vals,
            }
        )

    # ------------------------------------------------------------------
    # Files
    # ------------------------------------------------------------------

    @classmethod
    def row(cls, identifier, quantity=1, msrp="5.00", cost="3.20", **values):
        """A consumption row (dict by header) for October 2026."""
        row = {
            "Start Date": "2026-10-01",
            "End Date": "2026-10-31",
            "End User Identifier": identifier,
            "End Customer Name": values.pop("customer", ""),
            "Product Description": values.pop(
                "description", "Sophos Intercept X Advanced"
            ),
            "SKU": values.pop("sku", "CIXA-PPU"),
            "Total Quantity": str(quantity),
            "Unit MSRP": str(msrp),
            "Unit Price": str(cost),
            "Currency": values.pop("currency", "USD"),
        }
        row.update(values)
        return row

    @classmethod
    def consumption_csv(cls, rows, header=None):
        """The bytes of a Sophos-like CSV consumption file."""
        header = header or HEADER
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8")

    @classmethod
    def consumption_xlsx(cls, rows, header=None):
        """The bytes of a Sophos-like .xlsx consumption file."""
        from openpyxl import Workbook

        header = header or HEADER
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(header)
        for row in rows:
            sheet.append([row.get(column, "") for column in header])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def import_file(self, data, filename="consumption.csv", partner=None, **vals):
        """Run the wizard; return the batch it opens."""
        wizard = self.env["sophos.ppu.import.wizard"].create(
            {
                "file": base64.b64encode(data),
                "filename": filename,
                "period_date": self.PERIOD,
                "partner_id": partner.id if partner else False,
                **vals,
            }
        )
        action = wizard.action_import()
        return self.env["sophos.ppu.import"].browse(action["res_id"])

    def import_rows(self, rows, **kwargs):
        return self.import_file(self.consumption_csv(rows), **kwargs)

    def invoice_two_end_customers(self, quantity):
        """Invoice the discount reseller for two end customers: its own
        ("Customer discount", ``quantity`` units) and "Aardvark Ltd" (2 units of
        "Intercept X Server"), which sorts first.

        :returns: (batch, Aardvark's subscription)
        """
        aardvark = self._subscription(
            self.resellers["discount"],
            "Aardvark Ltd",
            "EU-aard",
            self.pricelist_discount,
        )
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=quantity),
                self.row("EU-aard", quantity=2, description="Intercept X Server"),
            ]
        )
        batch.action_create_invoices()
        return batch, aardvark

    def line_of(self, batch, identifier):
        return batch.line_ids.filtered(
            lambda line: line.end_user_identifier == identifier
        )


class Killed(Exception):
    """A worker killed mid-job: its transaction is rolled back."""


def perform_queue_job(env, uuid):
    """Run one stored job as queue_job's controller does: loaded from the
    database (as the user who enqueued it), performed, marked done, the jobs
    that waited for it released."""
    job = Job.load(env, uuid)
    job.set_started()
    job.store()
    job.perform()
    job.set_done()
    job.store()
    env.flush_all()
    job.enqueue_waiting()
    env.invalidate_all()
    return job


def run_queue_jobs(env, count=None, fail=None):
    """Run the pending queue jobs one by one (all, or ``count`` of them), in
    this test's transaction. ``fail`` (a job -> bool) marks jobs to stop
    midway, as a killed worker would: rolled back, then found dead and run
    again. :returns: the number of jobs run."""
    Queue = env["queue.job"].sudo()
    for done in range(count or 500):
        record = Queue.search([("state", "=", "pending")], order="id", limit=1)
        if not record:
            return done
        if fail and fail(Job.load(env, record.uuid)):
            with contextlib.suppress(Killed), env.cr.savepoint():
                Job.load(env, record.uuid).perform()
                env.flush_all()
                raise Killed
            env.invalidate_all()
            # What the runner does with a job whose worker died.
            record.write({"state": "pending", "retry": record.retry + 1})
            continue
        perform_queue_job(env, record.uuid)
    if count:
        return count
    raise AssertionError("the queue jobs never end")
