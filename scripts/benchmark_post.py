#!/usr/bin/env python3
"""Benchmark posting a month of PPU invoices in one click, and their sending.

One command, from the repository root (Odoo 18 importable, PostgreSQL server
binaries installed, as for ``scripts/odoo_suite.py``)::

    python3 scripts/benchmark_post.py --rows 100000 --dir /tmp/ppu-post

The first run starts a PostgreSQL cluster in ``--dir``, installs
``sophos_ppu`` (``--update`` updates it in a kept cluster) and makes the
draft invoices of a month exactly as ``scripts/benchmark_import.py`` does
(its resellers, subscriptions and Sophos .xlsx of ``--rows`` rows: 100 000
rows are 500 invoices and about 90 000 lines), through the import wizard and
"Create invoices", and commits them. Every run then times, on those drafts
(or the first ``--invoices``), as the accountant and queue_job's workers
would run them in the server:

1. the invoice list's "Confirm Entries" dialog (``validate.account.move``:
   its defaults and the fields it shows);
2. its button ``validate_move``, flushed as the request's commit would:
   it posts at once up to 2 000 lines of PPU invoices and queues more for
   the background (``--inline``: Odoo's ``_post`` of them all in the
   request instead);
3. ``--post-runs`` posting jobs (-1: all; ``_ppu_job_post``: about 2 000
   lines of invoices each), then the final job that notifies the accountant
   once they are all done;
4. ``--send-runs`` sending jobs (-1: all; ``_ppu_job_send_statements``:
   ``STATEMENTS_PER_JOB`` invoices, their PDFs by wkhtmltopdf and their
   statement e-mails);

printing for each the seconds, the CPU seconds of the Odoo process (what a
worker's 60 s limit counts) and of wkhtmltopdf, and the SQL queries, then
rolls everything back, so that runs compare the very same work. The jobs run
here one after the other, each loaded from the database and run as the user
who enqueued it, as queue_job's runner does; in the server, the channel
``root.sophos_ppu`` runs as many at once as its capacity allows.
``--profile FILE`` writes the cProfile statistics of the click
(``--profile-step``: or of the first post or send run).
"""

import base64
import functools
import resource
import sys
import time

from ppu_tools import work_dir
from ppu_tools.bench import install_once, peak_rss_mb, perform_job, run_background
from ppu_tools.cluster import Cluster
from ppu_tools.month_data import DB_NAME, PERIOD, setup_data, write_file
from ppu_tools.odoo_cli import open_registry
from ppu_tools.options import month_parser


