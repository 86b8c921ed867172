# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""How long the addon's batched scheduled actions go on in one run.

Odoo calls a scheduled action again at once while it reports work remaining
(``ir.cron._notify_progress``), up to ten times per run, and a prefork cron
worker is killed past 60 s of CPU or 120 s of real time per run. A run
therefore hands over to a fresh one (with fresh limits) past its budget.
"""

import resource
import time

#: A run hands over past this many seconds, or with less CPU time left.
RUN_BUDGET_SECONDS = 40
CPU_MARGIN_SECONDS = 25


class CronRun:
    """The current run of one scheduled action in this worker process: the
    calls that follow each other within two seconds."""

    def __init__(self):
        self.started = self.last = 0.0

    def begin(self):
        """Mark the start of a call (of a new run after a pause)."""
        now = time.monotonic()
        if now - self.last > 2:
            self.started = now

    def report(self, cron, done, remaining):
        """End a call: report its progress to Odoo, wake the cron workers for
        what remains (between runs they sleep a minute unless woken), and
        end the run past its budget."""
        self.last = time.monotonic()
        if remaining:
            cron._trigger()
            if self._spent():
                remaining = 0
        cron.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    def _spent(self):
        if self.last - self.started > RUN_BUDGET_SECONDS:
            return True
        soft, _hard = resource.getrlimit(resource.RLIMIT_CPU)
        if soft == resource.RLIM_INFINITY:
            return False
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return soft - (usage.ru_utime + usage.ru_stime) < CPU_MARGIN_SECONDS
