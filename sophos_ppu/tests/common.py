# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The shared setup of the addon's Odoo tests.

``PpuBase`` is the distributor, set up once for every test:

- a company with a chart of accounts, in USD (Odoo's accounting test base,
  whose user works in that company), the user in PPU / Operations;
- EUR at 2 EUR per USD from 1 January 2026: the one exchange rate of the
  tests, for orders, consumption files and invoices alike;
- the web shop (the website) selling for that company;
- the PPU service, taxed at the company's default sale tax and booked to its
  default revenue account.

Two setups build on it: ``PpuCommon`` below (the web shop: a reseller with a
portal login, an end customer, reseller pricelists) and ``PpuImportCommon``
in ``common_import.py`` (the consumption imports: resellers with their
subscriptions, consumption files).
"""

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class PpuBase(AccountTestInvoicingCommon):
    """The distributor's company, its currencies and rate, shop and service."""

    EUR_PER_USD = 2.0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id |= cls.env.ref("sophos_ppu.group_ppu_operations")
        cls.company = cls.env.company
        cls.usd = cls.company.currency_id
        cls.eur = cls.setup_other_currency(
            "EUR", rates=[("2026-01-01", cls.EUR_PER_USD)]
        )
        # The shop sells for the company: its pricelists, rate and recipients.
        cls.website = cls.env["website"].get_current_website()
        cls.website.company_id = cls.company
        cls.product = cls.env.ref(
            "sophos_ppu.product_sophos_cybersecurity"
        ).product_variant_id
        cls.product.write(
            {
                "taxes_id": [Command.set(cls.tax_sale_a.ids)],
                "property_account_income_id": cls.company_data[
                    "default_account_revenue"
                ].id,
            }
        )


class PpuCommon(PpuBase):
    """A reseller with a portal login, an end customer, the PPU service and
    three reseller pricelists in two currencies (discount, markup on cost,
    surcharge with a minimum margin) all reaching the PPU service."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Non-zero product prices: a 0 on the order must come from the PPU rule,
        # not from an empty Sales Price.
        cls.product.write({"list_price": 100.0, "standard_price": 60.0})
        cls.normal_product = cls.env["product.product"].create(
            {
                "name": "Firewall appliance",
                "type": "consu",
                "list_price": 100.0,
                "standard_price": 60.0,
                "default_code": "FW-1",
            }
        )

        cls.pricelist_discount = cls._create_pricelist(
            "Resellers USD -10%",
            cls.usd,
            {"compute_price": "percentage", "percent_price": 10.0},
        )
        cls.pricelist_markup = cls._create_pricelist(
            "Resellers EUR cost +15%",
            cls.eur,
            {
                "compute_price": "formula",
                "base": "standard_price",
                "price_markup": 15.0,
            },
        )
        cls.pricelist_surcharge = cls._create_pricelist(
            "Resellers EUR MSRP +5",
            cls.eur,
            {
                "compute_price": "formula",
                "base": "list_price",
                "price_discount": 0.0,
                "price_surcharge": 5.0,
                "price_min_margin": 20.0,
                "price_max_margin": 50.0,
            },
        )

        cls.reseller = cls.env["res.partner"].create(
            {
                "name": "Acme IT Services",
                "is_company": True,
                "ref": "RES-042",
                "email": "sales@acme-it.example.com",
                "phone": "+32 2 555 01 00",
                "street": "Rue de la Loi 42",
                "city": "Brussels",
                "zip": "1000",
                "country_id": cls.env.ref("base.be").id,
                "property_product_pricelist": cls.pricelist_discount.id,
            }
        )
        cls.reseller_user = new_test_user(
            cls.env,
            login="reseller",
            password="reseller",
            groups="base.group_portal",
            name="Jane Reseller",
            email="jane@acme-it.example.com",
        )
        cls.reseller_user.partner_id.write(
            {
                "parent_id": cls.reseller.id,
                "phone": "+32 2 555 01 01",
                "street": "Rue de la Loi 42",
                "city": "Brussels",
                "zip": "1000",
                "country_id": cls.env.ref("base.be").id,
            }
        )
        cls.reseller_contact = cls.reseller_user.partner_id

        cls.end_customer = cls.env["res.partner"].create(
            {"name": "Globex Corporation", "is_company": True}
        )
        cls.ops = cls.env["res.partner"].create(
            [
                {"name": "Ops Desk", "email": "ops@distributor.example.com"},
                {"name": "Ops Lead", "email": "lead@distributor.example.com"},
            ]
        )
        cls.company.ppu_ops_partner_ids = cls.ops

    @classmethod
    def _create_pricelist(cls, name, currency, rule):
        return cls.env["product.pricelist"].create(
            {
                "name": name,
                "currency_id": currency.id,
                "company_id": cls.company.id,
                "item_ids": [Command.create({"applied_on": "3_global", **rule})],
            }
        )

    @classmethod
    def _create_order(cls, products=None, pricelist=None, end_customer=True):
        products = cls.product if products is None else products
        order = cls.env["sale.order"].create(
            {
                "partner_id": cls.reseller_contact.id,
                "pricelist_id": (pricelist or cls.pricelist_discount).id,
                "order_line": [
                    Command.create({"product_id": product.id}) for product in products
                ],
            }
        )
        if end_customer:
            order.write(cls._end_customer_values())
        return order

    def _values(self, **overrides):
        """What a reseller types in the end-customer checkout form."""
        return {
            "company_name": "Initech",
            "contact_name": "Bill Lumbergh",
            "email": "bill@initech.example.com",
            "phone": "",
            "country_id": str(self.env.ref("base.us").id),
            "end_user_identifier": "",
            **overrides,
        }

    @classmethod
    def _end_customer_values(cls):
        return {
            "ppu_end_customer_id": cls.end_customer.id,
            "ppu_contact_name": "Hank Scorpio",
            "ppu_contact_email": "hank@globex.example.com",
            "ppu_contact_phone": "+1 555 0199",
            "ppu_country_id": cls.env.ref("base.us").id,
            "ppu_end_user_identifier": "8f3c2a10-globex",
        }
