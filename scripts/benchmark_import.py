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

import base64
import csv
import io
import sys
import time

from ppu_tools import work_dir
from ppu_tools.bench import install_once, peak_rss_mb, run_background
from ppu_tools.cluster import Cluster
from ppu_tools.month_data import DB_NAME, PERIOD, prepare_month
from ppu_tools.odoo_cli import open_registry
from ppu_tools.options import month_parser

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
BASELINE_OPTIONS = {
    "has_headers": True,
    "separator": ",",
    "quoting": '"',
    "encoding": "utf-8",
    "float_decimal_separator": ".",
    "float_thousand_separator": "",
}


def run(args):
    import odoo
    from odoo import SUPERUSER_ID, api

    with (
        work_dir(args.dir, "ppu_bench_", args.keep) as directory,
        Cluster(directory) as cluster,
    ):
        install_once(odoo, cluster, update=True, announce=False)
        registry = open_registry(odoo, cluster, DB_NAME)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            file_path = prepare_month(env, args, directory, drop_last_run)
            batch, check = time_check(env, file_path, args)
            if args.check_only:
                return
            lines, total = time_invoicing(env, batch, check, args)
            time_baseline(env, batch, lines, total, args)


def drop_last_run(env):
    """A kept cluster: drop the previous batches and the baseline's invoice."""
    previous = env["sophos.ppu.import"].search([])
    previous.action_cancel()
    previous.unlink()
    env["account.move"].search([("invoice_origin", "=", "baseline")]).unlink()


def time_check(env, file_path, args):
    """Phase 1, upload -> checked; return the batch and the phase."""
    cr = env.cr
    wizard = env["sophos.ppu.import.wizard"].create(
        {
            "file": base64.b64encode(file_path.read_bytes()),
            "filename": file_path.name,
            "period_date": PERIOD,
        }
    )
    cr.commit()
    print(f"{'phase':<28} {'time':>10} {'speed':>15}", flush=True)
    with Phase("upload -> checked", cr, args.rows) as check:
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
    return batch, check


def time_invoicing(env, batch, check, args):
    """Phase 2, checked -> invoiced; return the invoice lines and the
    seconds from file to draft invoices."""
    cr = env.cr
    with Phase("checked -> invoiced", cr, args.rows) as invoice:
        batch.with_context(ppu_leave_errors=True).action_create_invoices()
        cr.commit()
        chunks = profiled(args.profile == "invoice")(run_background)(env, batch)
    print(f"  {chunks} chunks", flush=True)
    if batch.state != "invoiced":
        sys.exit(f"invoicing failed: {batch.invoice_error}")
    lines = env["account.move.line"].search_count(
        [("move_id", "in", batch.invoice_ids.ids), ("display_type", "=", "product")]
    )
    total = check.seconds + invoice.seconds
    print(
        f"{'invoicing':<28} {invoice.seconds:8.1f} s "
        f"{lines / invoice.seconds:9.0f} invoice lines/s",
        flush=True,
    )
    print(
        f"{'file -> draft invoices':<28} {total:8.1f} s "
        f"{args.rows / total:9.0f} rows/s  {len(batch.invoice_ids)} invoices, "
        f"{lines} invoice lines",
        flush=True,
    )
    return lines, total


def time_baseline(env, batch, lines, total, args):
    """The same invoice lines through Odoo's base_import, and the ratio."""
    cr = env.cr
    env.invalidate_all()
    limit = min(args.baseline_rows or lines, lines)
    content, written = baseline_csv(env, batch, limit)
    importer = env["base_import.import"].create(
        {"res_model": "account.move", "file": content, "file_type": "text/csv"}
    )
    cr.commit()
    fields = BASELINE_FIELDS
    with Phase(f"base_import {written} lines", cr, written) as baseline:
        result = importer.execute_import(fields, fields, BASELINE_OPTIONS)
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


def main(argv=None):
    parser = month_parser(__doc__, rows=100_000)
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
