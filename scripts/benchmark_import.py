#!/usr/bin/env python3
"""Benchmark the monthly consumption import, file to draft invoices.

One command, from the repository root (Odoo 18 importable, PostgreSQL server
binaries installed, as for ``scripts/odoo_suite.py``)::

    python3 scripts/benchmark_import.py --rows 100000 --dir /tmp/ppu-bench

It starts a throwaway PostgreSQL cluster in ``--dir`` (kept with ``--keep``
for a second run), installs ``sophos_ppu`` and ``base_import`` in a fresh
database, creates about 500 resellers (pricelists: discount, markup, EUR),
20 end customers each with their subscription, writes a realistic Sophos
.xlsx file of ``--rows`` rows (10 services per end customer), and times:

1. upload -> checked: the wizard (which returns at once), then the
   background job that reads the file and checks and stores its rows, run
   chunk by chunk as Odoo's cron worker runs it (a commit per chunk);
2. -> invoiced: ``action_create_invoices``, then the background job that
   checks the rows again and creates the draft invoices (one per reseller
   and currency), chunk by chunk;

printing seconds, rows/second, peak memory (RSS) and SQL queries per row of
each phase. Then, in the same run and on the same data, it imports the
equivalent invoice lines (the same partners, products, labels, quantities,
prices and taxes) with Odoo's own ``base_import`` -- all of them, or the
first ``--baseline-rows`` lines -- and prints the ratio of the two speeds.
"""

import argparse
import base64
import csv
import io
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from odoo_suite import ADDON, DB_USER, Cluster, addons_path  # noqa: E402

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
# The equivalent invoice lines, as base_import columns of account.move.
BASELINE_FIELDS = [
    "move_type",
    "partner_id/.id",
    "currency_id/.id",
    "invoice_origin",
    "invoice_line_ids/product_id/.id",
    "invoice_line_ids/name",
    "invoice_line_ids/quantity",
    "invoice_line_ids/price_unit",
    "invoice_line_ids/tax_ids/.id",
]
HEADER = [
    "Partner Name",
    "Start Date",
    "End Date",
    "End Customer Name",
    "End User Identifier",
    "Product Description",
    "SKU",
    "Total Quantity",
    "Unit MSRP",
    "Unit Price",
    "Currency",
]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def install(odoo, cluster, update=False):
    """Install the addon, or update it in a kept database (its code may have
    changed since)."""
    modules = ["-u", ADDON] if update else ["-i", f"{ADDON},base_import"]
    cmd = [
        sys.executable, "-m", "odoo", f"--addons-path={addons_path(odoo)}",
        f"--db_host={cluster.socket_dir}", f"--db_port={cluster.port}",
        f"--db_user={DB_USER}", f"--database={DB_NAME}", "--without-demo=all",
        "--stop-after-init", "--log-level=warn", *modules,
    ]  # fmt: skip
    subprocess.run(cmd, check=True)


def setup_data(env, resellers, customers):
    """Resellers with their pricelists, end customers and subscriptions."""
    from odoo import Command

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
    template = env.ref("sophos_ppu.product_sophos_cybersecurity")
    product = template.product_variant_id
    product.taxes_id = env["account.tax"].search(
        [("company_id", "=", company.id), ("type_tax_use", "=", "sale")], limit=1
    )
    rules = [
        {"compute_price": "percentage", "percent_price": 10.0},
        {"compute_price": "formula", "base": "standard_price", "price_markup": 15.0},
        {"compute_price": "percentage", "percent_price": 20.0, "min_quantity": 100},
    ]
    pricelists = env["product.pricelist"].create(
        [
            {
                "name": f"Reseller pricelist {index}",
                "company_id": company.id,
                "currency_id": (eur if index % 10 == 0 else company.currency_id).id,
                "item_ids": [
                    Command.create(
                        dict(
                            rules[index % 3],
                            applied_on="1_product",
                            product_tmpl_id=template.id,
                        )
                    ),
                    Command.create(
                        dict(
                            rules[0],
                            applied_on="1_product",
                            product_tmpl_id=template.id,
                        )
                    ),
                ],
            }
            for index in range(resellers)
        ]
    )
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
                "company_id": company.id,
            }
            for r in range(resellers)
            for c in range(customers)
        ]
    )


def identifier(reseller, customer):
    return f"{reseller:04x}{customer:04x}-4a1c-9e0b-sophos-eu"


