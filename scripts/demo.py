#!/usr/bin/env python3
"""Try the whole product: Odoo with the demo database on http://localhost:8069.

From the repository root, after ``make install`` (``make demo`` runs this)::

    python3 scripts/demo.py [--keep DIR] [--port 8069]

Starts a throwaway PostgreSQL cluster (``ppu_tools.cluster``), creates the
database ``sophos_ppu_demo`` with ``sophos_ppu`` and its demo data (three
resellers with portal logins, a pricelist per billing rule, subscriptions
from shop orders, one month invoiced and posted, last month's file waiting
to be checked), then serves it on 127.0.0.1 only and prints the logins.
Ctrl-C stops Odoo and removes the cluster. Imports and invoicing run as
OCA queue_job jobs: Odoo loads ``queue_job`` server-wide and its job runner
gets a capacity of JOB_CAPACITY jobs at once (``ODOO_QUEUE_JOB_CHANNELS``,
unless set already).

``--keep DIR`` keeps the cluster, the database and the logs in DIR; the next
run with the same DIR serves that database again without reinstalling
(``--update`` first updates the addon to the working tree's code).
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from ppu_tools import ADDON, REPO, work_dir
from ppu_tools.cluster import Cluster
from ppu_tools.odoo_cli import import_odoo, odoo_command, tail
from ppu_tools.server import (
    AFTER_CTRL_C,
    HOST,
    SERVER_WIDE_MODULES,
    interrupt_on_signals,
    queue_job_channels,
    stop,
    wait_answer,
)

DB_NAME = "sophos_ppu_demo"
LOGINS = (
    ("admin", "admin", "administrator, PPU operations and accounting"),
    ("reseller1", "reseller1", "Northwind IT Services: 10 % off MSRP, USD"),
    ("reseller2", "reseller2", "Rheinblick IT-Service GmbH: cost + 15 %, EUR"),
    ("reseller3", "reseller3", "Pacific Coast MSP: 20 % off from 100 units, else 5 %"),
)
READY_PATHS = ("/web/login", "/shop")
#: Jobs of the month-end at once (the threaded server runs each in a thread).
JOB_CAPACITY = 2


def demo_command(odoo, cluster, *args):
    # The filestore lives beside the cluster: kept or removed with it.
    return odoo_command(
        odoo, cluster, DB_NAME, f"--data-dir={cluster.directory / 'data'}",
        "--no-database-list", *args,
    )  # fmt: skip


def install(odoo, cluster, log_file, port, update=False):
    """Install (or update) the addon with its demo data; no HTTP server runs
    meanwhile. Returns whether it succeeded. The port that the demo will
    serve on is the database's address from the start (Odoo's default
    ``web.base.url``): the e-mails the demo writes meanwhile link there."""
    what = "Updating" if update else "Installing"
    print(f"{what} {ADDON} with demo data in {DB_NAME} (log: {log_file}) ...")
    cmd = demo_command(
        odoo, cluster, "--update" if update else "--init", ADDON,
        "--stop-after-init", f"--logfile={log_file}", f"--http-port={port}",
    )  # fmt: skip
    return subprocess.run(cmd, cwd=REPO).returncode == 0


def port_in_use(port):
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def wait_ready(server, base_url):
    """Wait until every READY_PATHS answers 200; False if Odoo exited."""
    return all(wait_answer(server, base_url + path) for path in READY_PATHS)


def banner(base_url, seconds, log_file):
    print(f"\nsophos_ppu demo ready in {seconds:.0f} s: {base_url}/web/login")
    print(f"  shop {base_url}/shop, portal {base_url}/my")
    for login, password, who in LOGINS:
        print(f"  {login:<10} / {password:<10} {who}")
    print(f"Odoo log: {log_file}. Ctrl-C stops Odoo.")


#: Where the demo's links lead (``web.base.url``) and where wkhtmltopdf
#: fetches the reports' styles (``report.url``: the interface Odoo listens on).
SET_URLS = """
INSERT INTO ir_config_parameter (key, value, create_date, write_date)
VALUES ('web.base.url', :'base_url', now(), now()),
       ('report.url', :'report_url', now(), now())
