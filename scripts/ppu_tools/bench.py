"""What the benchmarks share: their database installed once in a kept
directory, queue_job's jobs run in this process as its runner runs them,
and peak memory."""

import resource

from ppu_tools import ADDON
from ppu_tools.month_data import DB_NAME
from ppu_tools.odoo_cli import install

#: Batch states while the import works in the background.
RUNNING = ("importing", "invoicing")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def install_once(odoo, cluster, update, announce=True):
    """Install the addon and base_import in the benchmarks' database the
    first time (a marker in the cluster's directory says it is done);
    afterwards update the addon if ``update`` (its code may have changed)."""
    marker = cluster.directory / "installed"
    if not marker.exists():
        print("installing sophos_ppu and base_import ...", flush=True)
        install(odoo, cluster, DB_NAME, f"{ADDON},base_import")
        marker.touch()
    elif update:
        if announce:
            print("updating sophos_ppu ...", flush=True)
        install(odoo, cluster, DB_NAME, update=True)


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
        if batch.state not in RUNNING:
            return jobs
        record = Queue.search([("state", "=", "pending")], order="id", limit=1)
        if not record:
            raise RuntimeError(f"{batch.name} is {batch.state} with no job left")
        perform_job(env, record.uuid)
        env.cr.commit()
        jobs += 1