def write_file(path, rows, resellers, customers):
    """A Sophos-like .xlsx: title rows, the header, ``rows`` rows, totals."""
    from openpyxl import Workbook

    rng = random.Random(42)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Usage")
    sheet.append(["Sophos MSP Flex - monthly usage report"])
    sheet.append([])
    sheet.append(HEADER)
    count = 0
    while count < rows:
        for r in range(resellers):
            for c in range(customers):
                for description, sku, msrp, cost in SERVICES:
                    if count >= rows:
                        break
                    sheet.append(
                        [
                            f"Reseller {r:03d}",
                            "2026-10-01",
                            "2026-10-31",
                            f"End Customer {r:03d}-{c:02d}",
                            identifier(r, c),
                            description,
                            f"{sku}-{count // (resellers * customers * 10)}"
                            if count >= resellers * customers * 10
                            else sku,
                            rng.choice([0, 1, 2, 3, 5, 8, 12, 25, 40, 120, 250]),
                            float(msrp),
                            float(cost),
                            "USD",
                        ]
                    )
                    count += 1
            if count >= rows:
                break
    workbook.save(path)


def profiled(enabled):
    """Run a function under cProfile when enabled and print its top calls."""

    def decorate(function):
        if not enabled:
            return function

        def wrapper(*args, **kwargs):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            result = profile.runcall(function, *args, **kwargs)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
            return result

        return wrapper

    return decorate


def perform_job(env, uuid):
    """Run one stored job as queue_job's runner does: loaded from the
    database (as the user who enqueued it), marked done, the jobs that
    waited for it released."""
    from odoo.addons.queue_job.job import Job

    job = Job.load(env, uuid)
    job.set_started()
    job.store()
    job.perform()
    env.flush_all()
    job.set_done()
    job.store()
    env.flush_all()
    job.enqueue_waiting()
    return job


def run_background(env, batch):
    """Run the batch's queue jobs one after the other as one queue_job worker
    does, a commit per job, until the batch's run ends.
    :returns: the number of jobs run."""
    Queue = env["queue.job"].sudo()
    jobs = 0
    while True:
        env.invalidate_all()
        if batch.state not in ("importing", "invoicing"):
            return jobs
        record = Queue.search([("state", "=", "pending")], order="id", limit=1)
        if not record:
            raise RuntimeError(f"{batch.name} is {batch.state} with no job left")
        perform_job(env, record.uuid)
        env.cr.commit()
        jobs += 1


class Phase:
    def __init__(self, name, cr, rows):
        self.name, self.cr, self.rows = name, cr, rows

    def __enter__(self):
        self.start = time.perf_counter()
        self.queries = self.cr.sql_log_count
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.query_count = self.cr.sql_log_count - self.queries
        print(
            f"{self.name:<28} {self.seconds:8.1f} s {self.rows / self.seconds:9.0f} "
            f"rows/s  peak RSS {peak_rss_mb():7.0f} MB  "
            f"{self.query_count / self.rows:6.3f} queries/row "
            f"({self.query_count} queries)",
            flush=True,
        )


def open_registry(odoo, cluster):
    """The benchmark database's registry, served by ``cluster``."""
    config = odoo.tools.config
    config["addons_path"] = addons_path(odoo)
    config["db_host"] = str(cluster.socket_dir)
    config["db_port"] = cluster.port
    config["db_user"] = DB_USER
    odoo.modules.module.initialize_sys_path()
    return odoo.modules.registry.Registry(DB_NAME)