ON CONFLICT (key)
DO UPDATE SET value = EXCLUDED.value, write_date = EXCLUDED.write_date;
"""


def set_urls(cluster, port):
    """Point the demo database at the server about to serve it, on this
    port: its e-mails' links, and the styles of the PDFs that its statement
    jobs print as soon as it serves. Odoo learns its address only when the
    administrator logs in; until then they led to port 8069 (a PDF printed
    meanwhile got no styles, and kept them)."""
    cluster.psql(
        DB_NAME, "-q", "-v", "ON_ERROR_STOP=1",
        "-v", f"base_url=http://localhost:{port}",
        "-v", f"report_url=http://{HOST}:{port}",
        input=SET_URLS, text=True, capture_output=True,
    )  # fmt: skip


def serve(odoo, cluster, port, log_file, started):
    base_url = f"http://localhost:{port}"
    set_urls(cluster, port)
    print(f"Starting Odoo on {base_url} ...")
    # queue_job's runner sends each job to this server (http-interface and
    # -port), as an HTTP request.
    env = dict(os.environ)
    env.setdefault("ODOO_QUEUE_JOB_CHANNELS", queue_job_channels(JOB_CAPACITY))
    server = subprocess.Popen(
        demo_command(
            odoo, cluster, f"--http-interface={HOST}", f"--http-port={port}",
            "--gevent-port=0", f"--load={SERVER_WIDE_MODULES}",
            f"--logfile={log_file}",
        ),
        cwd=REPO, env=env,
    )  # fmt: skip
    try:
        if not wait_ready(server, base_url):
            print(f"Odoo stopped before serving:\n{tail(log_file)}")
            return 1
        banner(base_url, time.monotonic() - started, log_file)
        server.wait()
        print(f"Odoo stopped:\n{tail(log_file)}")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A terminal's Ctrl-C has reached Odoo already, a `kill` of this
        # script has not.
        stop(server, AFTER_CTRL_C)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", metavar="DIR", help="keep the cluster and database in DIR"
    )
    parser.add_argument("--port", type=int, default=8069, help="HTTP port (8069)")
    parser.add_argument(
        "--update", action="store_true", help="update the kept database's addon"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    odoo = import_odoo(
        "No demo: 'import odoo' fails for this Python (see 'make install')."
    )
    if odoo is None:
        return 1
    if port_in_use(args.port):
        print(f"Port {args.port} is in use: stop what listens there or use --port.")
        return 1
    # A terminal's Ctrl-C reaches Odoo too.
    interrupt_on_signals()
    with work_dir(args.keep, "sophos_ppu_demo_") as directory:
        cluster = Cluster(directory)
        try:
            returncode = run(odoo, cluster, args, started)
        except KeyboardInterrupt:
            returncode = 0
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
            cluster.shut_down()
        if args.keep:
            print(f"Kept in {directory} (cluster stopped, database {DB_NAME}).")
    if not args.keep:
        print("Demo stopped; its database is removed.")
    return returncode


def run(odoo, cluster, args, started):
    """Install the demo database unless kept (update it with --update),
    then serve it until Ctrl-C."""
    directory = cluster.directory
    installed = cluster.start(DB_NAME)
    if (not installed or args.update) and not install(
        odoo, cluster, directory / "install.log", args.port, installed
    ):
        print(f"Installing failed:\n{tail(directory / 'install.log')}")
        if not installed:  # never serve a half-installed database later
            cluster.drop_database(DB_NAME, check=False)
        return 1
    return serve(odoo, cluster, args.port, directory / "odoo.log", started)


if __name__ == "__main__":
    sys.exit(main())
