#!/usr/bin/env python3
"""Time (or profile) the draft invoicing of a consumption import, repeatably.

Against a cluster kept by ``benchmark_import.py --dir DIR`` it takes the last
batch, cancels its invoices, runs ``_ppu_create_invoices`` and rolls back, so
that runs before and after a change compare the very same work::

    python3 scripts/benchmark_import.py --rows 10000 --resellers 50 \\
        --customers 20 --baseline-rows 10 --dir /tmp/ppu-perf
    python3 scripts/profile_invoices.py --dir /tmp/ppu-perf --repeat 2
    python3 scripts/profile_invoices.py --dir /tmp/ppu-perf --invoices 20 \\
        --profile /tmp/invoices.pstats   # or run it under py-spy
"""

import argparse
import time

from ppu_tools.cluster import Cluster
from ppu_tools.month_data import DB_NAME
from ppu_tools.odoo_cli import open_registry


def run(args):
    import odoo
    from odoo import SUPERUSER_ID, api

    with Cluster(args.dir) as cluster:
        registry = open_registry(odoo, cluster, DB_NAME)
        Import = registry["sophos.ppu.import"]
        if args.invoices:
            parts = Import._ppu_invoice_parts
            Import._ppu_invoice_parts = lambda self, rows: parts(self, rows)[
                : args.invoices
            ]
        for _run in range(args.repeat):
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                batch = env["sophos.ppu.import"].search([], limit=1, order="id desc")
                batch.action_cancel()
                # As the import's own actions set it (the billing guard).
                batch._ppu_write({"state": "checked"})
                env.flush_all()
                env.invalidate_all()
                queries, start = cr.sql_log_count, time.perf_counter()
                if args.profile:
                    import cProfile

                    profile = cProfile.Profile()
                    invoices = profile.runcall(batch.sudo()._ppu_create_invoices)
                    profile.dump_stats(args.profile)
                else:
                    invoices = batch.sudo()._ppu_create_invoices()
                seconds = time.perf_counter() - start
                queries = cr.sql_log_count - queries
                lines = len(invoices.invoice_line_ids)
                print(
                    f"{len(invoices)} invoices, {lines} lines in {seconds:.2f} s = "
                    f"{lines / seconds:.0f} lines/s, "
                    f"{seconds / lines * 1000:.2f} ms/line, {queries} queries",
                    flush=True,
                )
                cr.rollback()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="cluster kept by the benchmark")
    parser.add_argument("--invoices", type=int, default=0, help="only the first N")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", help="write cProfile stats to this file")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