def cpu_seconds(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class Step:
    """Seconds, CPU seconds of this process (what a worker's CPU limit
    counts) and of its children (wkhtmltopdf), and SQL queries of a block,
    printed on exit."""

    def __init__(self, name, cr, extra=""):
        self.name, self.cr, self.extra = name, cr, extra

    def __enter__(self):
        self.queries = self.cr.sql_log_count
        self.cpu = cpu_seconds(resource.RUSAGE_SELF)
        self.children = cpu_seconds(resource.RUSAGE_CHILDREN)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.cpu = cpu_seconds(resource.RUSAGE_SELF) - self.cpu
        self.children = cpu_seconds(resource.RUSAGE_CHILDREN) - self.children
        self.query_count = self.cr.sql_log_count - self.queries
        if exc[0] is None:
            print(
                f"{self.name:<26} {self.seconds:7.2f} s  cpu {self.cpu:6.2f} s "
                f"(+{self.children:5.2f} s wkhtmltopdf) {self.query_count:6d} "
                f"queries  RSS {peak_rss_mb():4.0f} MB  {self.extra}",
                flush=True,
            )


def make_drafts(env, directory, args):
    """A month of draft PPU invoices from a file of ``args.rows`` rows."""
    cr = env.cr
    if not env["sophos.ppu.subscription"].search_count([]):
        setup_data(env, args.resellers, args.customers)
        cr.commit()
    file_path = directory / f"consumption-{args.rows}.xlsx"
    if not file_path.exists():
        write_file(file_path, args.rows, args.resellers, args.customers)
    started = time.perf_counter()
    wizard = env["sophos.ppu.import.wizard"].create(
        {
            "file": base64.b64encode(file_path.read_bytes()),
            "filename": file_path.name,
            "period_date": PERIOD,
        }
    )
    batch = env["sophos.ppu.import"].browse(wizard.action_import()["res_id"])
    cr.commit()
    run_background(env, batch)
    batch.with_context(ppu_leave_errors=True).action_create_invoices()
    cr.commit()
    run_background(env, batch)
    if not batch.invoice_ids:
        sys.exit(f"no invoice was made: {batch.invoice_error or batch.state}")
    print(
        f"drafts: {len(batch.invoice_ids)} invoices from {args.rows} rows in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )


def drafts(env, count):
    moves = env["account.move"].search(
        [("ppu_import_id", "!=", False), ("state", "=", "draft")], order="id"
    )
    return moves[:count] if count else moves


def timed_queueing(Move):
    """Wrap ``_ppu_queue_statements`` to add up the time it takes."""
    spent = {"seconds": 0.0}
    original = Move._ppu_queue_statements

    @functools.wraps(original)
    def wrapper(self):
        start = time.perf_counter()
        try:
            return original(self)
        finally:
            spent["seconds"] += time.perf_counter() - start

    Move._ppu_queue_statements = wrapper
    return spent


def profiled_call(call, env, path):
    """``call()`` and flush, under cProfile writing to ``path`` if given."""
    if not path:
        call()
        env.flush_all()
        return
    import cProfile

    profile = cProfile.Profile()
    profile.runcall(call)
    profile.runcall(env.flush_all)
    profile.dump_stats(path)


def timed_jobs(name, env, methods, runs, profile=None):
    """Time ``runs`` (all if negative) pending jobs of ``methods``, and the
    jobs they release; the first one under cProfile when ``profile`` is a
    path."""
    cr = env.cr
    Jobs = env["queue.job"].sudo()
    total = seconds = cpu = count = 0
    for _run in range(runs if runs >= 0 else 100_000):
        record = Jobs.search(
            [("state", "=", "pending"), ("method_name", "in", methods)],
            order="id",
            limit=1,
        )
        if not record:
            break
        # The final job notifies about the invoices the others posted.
        done = len(record.records) if record.method_name != "_ppu_job_posted" else 0
        with Step(f"{name} job {count + 1}", cr, record.method_name) as step:
            profiled_call(
                functools.partial(perform_job, env, record.uuid),
                env,
                not count and profile,
            )
        waiting = Jobs.search_count(
            [("state", "in", ("pending", "wait_dependencies"))]
            + [("method_name", "in", methods)]
        )
        print(
            f"  {done} invoices: {step.seconds / max(done, 1):.2f} s, "
            f"cpu {step.cpu / max(done, 1):.2f} s each, {waiting} jobs waiting",
            flush=True,
        )
        count += 1
        total += done
        seconds += step.seconds
        cpu += step.cpu
    if count:
        print(
            f"{name}: {count} jobs ({total} invoices) in {seconds:.1f} s "
            f"(cpu {cpu:.1f} s)",
            flush=True,
        )


def run(args):
    import odoo
    from odoo import SUPERUSER_ID, api

    with (
        work_dir(args.dir, "ppu_post_") as directory,
        Cluster(directory) as cluster,
    ):
        install_once(odoo, cluster, args.update)
        registry = open_registry(odoo, cluster, DB_NAME)
        spent = timed_queueing(registry["account.move"])
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            if not drafts(env, 0):
                make_drafts(env, directory, args)
                cr.execute("ANALYZE")
            # As the accountant: an internal user with accounting rights.
            accountant = env.ref("base.user_admin")
            env = api.Environment(cr, accountant.id, {})
            profile = dict.fromkeys(["click", "post", "send"])
            profile[args.profile_step] = args.profile
            time_click(env, args, spent, profile["click"])
            # As queue_job's runner runs them: each job as its own user.
            timed_jobs(
                "post",
                env,
                ["_ppu_job_post", "_ppu_job_posted"],
                args.post_runs,
                profile["post"],
            )
            timed_jobs(
                "send",
                env,
                ["_ppu_job_send_statements"],
                args.send_runs,
                profile["send"],
            )
            cr.rollback()


def time_click(env, args, spent, profile):
    """The "Confirm Entries" dialog and its button on the drafts."""
    cr = env.cr
    moves = drafts(env, args.invoices)
    lines = env["account.move.line"].search_count(
        [("move_id", "in", moves.ids), ("display_type", "=", "product")]
    )
    label = f"{len(moves)} invoices, {lines} lines"
    env.invalidate_all()
    with Step("Confirm Entries dialog", cr, label):
        wizard = (
            env["validate.account.move"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({})
        )
        wizard.read(
            ["move_ids", "display_force_post", "is_entries"]
            + ["abnormal_date_partner_ids", "abnormal_amount_partner_ids"]
        )
    env.invalidate_all()
    click = wizard.validate_move
    if args.inline:
        click = functools.partial(moves._post, soft=True)
    with Step("validate_move (the click)", cr, label):
        profiled_call(click, env, profile)
    posted = moves.filtered(lambda move: move.state == "posted")
    print(
        f"  {len(posted)} posted, "
        f"{len(moves.filtered('ppu_posting_data'))} queued for posting, "
        f"{len(posted.filtered('sending_data'))} statements queued "
        f"(in {spent['seconds']:.3f} s)",
        flush=True,
    )


def main(argv=None):
    parser = month_parser(__doc__, rows=100_000)
    parser.add_argument("--invoices", type=int, default=0, help="only the first N")
    parser.add_argument(
        "--inline", action="store_true", help="post everything in the click"
    )
    parser.add_argument(
        "--update", action="store_true", help="update the addon in a kept --dir"
    )
    parser.add_argument(
        "--post-runs", type=int, default=3, help="posting jobs to run (-1: all)"
    )
    parser.add_argument(
        "--send-runs", type=int, default=1, help="sending jobs to run (-1: all)"
    )
    parser.add_argument("--profile", help="write cProfile stats of one step")
    parser.add_argument(
        "--profile-step",
        choices=["click", "post", "send"],
        default="click",
        help="the step --profile profiles (post, send: their first job)",
    )
    parser.add_argument(
        "--dir", help="cluster directory, kept for the next run (else a temporary one)"
    )
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
