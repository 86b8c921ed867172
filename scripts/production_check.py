#!/usr/bin/env python3
"""Check the month-end in a production-like Odoo: prefork workers, default limits.

One command, from the repository root (Odoo 18 importable, PostgreSQL server
binaries installed, as for ``scripts/odoo_suite.py``)::

    python3 scripts/production_check.py --rows 30000 [--dir /tmp/ppu-prod]

It starts a throwaway PostgreSQL cluster, installs ``sophos_ppu`` in a fresh
database (a ``--dir`` that holds one already, from this script or from
``scripts/benchmark_import.py``, is reused), creates resellers and
subscriptions and writes the Sophos .xlsx of ``--rows`` rows exactly as the
benchmark does, then serves the database with Odoo as production runs it:
OCA ``queue_job`` loaded server-wide (``--load=base,web,queue_job``) with
``[queue_job] channels = root:N,root.sophos_ppu:N`` (``--capacity``, 2) in
its configuration file, so that the month-end's jobs run in HTTP workers,
``--workers`` (capacity + 1: one free for the web client),
``--max-cron-threads`` cron workers (2) and Odoo's default limits (60 s of
CPU and 120 s of real time per request or cron run, 2 GiB / 2.5 GiB of
virtual memory per worker), e-mails delivered to a local SMTP sink.
``--servers N`` serves the database with N servers behind a round-robin TCP
proxy on loopback, which the job runner (one active) and the client call.
Then it drives the month-end over HTTP JSON-RPC, as the web client does,
logged in as ``admin``:

1. upload: the import wizard's dialog (``onchange``, ``web_save``) and its
   button ``action_import``; then the batch form is read every second until
   the batch leaves ``importing`` (expected ``checked``);
2. "Create invoices" (``action_create_invoices``, with ``ppu_leave_errors``
   when the batch has errors, as the button "Invoice valid lines, leave
   errors"); polled until the batch leaves ``invoicing`` (expected
   ``invoiced``);
3. post: the invoice list's action "Confirm Entries" on all the batch's
   invoices (``account.action_validate_account_move``: its dialog, then
   ``validate_move``), polled until every invoice is posted;
4. statements: polled until the invoices' background sending
   (``account.ir_cron_account_move_send``) and their mails are done, at most
   ``--send-timeout`` seconds (reported, not a failure).

Throughout, a websocket on each server's gevent port, opened with the
session of ``admin`` as the browser's websocket worker opens it, listens to
the bus (``admin``'s partner and the batch views' progress channel): a
notification to ``admin`` (a server action calling ``bus.bus._sendone``)
must reach it within 5 s before the month-end and after it, and each
server's gevent process must be the same from the start to the end (one
pid, serving once, no traceback in the server's output).

It prints every request with its duration, the end-to-end times, the counts,
the server workers' CPU and memory, and what the server log shows (workers
killed at a limit, memory limits reached, tracebacks, queue_job's jobs per
server with their time, CPU and how many ran at once, failed jobs and
retries, the scheduled actions' runs), and the gevent/bus check. It exits 1
when a request takes more than ``--request-limit`` seconds (5) or fails,
when the batch does not reach ``invoiced``, when the posting does not
finish, when a job failed, when the job runner never got ready, when the log
shows a worker killed or a request stopped at a limit, or when the
gevent/bus check fails; 2 when the check cannot run (no Odoo, the server
does not start).

``--scale 1,2,4`` measures the scale-out instead: the month-end from upload
to ``invoiced`` (posted too with ``--post``) once per capacity, on one server
with capacity + 1 HTTP workers, then (``--servers 2``) on two servers
sharing the largest capacity; the database is set up once and its batches
dropped before each; it prints a table of checking rows/s, invoicing lines/s
and their ratio to the first configuration.

The servers and the cluster are stopped at the end, also on Ctrl-C;
``--keep`` leaves the server running until Ctrl-C.
"""

import argparse
import math
import os
import signal
import sys

from ppu_tools import work_dir
from ppu_tools.cluster import Cluster
from ppu_tools.month_data import DB_NAME
from ppu_tools.odoo_cli import import_odoo
from ppu_tools.options import month_parser
from ppu_tools.production import Failure
from ppu_tools.production.check import check, deployed
from ppu_tools.production.deployment import Deployment
from ppu_tools.production.month_end import prepare
from ppu_tools.production.scale import configurations, measure, report_scale
from ppu_tools.server import JOB_CHANNEL, interrupt_on_signals
from ppu_tools.smtp_sink import SmtpSink


