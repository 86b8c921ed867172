"""The upgrade check's scenario (``scripts/upgrade_check.py``): its
consumption file, and the steps that run inside Odoo, with the old addon or
the new one, each in a process of its own (``upgrade_check.py --step``).

Each step prints its facts as one JSON line after RESULT_MARK."""

import csv
import io
import json
from datetime import date
from pathlib import Path

from ppu_tools import ADDON
from ppu_tools.sophos_file import table

DB_NAME = "ppu_upgrade"
BASE = "a17a2ad"
OLD_VERSION = "18.0.1.0.0"
NEW_VERSION = "18.0.1.1.0"  # the migration checked; later versions run it too
PERIOD = date(2026, 10, 1)
FILENAME = "oct.csv"
RESELLER = "Upgrade Check Reseller"
CUSTOMERS = {"EU-1": "Northwind Clinic", "EU-2": "Contoso Lab"}
SERVICE = ("Sophos Intercept X Advanced with XDR", "CIXAXDR-PPU")
MSRP, COST, DISCOUNT = "4.20", "2.73", 10.0
PRICE = round(float(MSRP) * (100 - DISCOUNT) / 100, 2)  # what the reseller pays
# The file's rows, in file order: (end user, start, end, quantity).
ROWS = [
    ("EU-1", "2026-10-01", "2026-10-31", 10),
    ("EU-1", "2026-10-01", "2026-10-31", -3),  # corrects the row above
    ("EU-2", "2026-10-01", "2026-10-31", -2),  # corrects an earlier month
    ("EU-2", "2026-10-01", "2026-10-15", 5),
]
DOUBLE_BILLED = """
    SELECT company_id, consumption_key, count(*)
      FROM sophos_ppu_import_line
     WHERE billed
  GROUP BY 1, 2
    HAVING count(*) > 1
"""
RESULT_MARK = "UPGRADE-CHECK-RESULT "


def label(identifier, quantity):
    return f"{identifier} {quantity:+g}"


def consumption_csv(currency):
    """The file: Sophos's columns that the rows fill, in Sophos's order."""
    rows = (
        {
            "Start Date": start,
            "End Date": end,
            "End User Identifier": identifier,
            "Customer Name": CUSTOMERS[identifier],
            "Product Description": SERVICE[0],
            "SKU": SERVICE[1],
            "Total Quantity": quantity,
            "Unit MSRP": MSRP,
            "Unit Price": COST,
            "Currency": currency,
        }
        for identifier, start, end, quantity in ROWS
    )
    buffer = io.StringIO()
    csv.writer(buffer).writerows(table(rows))
    return buffer.getvalue().encode()


def rows_of(batch):
    return {
        label(line.end_user_identifier, line.quantity): {
            "row": line.row_number,
            "state": line.state,
            "billed": line.billed,
            "key": line.consumption_key,
            "message": line.message or "",
        }
        for line in batch.line_ids.sorted("row_number")
    }


def moves_of(moves):
    return [
        {
            "type": move.move_type,
            "partner": move.partner_id.name,
            "untaxed": move.amount_untaxed_signed,
            "total": move.amount_total_signed,
            "lines": [
                [line.quantity, line.price_unit] for line in move.invoice_line_ids
            ],
        }
        for move in moves
    ]


def batch_facts(batch):
    return {
        "name": batch.name,
        "state": batch.state,
        "invoice_error": batch.invoice_error or "",
        "rows": rows_of(batch),
        "invoices": moves_of(batch.invoice_ids),
    }


def code_facts(env):
    import odoo.addons.sophos_ppu as addon

    module = env["ir.module.module"].search([("name", "=", ADDON)])
    return {"code": str(Path(addon.__file__).parent), "version": module.latest_version}


def step_before(env, csv_path):
    """With the old code: chart, reseller, subscriptions; bill the file."""
    from odoo import Command

    company = env.company
    chart_before = company.chart_template or ""
    if not chart_before:
        env["account.chart.template"].try_loading(
            "generic_coa", company, install_demo=False
        )
    template = env.ref("sophos_ppu.product_sophos_cybersecurity")
    template.taxes_id = [Command.clear()]  # tax-free: amounts are the prices
    currency = company.currency_id
    pricelist = env["product.pricelist"].create(
        {
            "name": "Reseller -10 %",
            "currency_id": currency.id,
            "company_id": company.id,
            "item_ids": [
                Command.create(
                    {
                        "applied_on": "1_product",
                        "product_tmpl_id": template.id,
                        "compute_price": "percentage",
                        "percent_price": DISCOUNT,
                    }
                )
            ],
        }
    )
    reseller = env["res.partner"].create(
        {
            "name": RESELLER,
            "is_company": True,
            "property_product_pricelist": pricelist.id,
        }
    )
    for identifier, name in CUSTOMERS.items():
        customer = env["res.partner"].create({"name": name, "is_company": True})
        env["sophos.ppu.subscription"].create(
            {
                "partner_id": reseller.id,
                "end_customer_id": customer.id,
                "end_user_identifier": identifier,
                "product_id": template.product_variant_id.id,
                "pricelist_id": pricelist.id,
            }
        )
    data = consumption_csv(currency.name)
    Path(csv_path).write_bytes(data)
    batch = env["sophos.ppu.import"]._ppu_import_file(data, FILENAME, PERIOD)
    batch.action_create_invoices()
    return {
        **code_facts(env),
        "chart_before": chart_before,
        "chart": company.chart_template or "",
        "sale_journal": bool(
            env["account.journal"].search_count(
                [("company_id", "=", company.id), ("type", "=", "sale")]
            )
        ),
        "batch": batch_facts(batch),
    }


