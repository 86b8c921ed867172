# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The demo story, loaded with the demo data (``demo/sophos_ppu_demo.xml``).

It runs the module's own flows, as people do, for the demo resellers:

1. each end customer of :data:`~..core.sample.DEMO_END_USERS` is ordered in
   the shop by its reseller's portal contact (one order per end customer,
   end customer recorded as the checkout form does, confirmed), which opens
   the subscriptions; Maple Street Bakery is ordered without its End User
   Identifier, learnt from the first file by name;
2. the month before last is imported from a Sophos-like workbook, invoiced
   and the invoices posted: the resellers see them in the portal; Sophos's
   bill is made from the file and posted: the month reconciles, and Granite
   Peak Engineering's ZTNA shows priced below cost;
3. last month's workbook is imported into a batch that ops check and invoice.

Months are relative to the day the demo is loaded, so that the demo looks
like the start of a month at the distributor whenever it is tried. The test
finds the two batches by their XML ids (``demo_import_posted``,
``demo_import_to_check``), not by month.
"""

from contextlib import contextmanager

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.sophos_ppu.core.sample import DEMO_END_USERS, sample_xlsx

#: End customers' contact persons, as resellers type them at checkout.
DEMO_CONTACTS = {
    "Blue Ridge Dental Group": ("Karen Mitchell", "it@blueridge-dental.example.com"),
    "Lakeside Law Partners LLP": ("Robert Hale", "rhale@lakeside-law.example.com"),
    "Maple Street Bakery": ("Lucy Nguyen", "lucy@maplestreet-bakery.example.com"),
    "Bäckerei Sonnenschein": ("Petra Sonnenschein", "info@sonnenschein.example.com"),
    "Kanzlei Hoffmann & Partner": ("Dr. Anna Hoffmann", "it@kanzlei-h.example.com"),
    "Seaview Hotels Group": ("Liam O'Connor", "itops@seaview-hotels.example.com"),
    "Granite Peak Engineering": ("Sophie Clarke", "admin@granitepeak.example.com"),
}
#: Ordered without its End User Identifier: the first file teaches it.
DEMO_WITHOUT_IDENTIFIER = "Maple Street Bakery"


class SophosPpuImport(models.Model):
    _inherit = "sophos.ppu.import"

    @api.model
    def _ppu_demo_load(self):
        """Build the demo story (see the module docstring); once."""
        if self.env.ref("sophos_ppu.demo_import_posted", raise_if_not_found=False):
            return
        today = fields.Date.context_today(self)
        with self._ppu_demo_without_pdf():
            self._ppu_demo_orders()
            posted = self._ppu_demo_import(today + relativedelta(months=-2, day=1))
            posted.action_create_invoices()
            posted.invoice_ids.action_post()
            posted.action_create_vendor_bills()
            posted.vendor_bill_ids.action_post()
            to_check = self._ppu_demo_import(today + relativedelta(months=-1, day=1))
        self.env["ir.model.data"]._update_xmlids(
            [
                {
                    "xml_id": f"sophos_ppu.{name}",
                    "record": batch,
                    "noupdate": True,
                }
                for name, batch in (
                    ("demo_import_posted", posted),
                    ("demo_import_to_check", to_check),
                )
            ]
        )

    @api.model
    def _ppu_demo_orders(self):
        """One confirmed shop order per demo end customer."""
        website = self.env["website"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )
        product = self.env.ref(
            "sophos_ppu.product_sophos_cybersecurity"
        ).product_variant_id
        Partner = self.env["res.partner"]
        orders = self.env["sale.order"]
        for end_user in DEMO_END_USERS:
            reseller = Partner.search(
                [("ref", "=", end_user.partner_id), ("is_company", "=", True)],
                limit=1,
            )
            contact = reseller.child_ids.filtered("user_ids")[:1] or reseller
            order = orders.create(
                {
                    "partner_id": contact.id,
                    "website_id": website.id,
                    "pricelist_id": reseller.property_product_pricelist.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": 1})
                    ],
                }
            )
            contact_name, email = DEMO_CONTACTS[end_user.name]
            country = self.env["res.country"].search(
                [("code", "=", end_user.country)], limit=1
            )
            values = {
                "company_name": end_user.name,
                "contact_name": contact_name,
                "email": email,
                "phone": "",
                "country_id": str(country.id),
                "end_user_identifier": ""
                if end_user.name == DEMO_WITHOUT_IDENTIFIER
                else end_user.identifier,
            }
            if errors := order._ppu_end_customer_errors(values):
                raise UserError("\n".join(errors.values()))
            order._ppu_set_end_customer(values)
            order.action_confirm()
            orders |= order
        return orders

    @api.model
    def _ppu_demo_import(self, period):
        """The batch of the demo end users' Sophos workbook for ``period``."""
        return self._ppu_import_file(
            sample_xlsx(DEMO_END_USERS, period),
            f"sophos_msp_flex_usage_{period:%Y-%m}.xlsx",
            period,
        )

    @contextmanager
    def _ppu_demo_without_pdf(self):
        """Send the demo's e-mails (order confirmations, statements) without
        their PDF. While the registry loads, wkhtmltopdf would fetch the
        report styles over HTTP from this very server, which is either not
        serving yet (an unstyled PDF) or waiting for this load to end (an
        install from Apps in a threaded server: wkhtmltopdf, and the install,
        would wait forever). The documents print normally afterwards."""
        templates = self.env["mail.template"].search(
            [
                ("model", "in", ["sale.order", "account.move"]),
                ("report_template_ids", "!=", False),
            ]
        )
        reports = {template: template.report_template_ids for template in templates}
        templates.report_template_ids = False
        try:
            yield
        finally:
            for template, template_reports in reports.items():
                template.report_template_ids = template_reports