def main(argv=None):
    args = parse_args(argv)
    workers = args.workers or math.ceil(args.capacity / args.servers) + 1
    if workers * args.servers <= args.capacity:
        print(
            f"note: {workers} HTTP workers per server for {args.capacity} jobs at "
            "once: the web client may wait for a worker busy with a job"
        )
    with work_dir(args.dir, "ppu_prod_", args.keep) as directory:
        # Odoo's filestore beside the cluster (install, setup and server
        # alike): runs at once never share one.
        os.environ["XDG_DATA_HOME"] = str(directory / "xdg")
        odoo = import_odoo(
            "No check: 'import odoo' fails for this Python (see 'make install')."
        )
        if odoo is None:
            return 2
        # Ctrl-C and `kill` stop the check the same way, server and cluster too.
        interrupt_on_signals()
        cluster = Cluster(directory)
        smtp = None
        try:
            cluster.start(DB_NAME)
            smtp = SmtpSink().start()
            if args.scale:
                return scale_out(odoo, cluster, args, smtp)
            return month_end(odoo, cluster, args, smtp, workers)
        except Failure as error:
            print(f"check not run: {error}")
            return 2
        except KeyboardInterrupt:
            print("\ninterrupted")
            return 130
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
            if smtp:
                smtp.shutdown()
            cluster.shut_down()


def month_end(odoo, cluster, args, smtp, workers):
    """The month-end on one deployment; 1 if a check failed."""
    file_path = prepare(odoo, cluster, args)
    deployment = Deployment(
        odoo, cluster, args, smtp, args.servers, workers, args.capacity
    )
    with deployed(deployment):
        run, _scan = check(
            deployment, args, file_path, smtp, lambda run: run.month_end()
        )
        if args.keep:
            print(
                f"\nOdoo serves {deployment.base_url} (admin/admin); Ctrl-C stops it."
            )
            deployment.servers[0].process.wait()
    return 1 if run.failures else 0


def scale_out(odoo, cluster, args, smtp):
    """The month-end once per configuration; 1 if one failed."""
    results = []
    for configuration in configurations(args):
        results.append(measure(odoo, cluster, args, smtp, configuration))
        args.update = False  # once is enough
    return report_scale(results, args)


def capacities(text):
    values = [int(value) for value in text.split(",") if value.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a list of capacities >= 1, e.g. 1,2,4")
    return values


def parse_args(argv):
    parser = month_parser(__doc__, rows=30_000)
    parser.add_argument(
        "--capacity",
        type=int,
        default=2,
        help=f"queue_job jobs at once in {JOB_CHANNEL} (2)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="HTTP workers per server (--capacity + 1: one free for the web client)",
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="Odoo servers sharing the database, behind a round-robin proxy (1); "
        "with --scale: one more configuration, with the largest capacity",
    )
    parser.add_argument(
        "--scale",
        type=capacities,
        help="measure the month-end to invoiced with these capacities, e.g. 1,2,4",
    )
    parser.add_argument(
        "--post", action="store_true", help="with --scale: post the invoices too"
    )
    parser.add_argument(
        "--max-cron-threads", type=int, default=2, help="cron workers (Odoo's 2)"
    )
    parser.add_argument(
        "--request-limit",
        type=float,
        default=5.0,
        help="seconds a request may take (5)",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=1800,
        help="seconds to wait for each background phase (1800)",
    )
    parser.add_argument(
        "--send-timeout",
        type=int,
        default=300,
        help="seconds to wait for the statements to be sent, 0: do not wait (300)",
    )
    parser.add_argument("--dir", help="cluster directory (reused when it has one)")
    parser.add_argument(
        "--update",
        action="store_true",
        help="update the addon of the database kept in --dir first",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the server running after the check, until Ctrl-C, and the dir",
    )
    args = parser.parse_args(argv)
    if args.capacity < 1 or args.servers < 1:
        parser.error("--capacity and --servers must be at least 1")
    return args


if __name__ == "__main__":
    sys.exit(main())
