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
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDON = "sophos_ppu"
DB_NAME = "ppu_suite"
# The demo story's test runs alone in a database installed with demo data.
DEMO_DB_NAME = "ppu_suite_demo"
DEMO_TAGS = "sophos_ppu_demo"
DB_USER = "odoo"
PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
#: A served Odoo runs the month-end through OCA queue_job: its job runner
#: (a thread of the main process) needs the module loaded server-wide and a
#: capacity for the channel of the addon's jobs (data/queue_job_data.xml).
SERVER_WIDE_MODULES = "base,web,queue_job"
JOB_CHANNEL = "root.sophos_ppu"

RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
LOG_RE = re.compile(r"^\S+ \S+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>\S+): ")
SKIP_MARKERS = (
    " skipped ",
    "websocket-client module is not installed",
    "Chrome executable not found",
    "Failed to detect chrome devtools port",
)


def pg_tool(name):
    for bin_dir in PG_BIN_DIRS:
        if (bin_dir / name).exists():
            return str(bin_dir / name)
    found = shutil.which(name)
    if not found:
        sys.exit(f"PostgreSQL server binary '{name}' not found: run 'make install'.")
    return found


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres_user():
    """PostgreSQL refuses to run as root: drop to the 'postgres' account."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam("postgres")

    def demote():
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    return {"preexec_fn": demote, "owner": account}


class Cluster:
    """A private PostgreSQL cluster listening on a unix socket and a free port."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.data = self.directory / "pgdata"
        self.socket_dir = self.directory / "socket"
        self.port = free_port()
        self.user = as_postgres_user()

    def _run(self, *cmd):
        preexec = self.user.get("preexec_fn")
        subprocess.run(cmd, check=True, preexec_fn=preexec, stdout=subprocess.DEVNULL)

    def start(self, db_name=DB_NAME):
        """Start the cluster; return whether database ``db_name`` exists already."""
        fresh = not (self.data / "PG_VERSION").exists()
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            owner = self.user["owner"]
            for path in (self.directory, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        if fresh:
            self._run(
                pg_tool("initdb"), "-D", str(self.data), "-U", DB_USER,
                "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
            )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            pg_tool("pg_ctl"), "-D", str(self.data), "-o", options, "-w",
            "-l", str(self.directory / "postgresql.log"), "start",
        )  # fmt: skip
        return not fresh and self.has_database(db_name)

    def has_database(self, db_name=DB_NAME):
        query = f"SELECT 1 FROM pg_database WHERE datname = '{db_name}'"
        found = subprocess.run(
            [pg_tool("psql"), "-h", str(self.socket_dir), "-p", str(self.port),
             "-U", DB_USER, "-d", "postgres", "-Atc", query],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return found.stdout.strip() == "1"

    def stop(self):
        self._run(pg_tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


def queue_job_channels(capacity):
    """queue_job's ``channels`` setting (``[queue_job] channels`` or
    ``ODOO_QUEUE_JOB_CHANNELS``): ``capacity`` jobs of the addon at once."""
    return f"root:{capacity},{JOB_CHANNEL}:{capacity}"


def addons_path(odoo):
    root = Path(odoo.__file__).resolve().parent
    paths = [root / "addons", root.parent / "addons", REPO]
    return ",".join(str(path) for path in paths if path.is_dir())


def run_odoo(odoo, cluster, install, test_tags, log_file, db_name=DB_NAME, demo=False):
    cmd = [
        sys.executable, "-m", "odoo",
        f"--addons-path={addons_path(odoo)}",
        f"--db_host={cluster.socket_dir}", f"--db_port={cluster.port}",
        f"--db_user={DB_USER}", f"--database={db_name}",
        f"--db-filter=^{db_name}$",
        f"--http-port={free_port()}", "--gevent-port=0",
        # The filestore beside the cluster: runs at once never share one.
        f"--data-dir={cluster.directory / 'data'}",
        *([] if demo else ["--without-demo=all"]),
        "--stop-after-init", "--log-level=test",
        "--test-enable", f"--test-tags={test_tags}",
        "--init" if install else "--update", ADDON,
    ]  # fmt: skip
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
    try:
        import odoo
    except ImportError:
        print("Odoo suite not run: 'import odoo' fails for this Python.")
        return 0

    work_dir = Path(args.reuse or tempfile.mkdtemp(prefix="sophos_ppu_odoo_"))
    work_dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(work_dir)
    cluster.start()
    results = []
    try:
        for label, db_name, tags, demo in suites(args):
            log_file = work_dir / ("odoo-demo.log" if demo else "odoo.log")
            installed = cluster.has_database(db_name)
            try:
                result = run_odoo(
                    odoo, cluster, not installed, tags, log_file, db_name, demo
                )
            except KeyboardInterrupt:
                results.append((label, (-signal.SIGINT, [])))
                break
            results.append((label, result))
    finally:
        cluster.stop()
        if not args.reuse:
            shutil.rmtree(work_dir, ignore_errors=True)

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


if __name__ == "__main__":
    sys.exit(main())