def baseline_csv(env, batch, limit):
    """The batch's invoice lines as a base_import file of account.move."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(BASELINE_FIELDS)
    written = 0
    for move in batch.invoice_ids:
        first = True
        for line in move.invoice_line_ids:
            if written >= limit:
                return buffer.getvalue().encode(), written
            head = (
                [move.move_type, move.partner_id.id, move.currency_id.id, "baseline"]
                if first
                else ["", "", "", ""]
            )
            writer.writerow(
                head
                + [
                    line.product_id.id,
                    line.name,
                    line.quantity,
                    line.price_unit,
                    ",".join(str(i) for i in line.tax_ids.ids),
                ]
            )
            first = False
            written += 1
    return buffer.getvalue().encode(), written


def run(args):
    import odoo
    from odoo import SUPERUSER_ID, api

    work_dir = Path(args.dir or tempfile.mkdtemp(prefix="ppu_bench_"))
    work_dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(work_dir)
    cluster.start()
    marker = work_dir / "installed"
    try:
        if not marker.exists():
            print("installing sophos_ppu and base_import ...", flush=True)
            install(odoo, cluster)
            marker.touch()
        else:
            install(odoo, cluster, update=True)
        registry = open_registry(odoo, cluster)
        file_path = work_dir / f"consumption-{args.rows}.xlsx"
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            started = time.perf_counter()
            if env["sophos.ppu.subscription"].search_count([]):
                # A kept cluster: reuse its data, drop the previous batches.
                previous = env["sophos.ppu.import"].search([])
                previous.action_cancel()
                previous.unlink()
                env["account.move"].search(
                    [("invoice_origin", "=", "baseline")]
                ).unlink()
            else:
                setup_data(env, args.resellers, args.customers)
            cr.commit()
            cr.execute("ANALYZE")  # fresh statistics, as autovacuum would have
            if not file_path.exists():
                write_file(file_path, args.rows, args.resellers, args.customers)
            print(
                f"setup: {args.resellers} resellers, "
                f"{args.resellers * args.customers} subscriptions, file of "
                f"{args.rows} rows ({file_path.stat().st_size / 1e6:.1f} MB) in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
            data = file_path.read_bytes()
            wizard = env["sophos.ppu.import.wizard"].create(
                {
                    "file": base64.b64encode(data),
                    "filename": file_path.name,
                    "period_date": PERIOD,
                }
            )
            cr.commit()
            rows = args.rows
            print(f"{'phase':<28} {'time':>10} {'speed':>15}", flush=True)
            with Phase("upload -> checked", cr, rows) as check:
                action = wizard.action_import()
                cr.commit()
                batch = env["sophos.ppu.import"].browse(action["res_id"])
                chunks = profiled(args.profile == "check")(run_background)(env, batch)
            if batch.state != "checked":
                sys.exit(f"import failed: {batch.state} {batch.invoice_error}")
            print(
                f"  {chunks} chunks; rows ok {batch.ok_count}, errors "
                f"{batch.error_count}, duplicates {batch.duplicate_count}",
                flush=True,
            )
            if args.check_only:
                return
            with Phase("checked -> invoiced", cr, rows) as invoice:
                batch.with_context(ppu_leave_errors=True).action_create_invoices()
                cr.commit()
                chunks = profiled(args.profile == "invoice")(run_background)(env, batch)
            print(f"  {chunks} chunks", flush=True)
            if batch.state != "invoiced":
                sys.exit(f"invoicing failed: {batch.invoice_error}")
            lines = env["account.move.line"].search_count(
                [
                    ("move_id", "in", batch.invoice_ids.ids),
                    ("display_type", "=", "product"),
                ]
            )
            total = check.seconds + invoice.seconds
            print(
                f"{'invoicing':<28} {invoice.seconds:8.1f} s "
                f"{lines / invoice.seconds:9.0f} invoice lines/s",
                flush=True,
            )
            print(
                f"{'file -> draft invoices':<28} {total:8.1f} s "
                f"{rows / total:9.0f} rows/s  {len(batch.invoice_ids)} invoices, "
                f"{lines} invoice lines",
                flush=True,
            )
            env.invalidate_all()
            limit = min(args.baseline_rows or lines, lines)
            content, written = baseline_csv(env, batch, limit)
            importer = env["base_import.import"].create(
                {"res_model": "account.move", "file": content, "file_type": "text/csv"}
            )
            cr.commit()
            fields = BASELINE_FIELDS
            options = {
                "has_headers": True,
                "separator": ",",
                "quoting": '"',
                "encoding": "utf-8",
                "float_decimal_separator": ".",
                "float_thousand_separator": "",
            }
            with Phase(f"base_import {written} lines", cr, written) as baseline:
                result = importer.execute_import(fields, fields, options)
                cr.commit()
            errors = [m for m in result.get("messages", []) if m.get("type") == "error"]
            if errors:
                print(f"  base_import errors: {errors[:3]}", flush=True)
            ours = lines / total
            theirs = written / baseline.seconds
            print(
                f"ratio: {ours:.0f} invoice lines/s (file -> draft invoices) vs "
                f"{theirs:.1f} invoice lines/s (base_import) = {ours / theirs:.1f}x",
                flush=True,
            )
    finally:
        cluster.stop()
        if not args.keep and not args.dir:
            shutil.rmtree(work_dir, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--resellers", type=int, default=500)
    parser.add_argument("--customers", type=int, default=20, help="per reseller")
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=0,
        help="import only the first N invoice lines with base_import (0: all)",
    )
    parser.add_argument("--profile", choices=["check", "invoice"])
    parser.add_argument(
        "--check-only", action="store_true", help="stop once the file is checked"
    )
    parser.add_argument("--dir", help="cluster directory (a fresh one if missing)")
    parser.add_argument("--keep", action="store_true", help="keep a temporary dir")
    args = parser.parse_args(argv)
    run(args)


if __name__ == "__main__":
    main()
