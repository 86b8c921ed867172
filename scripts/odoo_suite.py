#!/usr/bin/env python3
"""Run the addon's Odoo test suite against a throwaway PostgreSQL.

Starts its own PostgreSQL cluster (Debian's server binaries) in a temporary
directory on a free port, creates a fresh database, installs ``sophos_ppu``
with its dependencies, runs its tests (tours in headless Chromium) and stops
the cluster. Fails when a test fails, when no test ran, when a test was
skipped (Odoo silently skips tours without Chromium or websocket-client) and
when installing the addon logs a warning or an error.

By default it runs the addon's tests (``/sophos_ppu``) in a database
installed without demo data, then the demo story's test (tag
``sophos_ppu_demo``, excluded from the first run) in a second database
installed with demo data, and prints ``odoo: N passed, N failed`` last.
``--tags`` runs only the first with those tags; ``--demo`` only the second.

Where ``import odoo`` fails it prints one line saying so and exits 0.

Development shortcut: ``--reuse DIR`` keeps the cluster and the databases in
DIR between runs and only updates the addon (``-u``), which is much faster.
"""

import argparse
import os
import re
import signal
import subprocess
import sys

from ppu_tools import ADDON, REPO, work_dir
from ppu_tools.cluster import Cluster, free_port
from ppu_tools.odoo_cli import LOG_RE, import_odoo, odoo_command

DB_NAME = "ppu_suite"
# The demo story's test runs alone in a database installed with demo data.
DEMO_DB_NAME = "ppu_suite_demo"
DEMO_TAGS = "sophos_ppu_demo"

RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
SKIP_MARKERS = (
    " skipped ",
    "websocket-client module is not installed",
    "Chrome executable not found",
    "Failed to detect chrome devtools port",
)


def run_odoo(odoo, cluster, install, test_tags, log_file, db_name=DB_NAME, demo=False):
    cmd = odoo_command(
        odoo, cluster, db_name,
        f"--http-port={free_port()}", "--gevent-port=0",
        # The filestore beside the cluster: runs at once never share one.
        f"--data-dir={cluster.directory / 'data'}",
        *([] if demo else ["--without-demo=all"]),
        "--stop-after-init", "--log-level=test",
        "--test-enable", f"--test-tags={test_tags}",
        "--init" if install else "--update", ADDON,
    )  # fmt: skip
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    lines = []
    with open(log_file, "w", encoding="utf-8") as log:
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
            lines.append(line.rstrip("\n"))
    return proc.wait(), lines


def is_problem(log, line):
    """An error, a warning about our addon, or a skipped test."""
    if log["level"] in ("ERROR", "CRITICAL"):
        return True
    if log["level"] == "WARNING" and ADDON in line[log.end("db") :]:
        return True
    return log["logger"].startswith("odoo.tests") and any(
        marker in line for marker in SKIP_MARKERS
    )


def verdict(returncode, lines):
    """Return (passed, failed, problems) read from Odoo's log."""
    problems = []
    tests_run = failed = 0
    for line in lines:
        match = RESULT_RE.search(line)
        if match:
            failed = int(match[1]) + int(match[2])
            tests_run = int(match[3])
        log = LOG_RE.match(line)
        if log and is_problem(log, line):
            problems.append(line)
    if returncode:
        problems.append(f"Odoo exited with status {returncode}")
    if not tests_run:
        problems.append("no Odoo test ran")
    return tests_run - failed, failed, problems


def suites(args):
    """The runs asked for: (label, database, test tags, with demo data)."""
    standard = ("standard", DB_NAME, args.tags or f"/{ADDON}", False)
    demo = ("demo", DEMO_DB_NAME, args.tags or DEMO_TAGS, True)
    if args.demo:
        return [demo]
    return [standard] if args.tags else [standard, demo]


def run_suites(odoo, directory, runs):
    """Run each of ``runs`` in the cluster of ``directory``; return
    (label, (status, log lines)) of each run, up to a Ctrl-C."""
    results = []
    with Cluster(directory) as cluster:
        for label, db_name, tags, demo in runs:
            log_file = directory / ("odoo-demo.log" if demo else "odoo.log")
            installed = cluster.has_database(db_name)
            try:
                result = run_odoo(
                    odoo, cluster, not installed, tags, log_file, db_name, demo
                )
            except KeyboardInterrupt:
                results.append((label, (-signal.SIGINT, [])))
                break
            results.append((label, result))
    return results


def report(results):
    """Print each run's problems and the counts; return the exit status."""
    summary = []
    for label, (returncode, lines) in results:
        passed, failed, problems = verdict(returncode, lines)
        if problems:
            print(f"\nOdoo suite problems ({label}):")
            for problem in problems:
                print(f"  {problem}")
            failed = max(failed, 1)
        summary.append((label, passed, failed))
    if len(summary) > 1:
        print()
        for label, passed, failed in summary:
            print(f"odoo ({label}): {passed} passed, {failed} failed")
    passed = sum(passed for _label, passed, _failed in summary)
    failed = sum(failed for _label, _passed, failed in summary)
    print(f"odoo: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tags",
        help=f"Odoo --test-tags of one run (default: /{ADDON}, then {DEMO_TAGS} "
        "in the demo database)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="only the demo story, in a database installed with demo data",
    )
    parser.add_argument(
        "--reuse", metavar="DIR", help="keep the cluster and databases in DIR"
    )
    args = parser.parse_args(argv)
    odoo = import_odoo("Odoo suite not run: 'import odoo' fails for this Python.")
    if odoo is None:
        return 0

    with work_dir(args.reuse, "sophos_ppu_odoo_") as directory:
        results = run_suites(odoo, directory, suites(args))
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
