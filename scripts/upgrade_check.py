#!/usr/bin/env python3
"""Check that upgrading sophos_ppu keeps its billing data billed once.

From the repository root (Odoo 18 importable, PostgreSQL server binaries
installed, as for ``scripts/odoo_suite.py``)::

    python3 scripts/upgrade_check.py [--base a17a2ad] [--keep DIR]

1. extracts the addon of ``--base`` (18.0.1.0.0) with ``git archive``;
2. starts a throwaway PostgreSQL cluster (``ppu_tools.cluster``), installs
   that old addon in a fresh database and, with the old code, bills a
   consumption file for October 2026 for one reseller (pricelist: 10 %
   discount): EU-1 +10, its correction EU-1 -3 (same service and dates),
   a standalone correction EU-2 -2 and EU-2 +5 on other dates;
3. upgrades to the working tree's addon (``-u sophos_ppu``) and checks that
   the log has no error and that the 18.0.1.1.0 migration ran;
4. with the new code, checks the billed rows and their consumption keys,
   uploads the same file again and checks that only the correction the old
   version dropped (EU-1 -3) is billed, as one credit note, and that no
   consumption key is billed twice.

Each Odoo step runs in its own process (the old and the new addon cannot be
loaded in one). It prints every check, a table of the rows before and after
and ``upgrade check: N passed, N failed``; exits 1 when a check failed. Where
``import odoo`` fails or the base commit is not in the repository it prints
one line saying so and exits 0. ``--keep DIR`` keeps the cluster (stopped),
the database ``ppu_upgrade``, the logs and the file in DIR.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ppu_tools import ADDON, REPO, work_dir
from ppu_tools.cluster import Cluster, free_port
from ppu_tools.odoo_cli import (
    LOG_RE,
    addons_path,
    error_records,
    import_odoo,
    log_records,
    odoo_options,
    run_logged,
)
from ppu_tools.upgrade_scenario import (
    BASE,
    COST,
    DB_NAME,
    FILENAME,
    NEW_VERSION,
    OLD_VERSION,
    PRICE,
    RESELLER,
    RESULT_MARK,
    STEPS,
    print_table,
    run_step,
)


def at_least(version, minimum):
    """'18.0.1.2.0' is at least '18.0.1.1.0'."""
    return tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))


MIGRATION_RE = re.compile(
    rf"module {ADDON}: Running migration \[{re.escape(NEW_VERSION)}>\] "
    r"post-migration"
)
ROWS_AFFECTED_RE = re.compile(
    r"OpenUpgrade: (\d+) rows affected after .*UPDATE sophos_ppu_import_line", re.S
)


# ----------------------------------------------------------------------
# The check, outside Odoo
# ----------------------------------------------------------------------


class Abort(Exception):
    """A check failed that the next steps depend on."""


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def expect(self, what, ok, got=None):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        detail = "" if ok or got is None else f"  (got {got})"
        print(f"  {'ok  ' if ok else 'FAIL'} {what}{detail}", flush=True)
        return ok

    def require(self, what, ok, got=None):
        if not self.expect(what, ok, got):
            raise Abort(what)


class Run:
    """The cluster, the work directory and the Odoo processes of one check."""

    def __init__(self, odoo, work_dir, checks, keep):
        self.odoo = odoo
        self.keep = keep
        self.work_dir = work_dir
        self.checks = checks
        self.cluster = Cluster(work_dir)
        self.old_addons = work_dir / "old"
        self.csv_path = work_dir / FILENAME

    def odoo_options(self, old):
        """Odoo's options for this check's database, with the old addon
        (``old``) or the repository's."""
        return odoo_options(
            self.odoo, self.cluster, DB_NAME,
            f"--data-dir={self.work_dir / 'data'}",
            f"--http-port={free_port()}", "--gevent-port=0",
            "--without-demo=all", "--stop-after-init", addons=self.addons(old),
        )  # fmt: skip

    def addons(self, old):
        """Odoo's addons and the old copy of the addon, or the repository."""
        if not old:
            return addons_path(self.odoo)
        paths = [p for p in addons_path(self.odoo).split(",") if Path(p) != REPO]
        return ",".join([*paths, str(self.old_addons)])

    def run(self, title, cmd, log_name):
        """Run ``cmd`` (output to a log file); return its status, log lines and
        the error lines of its log."""
        started = time.monotonic()
        log_file = self.work_dir / log_name
        returncode, lines = run_logged(cmd, log_file, cwd=self.work_dir)
        errors = error_records(lines)
        print(f"{title}: {time.monotonic() - started:.0f} s", flush=True)
        if returncode or errors:
            # The end of the errors (tracebacks included), else of the log.
            shown = "\n".join(errors).splitlines() if errors else lines
            for line in shown[-25:]:
                print(f"    | {line}")
            where = log_file if self.keep else "kept with --keep DIR"
            print(f"    ({len(errors)} error records; log: {where})")
        return returncode, lines, errors

    def odoo_cli(self, title, old, *options, log_name):
        cmd = [sys.executable, "-m", "odoo", *self.odoo_options(old)]
        returncode, lines, errors = self.run(title, [*cmd, *options], log_name)
        self.checks.require(f"{title}: Odoo exits 0", returncode == 0, returncode)
        self.checks.expect(f"{title}: no ERROR in the log", not errors, len(errors))
        return lines

    def step(self, title, name, old):
        cmd = [
            sys.executable, str(Path(__file__).resolve()),
            "--step", name, "--csv", str(self.csv_path), "--",
            *self.odoo_options(old), "--log-level=warn",
        ]  # fmt: skip
        returncode, lines, errors = self.run(title, cmd, f"step-{name}.log")
        results = [line for line in lines if line.startswith(RESULT_MARK)]
        self.checks.require(
            f"{title}: ran to its end", returncode == 0 and results, returncode
        )
        self.checks.expect(f"{title}: no ERROR in the log", not errors, len(errors))
        return json.loads(results[-1][len(RESULT_MARK) :])

    # -- the phases ----------------------------------------------------

    def prepare(self, base):
        reused = self.cluster.exists
        shutil.rmtree(self.old_addons, ignore_errors=True)
        shutil.rmtree(self.work_dir / "data", ignore_errors=True)
        self.old_addons.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", base, ADDON],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(
            ["tar", "-x", "-C", str(self.old_addons)], input=archive, check=True
        )
        old = manifest_version(self.old_addons / ADDON)
        new = manifest_version(REPO / ADDON)
        print(f"addon {old} ({base}) -> {new} (working tree)")
        self.checks.require(
            f"{base} holds {ADDON} {OLD_VERSION}", old == OLD_VERSION, old
        )
        self.checks.require(
            f"the working tree holds {ADDON} {NEW_VERSION} or later",
            at_least(new, NEW_VERSION),
            new,
        )
        self.cluster.start()
        if reused:  # a kept directory: start again from an empty database
            self.cluster.drop_database(DB_NAME)

    def before(self):
        self.odoo_cli(
            f"install {OLD_VERSION}", True, "-i", ADDON, "--log-level=warn",
            log_name="install-old.log",
        )  # fmt: skip
        facts = self.step(f"bill the file with {OLD_VERSION}", "before", True)
        checks, batch = self.checks, facts["batch"]
        checks.require(
            f"the old code ran ({OLD_VERSION} from {self.old_addons.name}/)",
            Path(facts["code"]).parent == self.old_addons
            and facts["version"] == OLD_VERSION,
            f"{facts['code']} {facts['version']}",
        )
        chart = facts["chart_before"] or f"none, loaded {facts['chart']}"
        checks.require(
            f"the company has a chart of accounts ({chart})",
            facts["chart"] and facts["sale_journal"],
            facts["chart"],
        )
        checks.require(
            "batch 1 invoiced", batch["state"] == "invoiced", batch["invoice_error"]
        )
        expected = {
            "EU-1 +10": ("ok", True),
            "EU-1 -3": ("duplicate", False),
            "EU-2 -2": ("ok", True),
            "EU-2 +5": ("ok", True),
        }
        expect_rows(checks, "batch 1", batch["rows"], expected)
        eu1_negative = batch["rows"].get("EU-1 -3", {})
        checks.expect(
            f"{OLD_VERSION} dropped EU-1 -3 as the same consumption as EU-1 +10",
            eu1_negative.get("message", "").startswith("Same consumption as row"),
            eu1_negative.get("message"),
        )
        total = round(PRICE * (10 - 2 + 5), 2)
        checks.expect(
            f"batch 1: one invoice of 13 x {PRICE} = {total}",
            [(m["type"], m["untaxed"]) for m in batch["invoices"]]
            == [("out_invoice", total)],
            [(m["type"], m["untaxed"]) for m in batch["invoices"]],
        )
        return facts

    def upgrade(self):
        lines = self.odoo_cli(
            f"upgrade to {NEW_VERSION}", False, "-u", ADDON, "--log-level=info",
            "--log-handler=OpenUpgrade:DEBUG", log_name="upgrade.log",
        )  # fmt: skip
        ran = any(MIGRATION_RE.search(line) for line in lines)
        self.checks.expect(f"the {NEW_VERSION} post-migration ran", ran)
        affected = [
            int(match[1])
            for record in log_records(lines)
            if (match := ROWS_AFFECTED_RE.search(record))
        ]
        self.checks.expect(
            "it rewrote the keys of the 2 negative rows of batch 1",
            affected == [2],
            affected,
        )
        warnings = [
            line
            for line in lines
            if (m := LOG_RE.match(line)) and m["level"] == "WARNING" and ADDON in line
        ]
        # Shown, not counted: only errors fail the upgrade.
        for line in warnings:
            text = re.sub(r"<[^>]+>", "", LOG_RE.match(line)["message"])
            print(f"    warning (see upgrade.log): {text[:150]}...")

    def after(self, before):
        facts = self.step(f"check and bill again with {NEW_VERSION}", "after", False)
        checks = self.checks
        checks.require(
            f"the new code ran ({NEW_VERSION} or later, from the repository)",
            Path(facts["code"]).parent == REPO
            and at_least(facts["version"], NEW_VERSION),
            f"{facts['code']} {facts['version']}",
        )
        self.check_first_batch(facts, before)
        self.check_second_batch(facts, before)
        checks.expect(
            "the ops order e-mail falls back to the end customer's e-mail, and "
            "stays noupdate",
            facts["ops_mail_falls_back"] and facts["ops_mail_noupdate"],
        )
        return facts

    def check_first_batch(self, facts, before):
        """Batch 1, billed by the old code, as the upgrade left it."""
        checks = self.checks
        checks.expect("one batch before the new upload", facts["batches_before"] == 1)
        old_rows, rows = before["batch"]["rows"], facts["first"]["rows"]
        billed_before = sorted(k for k, row in old_rows.items() if row["billed"])
        billed_after = sorted(k for k, row in rows.items() if row["billed"])
        checks.expect(
            "batch 1: the billed rows are still billed, no other",
            billed_after == billed_before,
            billed_after,
        )
        for name, suffix in (("EU-1 +10", ""), ("EU-2 +5", ""), ("EU-2 -2", "|-2")):
            old_key = old_rows.get(name, {}).get("key")
            new_key = rows.get(name, {}).get("key")
            checks.expect(
                f"batch 1: key of {name} "
                + (f"is the old key + '{suffix}'" if suffix else "unchanged"),
                bool(old_key) and new_key == f"{old_key}{suffix}",
                new_key,
            )
        close = {
            name: [
                round(quantity * float(COST), 2),
                "billed" if billed else "duplicate",
                round(quantity * (PRICE - float(COST)), 2) if billed else 0.0,
            ]
            for name, quantity, billed in (
                ("EU-1 +10", 10, True),
                ("EU-1 -3", -3, False),
                ("EU-2 -2", -2, True),
                ("EU-2 +5", 5, True),
            )
        }
        checks.expect(
            "batch 1: every row has its cost, month-close status and margin "
            "(18.0.1.4.0 migration)",
            facts["first_close"] == close,
            facts["first_close"],
        )
        checks.expect(
            "batch 1: still invoiced, its invoice unchanged",
            facts["first"]["state"] == "invoiced"
            and facts["first"]["invoices"] == before["batch"]["invoices"],
            facts["first"]["state"],
        )

    def check_second_batch(self, facts, before):
        """Batch 2, the same file uploaded again with the new code."""
        checks = self.checks
        second = facts["second"]
        expected = {
            "EU-1 +10": ("duplicate", False),
            "EU-1 -3": ("ok", True),
            "EU-2 -2": ("duplicate", False),
            "EU-2 +5": ("duplicate", False),
        }
        checked = {name: (state, False) for name, (state, _) in expected.items()}
        expect_rows(checks, "batch 2 checked", facts["second_checked"], checked)
        for name in ("EU-1 +10", "EU-2 -2", "EU-2 +5"):
            message = facts["second_checked"].get(name, {}).get("message", "")
            checks.expect(
                f"batch 2: {name} already billed by batch 1",
                message.startswith("Already billed by import")
                and before["batch"]["name"] in message,
                message,
            )
        checks.expect(
            "batch 2 invoiced", second["state"] == "invoiced", second["invoice_error"]
        )
        expect_rows(checks, "batch 2 invoiced", second["rows"], expected)
        refund = round(-3 * PRICE, 2)
        got = [(m["type"], m["partner"], m["untaxed"]) for m in facts["new_moves"]]
        checks.expect(
            f"batch 2: exactly one new move, a credit note of -3 x {PRICE} = {refund}"
            " for the reseller",
            got == [("out_refund", RESELLER, refund)]
            and [(m["type"], m["untaxed"]) for m in second["invoices"]]
            == [("out_refund", refund)],
            got,
        )
        checks.expect(
            "no consumption key billed twice",
            not facts["double_billed"],
            facts["double_billed"],
        )


