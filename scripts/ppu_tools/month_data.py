"""A month of the benchmarks: resellers with their pricelists, end customers
with their subscriptions, and the Sophos .xlsx of their consumption.

About 500 resellers (pricelists: discount, markup, EUR), 20 end customers
each with their subscription, a file of 10 services per end customer; the
same data for ``benchmark_import.py``, ``benchmark_post.py`` and
``production_check.py``."""

import random
import time
from datetime import date

from ppu_tools.sophos_file import table

#: The benchmarks' database, shared by their kept directories.
DB_NAME = "ppu_bench"
PERIOD = date(2026, 10, 1)
SERVICES = [
    ("Sophos Intercept X Advanced for Server with XDR", "SVRXDR-PPU", "9.50", "6.17"),
    ("Sophos Intercept X Advanced with XDR", "CIXAXDR-PPU", "4.20", "2.73"),
    ("Sophos Intercept X Advanced", "CIXA-PPU", "3.10", "2.02"),
    ("Sophos Email Advanced", "EMAILADV-PPU", "2.40", "1.56"),
    ("Sophos Mobile Advanced", "MOBADV-PPU", "1.80", "1.17"),
    ("Sophos ZTNA", "ZTNA-PPU", "2.90", "1.89"),
    ("Sophos Cloud Optix", "OPTIX-PPU", "5.00", "3.25"),
    ("Sophos MDR Complete", "MDRC-PPU", "11.00", "7.15"),
    ("Sophos Phish Threat", "PHISH-PPU", "1.20", "0.78"),
    ("Sophos Firewall Management", "FWM-PPU", "0.75", "0.49"),
]
#: The pricelists' rules, in turn: 10 % off, cost + 15 %, 20 % off from 100.
RULES = [
    {"compute_price": "percentage", "percent_price": 10.0},
    {"compute_price": "formula", "base": "standard_price", "price_markup": 15.0},
    {"compute_price": "percentage", "percent_price": 20.0, "min_quantity": 100},
]


def identifier(reseller, customer):
    return f"{reseller:04x}{customer:04x}-4a1c-9e0b-sophos-eu"


def setup_data(env, resellers, customers):
    """Resellers with their pricelists, end customers and subscriptions."""
    product = setup_accounting(env)
    pricelists = make_pricelists(env, product.product_tmpl_id, resellers)
    partners = env["res.partner"].create(
        [
            {
                "name": f"Reseller {r:03d}",
                "is_company": True,
                "email": f"r{r}@x.example",
            }
            for r in range(resellers)
        ]
    )
    end_customers = env["res.partner"].create(
        [
            {"name": f"End Customer {r:03d}-{c:02d}", "is_company": True}
            for r in range(resellers)
            for c in range(customers)
        ]
    )
    env["sophos.ppu.subscription"].create(
        [
            {
                "partner_id": partners[r].id,
                "end_customer_id": end_customers[r * customers + c].id,
                # one in 20 is matched by name (identifier learnt on import)
                "end_user_identifier": False if c == 7 else identifier(r, c),
                "product_id": product.id,
                "pricelist_id": pricelists[r].id,
                "company_id": env.company.id,
            }
            for r in range(resellers)
            for c in range(customers)
        ]
    )


def setup_accounting(env):
    """A chart of accounts, a rate for EUR, a sales tax on the service;
    return the service's product."""
    company = env.company
    if not env["account.journal"].search_count(
        [("company_id", "=", company.id), ("type", "=", "sale")]
    ):
        env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
    eur = env.ref("base.EUR")
    eur.active = True
    env["res.currency.rate"].create(
        {"name": "2026-01-01", "rate": 0.92, "currency_id": eur.id}
    )
    product = env.ref("sophos_ppu.product_sophos_cybersecurity").product_variant_id
    product.taxes_id = env["account.tax"].search(
        [("company_id", "=", company.id), ("type_tax_use", "=", "sale")], limit=1
    )
    return product


def make_pricelists(env, template, resellers):
    """A pricelist per reseller: its rule of RULES for the service, 10 % off
    as a fallback; one in ten in EUR."""
    from odoo import Command

    company = env.company
    eur = env.ref("base.EUR")

    def item(rule):
        return Command.create(
            dict(rule, applied_on="1_product", product_tmpl_id=template.id)
        )

    return env["product.pricelist"].create(
        [
            {
                "name": f"Reseller pricelist {index}",
                "company_id": company.id,
                "currency_id": (eur if index % 10 == 0 else company.currency_id).id,
                "item_ids": [item(RULES[index % 3]), item(RULES[0])],
            }
            for index in range(resellers)
        ]
    )


def consumption_rows(rows, resellers, customers):
    """``rows`` rows of the month, as dicts keyed by Sophos's columns: each
    end customer's services in turn, then again with other SKUs."""
    rng = random.Random(42)
    count = 0
    while count < rows:
        for r in range(resellers):
            for c in range(customers):
                for description, sku, msrp, cost in SERVICES:
                    if count >= rows:
                        return
                    again = count // (resellers * customers * 10)
                    yield {
                        "Partner Name": f"Reseller {r:03d}",
                        "Start Date": "2026-10-01",
                        "End Date": "2026-10-31",
                        "Customer Name": f"End Customer {r:03d}-{c:02d}",
                        "End User Identifier": identifier(r, c),
                        "Product Description": description,
                        "SKU": f"{sku}-{again}" if again else sku,
                        "Total Quantity": rng.choice(
                            [0, 1, 2, 3, 5, 8, 12, 25, 40, 120, 250]
                        ),
                        "Unit MSRP": float(msrp),
                        "Unit Price": float(cost),
                        "Currency": "USD",
                    }
                    count += 1


def prepare_month(env, args, directory, reset):
    """The month of ``args`` in ``env``'s database (a kept database keeps
    its data, ``reset(env)`` drops its last run) and its file in
    ``directory``, written unless there; say what the setup made. Return
    the file."""
    started = time.perf_counter()
    subscriptions = env["sophos.ppu.subscription"].search_count([])
    if subscriptions:
        reset(env)
        if subscriptions != args.resellers * args.customers:
            print(
                f"note: the kept database has {subscriptions} subscriptions, "
                f"not {args.resellers} x {args.customers}",
                flush=True,
            )
    else:
        setup_data(env, args.resellers, args.customers)
    env.cr.commit()
    env.cr.execute("ANALYZE")  # fresh statistics, as autovacuum would have
    path = directory / f"consumption-{args.rows}-{args.resellers}x{args.customers}.xlsx"
    if not path.exists():
        write_file(path, args.rows, args.resellers, args.customers)
    print(
        f"setup: {args.resellers} resellers, {args.resellers * args.customers} "
        f"subscriptions, file of {args.rows} rows "
        f"({path.stat().st_size / 1e6:.1f} MB) in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return path


def write_file(path, rows, resellers, customers):
    """A Sophos-like .xlsx: title rows, the header, ``rows`` rows."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Usage")
    sheet.append(["Sophos MSP Flex - monthly usage report"])
    sheet.append([])
    for values in table(consumption_rows(rows, resellers, customers)):
        sheet.append(values)
    workbook.save(path)