def step_after(env, csv_path):
    """With the new code: the first batch as migrated; the file again."""
    Import = env["sophos.ppu.import"]
    first = Import.search([], order="id")
    Move = env["account.move"]
    moves_before = Move.search([]).ids
    second = Import._ppu_import_file(Path(csv_path).read_bytes(), FILENAME, PERIOD)
    checked = rows_of(second)
    second.action_create_invoices()
    env.cr.execute(DOUBLE_BILLED)
    template = env.ref("sophos_ppu.mail_template_ppu_order_ops")
    template_data = env["ir.model.data"].search(
        [("module", "=", "sophos_ppu"), ("name", "=", "mail_template_ppu_order_ops")]
    )
    return {
        **code_facts(env),
        "ops_mail_falls_back": "ppu_end_customer_id.email" in str(template.body_html),
        "ops_mail_noupdate": template_data.noupdate,
        "batches_before": len(first),
        "first": batch_facts(first[:1]),
        "first_close": {
            label(line.end_user_identifier, line.quantity): [
                line.cost_subtotal,
                line.close_status,
                line.margin_company,
            ]
            for line in first[:1].line_ids
        },
        "second_checked": checked,
        "second": batch_facts(second),
        "new_moves": moves_of(Move.search([("id", "not in", moves_before)])),
        "double_billed": env.cr.fetchall(),
    }


STEPS = {"before": step_before, "after": step_after}


def run_step(name, csv_path, odoo_options):
    """Open the database with the addons path of ``odoo_options``, run one
    step, commit, and print its facts as one JSON line."""
    import odoo
    from odoo import SUPERUSER_ID, api

    odoo.tools.config.parse_config(odoo_options)
    odoo.modules.module.initialize_sys_path()
    registry = odoo.modules.registry.Registry(DB_NAME)
    with registry.cursor() as cr:
        facts = STEPS[name](api.Environment(cr, SUPERUSER_ID, {}), csv_path)
        cr.commit()
    print(RESULT_MARK + json.dumps(facts, default=str), flush=True)
    return 0


def print_table(before, after):
    """The file's rows: batch 1 billed by the old code, as the upgrade left
    it, and batch 2 (the same file) billed by the new code."""
    old_rows = before["batch"]["rows"] if before else {}
    first = after["first"]["rows"] if after else {}
    second = after["second"]["rows"] if after else {}

    def state(row):
        if not row:
            return "-"
        return f"{row['state']}{', billed' if row['billed'] else ''}"

    def key_change(name):
        old_key, new_key = (
            old_rows.get(name, {}).get("key"),
            first.get(name, {}).get("key"),
        )
        if not (old_key and new_key):
            return "-"
        if new_key == old_key:
            return "key unchanged"
        if new_key.startswith(old_key):
            return f"key + {new_key[len(old_key) :]}"
        return f"key {new_key}"

    print()
    print(
        f"{'row':>3}  {'consumption':<29} {'batch 1 (' + OLD_VERSION + ')':<22}"
        f" {'batch 1 upgraded':<26} {'batch 2 (' + NEW_VERSION + ')'}"
    )
    for identifier, start, end, quantity in ROWS:
        name = label(identifier, quantity)
        row = old_rows.get(name) or {}
        print(
            f"{row.get('row', ''):>3}  {name:<9} {start}..{end[5:]:<7}"
            f" {state(old_rows.get(name)):<22}"
            f" {state(first.get(name)) + '; ' + key_change(name):<26}"
            f" {state(second.get(name))}"
        )
    if first:
        print("batch 1 keys after the upgrade:")
        for row in sorted(first.values(), key=lambda row: row["row"]):
            print(f"{row['row']:>5}  {row['key']}")
    for title, facts in (("batch 1", before), ("batch 2", after)):
        batch = facts and (facts["batch"] if title == "batch 1" else facts["second"])
        if batch:
            invoices = ", ".join(
                f"{m['type']} {m['partner']} {m['untaxed']:.2f}"
                for m in batch["invoices"]
            )
            print(f"{title} {batch['name']}: {invoices or 'no invoice'}")
    print()