def manifest_version(addon_dir):
    manifest = (addon_dir / "__manifest__.py").read_text(encoding="utf-8")
    match = re.search(r"""["']version["']\s*:\s*["']([^"']+)""", manifest)
    return match[1] if match else None


def expect_rows(checks, title, rows, expected):
    for name, (state, billed) in expected.items():
        row = rows.get(name)
        got = row and (row["state"], row["billed"])
        checks.expect(
            f"{title}: {name} {state}{', billed' if billed else ', not billed'}",
            got == (state, billed),
            got,
        )


def commit_exists(base):
    found = subprocess.run(
        ["git", "-C", str(REPO), "cat-file", "-e", f"{base}^{{commit}}"],
        capture_output=True,
    )
    return found.returncode == 0


def check(run, base):
    """Prepare, bill with the old code, upgrade, bill with the new code;
    return the facts before and after (None where it stopped earlier)."""
    before = after = None
    try:
        run.prepare(base)
        before = run.before()
        run.upgrade()
        after = run.after(before)
    except Abort as abort:
        print(f"stopped: {abort}")
    except (subprocess.CalledProcessError, OSError) as error:
        run.checks.expect("the check itself ran", False, error)
    finally:
        if run.cluster.running:
            run.cluster.stop()
    return before, after


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BASE, help=f"commit of {OLD_VERSION}")
    parser.add_argument(
        "--keep", metavar="DIR", help="keep the cluster, database and logs in DIR"
    )
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("odoo_options", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        return run_step(args.step, args.csv, args.odoo_options)
    odoo = import_odoo("Upgrade check not run: 'import odoo' fails for this Python.")
    if odoo is None:
        return 0
    if not commit_exists(args.base):
        print(f"Upgrade check not run: commit {args.base} is not in this repository.")
        return 0

    started = time.monotonic()
    checks = Checks()
    with work_dir(args.keep, "sophos_ppu_upgrade_") as directory:
        run = Run(odoo, directory.resolve(), checks, keep=bool(args.keep))
        before, after = check(run, args.base)
        if args.keep:
            print(f"kept in {directory} (cluster stopped, database {DB_NAME})")
    if before:
        print_table(before, after)
    print(f"took {time.monotonic() - started:.0f} s")
    print(f"upgrade: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
