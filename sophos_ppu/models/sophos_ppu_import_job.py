# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Background work of a batch as OCA queue_job jobs: reading and checking its
file, checking it again, and invoicing it.

A run is a sequence of steps (``RUNS``). Each step is split into units
(``STEPS``), each run by one job in its own transaction: the units of a
sequential step one after the other (a chain), those of the invoicing step
all at once (a group), by as many workers on as many Odoo servers as the
channel ``root.sophos_ppu`` allows. After the units of a step, one job
(``_ppu_job_next``) plans the next step or ends the run. Small batches run
the same steps inline, in the user's request.

Every job carries its run's number and does nothing once that run has ended
(finished, failed, cancelled). Units never write their batch (parallel units
would conflict on its row); they end by reading it ``FOR SHARE``: a stop
(failure or cancel) that committed meanwhile makes them fail to serialize,
queue_job runs them again, and they then do nothing. The undo of a stopped
run (``_ppu_job_undo``) runs after the stop committed, so it sees every unit
that committed before it. A worker killed mid-unit loses that unit's
transaction only; queue_job runs the unit again.
"""

import gzip
import json
import logging
from dataclasses import dataclass
from datetime import date

from psycopg2 import errors as pg_errors

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from odoo.addons.queue_job.delay import chain, group
from odoo.addons.sophos_ppu.core import ConsumptionFileError, read_consumption_file
from odoo.addons.sophos_ppu.core.row import LINE_DATES

from ..tools.billing_guard import trusted

_logger = logging.getLogger(__name__)

#: States of a batch with background work going on.
RUNNING = ("importing", "invoicing")
#: Rows of the file checked and stored per unit.
CREATE_CHUNK = 5000
#: Stored rows checked again per unit.
CHECK_CHUNK = 10000
#: Invoice lines per unit of invoicing (whole invoices, at least one).
INVOICE_UNIT_LINES = 2000
#: Work small enough for the user's request: files up to this size are
#: imported, and batches up to this many rows checked or invoiced, inline.
INLINE_FILE_BYTES = 100_000
INLINE_ROWS = 2000
#: Errors of concurrent transactions: queue_job runs the job again.
CONCURRENCY_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
)


@dataclass(frozen=True)
class Step:
    """One step of a run: ``plan`` lists its units (JSON values), ``run``
    does one unit and returns the rows it did; units of a ``parallel`` step
    run at once, the others in order."""

    plan: str
    run: str
    parallel: bool = False


#: The steps, by the batch's ``job_step``; their methods are below.
STEPS = {
    "read": Step(plan="_ppu_plan_once", run="_ppu_read_file"),
    "create": Step(plan="_ppu_plan_create", run="_ppu_create_rows"),
    "check": Step(plan="_ppu_plan_check", run="_ppu_check_again"),
    "learn": Step(plan="_ppu_plan_once", run="_ppu_learn"),
    "invoice": Step(plan="_ppu_plan_invoices", run="_ppu_invoice_unit", parallel=True),
}
#: The runs, by the batch's ``job_kind``: their steps in order.
RUNS = {
    "import": ("read", "create", "learn"),
    "check": ("check", "learn"),
    "invoice": ("check", "learn", "invoice"),
}


class SophosPpuImport(models.Model):
    _inherit = "sophos.ppu.import"

    # ------------------------------------------------------------------
    # Starting a run
    # ------------------------------------------------------------------

    @api.model
    def _ppu_import_file(self, file_bytes, filename, period_date, partner=None):
        """Create a batch from a consumption file and start reading it.

        A small file is read and checked now: when the core rejects it, a
        UserError says why and nothing is created. A large one is read in
        the background; if it proves unusable there, the batch is cancelled
        and says why."""
        with self.env.cr.savepoint():
            attachment = self.env["ir.attachment"].create(
                {"name": filename, "raw": file_bytes, "res_model": self._name}
            )
            with trusted():
                batch = self.create(
                    {
                        "company_id": self.env.company.id,
                        "period_date": period_date,
                        "partner_id": partner.id if partner else False,
                        "attachment_id": attachment.id,
                        "state": "draft",
                    }
                )
            attachment.res_id = batch.id
            batch._ppu_start("import", inline=len(file_bytes) <= INLINE_FILE_BYTES)
            if batch.state == "cancelled":  # read inline: refuse the upload
                raise UserError(batch.invoice_error)
        return batch

    def _ppu_start_check(self, kind="check"):
        """Check the unbilled rows again, then finish the check (``check``)
        or go on to the invoices (``invoice``)."""
        self.ensure_one()
        unbilled = self.env["sophos.ppu.import.line"].search_count(
            [("import_id", "=", self.id), ("billed", "=", False)]
        )
        self._ppu_start(kind, inline=unbilled <= INLINE_ROWS)

    def _ppu_start_invoicing(self, leave_errors):
        self._ppu_lock(nowait=True)  # before the write below, which would wait
        self._ppu_write({"job_leave_errors": leave_errors})
        self._ppu_start_check("invoice")

    def _ppu_start(self, kind, inline):
        """Start a run of ``kind`` (see RUNS): now, in the request, or as
        jobs. Refused, with a clear message, while another run holds the
        batch."""
        self._ppu_lock(nowait=True)
        first = RUNS[kind][0]
        self._ppu_write(
            {
                "state": "invoicing" if kind == "invoice" else "importing",
                "job_kind": kind,
                "job_step": first,
                "job_run": self.job_run + 1,
                "job_started": self.env.cr.now(),
                "job_done": 0,
                "progress_total": 0,
                "job_user_id": self.env.uid,
                "invoice_error": False,
            }
        )
        if inline:
            self._ppu_run_inline()
        else:
            self._ppu_enqueue_step(first)
            self._ppu_send_progress()

    def _ppu_lock(self, nowait=False):
        """Lock the batch row for this transaction. With ``nowait``, a second
        click while another run holds the batch gets a clear message instead
        of waiting; otherwise concurrency errors go up (queue_job runs the
        job again)."""
        query = SQL(
            "SELECT id FROM sophos_ppu_import WHERE id IN %s FOR NO KEY UPDATE%s",
            tuple(self.ids),
            SQL(" NOWAIT") if nowait else SQL(),
        )
        if not nowait:
            self.env.cr.execute(query)
            self.invalidate_recordset()
            return
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(query, log_exceptions=False)
        except CONCURRENCY_ERRORS as error:
            raise UserError(
                self.env._(
                    "%(name)s is being changed by another run right now: "
                    "wait for it to end, then try again.",
                    name=self[:1].name,
                )
            ) from error
        self.invalidate_recordset()

    def _ppu_run_inline(self):
        """Run every step now, each all or nothing, as the jobs would: a
        step that fails stops the run (what earlier steps checked stays)."""
        for step_name in RUNS[self.job_kind]:
            step = STEPS[step_name]
            try:
                with self.env.cr.savepoint():
                    self._ppu_write({"job_step": step_name})
                    for unit in getattr(self, step.plan)():
                        getattr(self, step.run)(unit)
            except Exception as error:  # noqa: BLE001 - all or nothing, say why
                _logger.info("%s stopped: %s", self.name, error, exc_info=True)
                self.env.invalidate_all()
                self._ppu_undo_run()
                self._ppu_end_stopped(self._ppu_error_text(error))
                return
        self._ppu_finish()

    def _ppu_running_notification(self):
        """Tell the user the batch goes on in the background, and show it."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "%(name)s goes on in the background: follow its progress "
                    "on the import; you will be notified when it ends.",
                    name=self.name,
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------
    # Jobs
    # ------------------------------------------------------------------

    def _ppu_enqueue_step(self, step_name):
        """Enqueue the units of a step, then the job that follows them."""
        step = STEPS[step_name]
        units = getattr(self, step.plan)()
        run = self.job_run
        self._ppu_write(
            {
                "job_step": step_name,
                "job_done": 0,
                "job_base": self._ppu_billed_count() if step.parallel else 0,
                "progress_total": sum(self._ppu_unit_size(unit) for unit in units),
            }
        )
        jobs = [
            self._ppu_delayable(f"{step_name} {number}")._ppu_job_unit(
                run, step_name, unit
            )
            for number, unit in enumerate(units, 1)
        ]
        after = self._ppu_delayable(f"{step_name} done")._ppu_job_next(run, step_name)
        if not jobs:
            after.delay()
        elif step.parallel:
            group(*jobs).on_done(after).delay()
        else:
            chain(*jobs, after).delay()

    def _ppu_delayable(self, what):
        return self.delayable(
            channel="root.sophos_ppu",
            description=f"{self.name}: {what}",
            identity_key=f"sophos.ppu.import,{self.id},{self.job_run},{what}",
        )

    @staticmethod
    def _ppu_unit_size(unit):
        """The rows a unit does: invoices (lists of row ids) or a count."""
        if isinstance(unit, list):
            return sum(len(rows) for rows in unit)
        return unit.get("size", 0) if isinstance(unit, dict) else 0

    def _ppu_job_unit(self, run, step_name, unit):
        """Run one unit of a step of run ``run``; nothing when that run has
        ended. A unit that fails stops the run."""
        batch = self._ppu_job_batch(run)
        if not batch:
            return "run ended: nothing done"
        step = STEPS[step_name]
        done = batch._ppu_attempt(run, lambda: getattr(batch, step.run)(unit))
        if done is None:
            return "failed: the run is stopped"
        batch._ppu_end_unit(0 if step.parallel else done)
        return f"{done} rows"

    def _ppu_job_next(self, run, step_name):
        """After the units of a step: enqueue the next step, or end the run."""
        batch = self._ppu_job_batch(run)
        if not batch:
            return "run ended: nothing done"
        steps = RUNS[batch.job_kind]
        following = steps.index(step_name) + 1
        if following < len(steps):
            outcome = batch._ppu_attempt(
                run, lambda: batch._ppu_enqueue_step(steps[following])
            )
        else:
            outcome = batch._ppu_attempt(run, batch._ppu_finish)
        batch._ppu_send_progress()
        return "failed: the run is stopped" if outcome is None else "done"

    def _ppu_attempt(self, run, work):
        """Call ``work`` in a savepoint and return what it returns (True for
        None); when it fails, stop run ``run``, say why and return None.
        Concurrency errors go up: queue_job runs the job again."""
        try:
            with self.env.cr.savepoint():
                result = work()
                self.env.flush_all()
        except CONCURRENCY_ERRORS:
            raise
        except Exception as error:  # noqa: BLE001 - all or nothing, say why
            _logger.info("%s stopped: %s", self.name, error, exc_info=True)
            self.env.invalidate_all()
            self._ppu_stop(run, self._ppu_error_text(error))
            return None
        return True if result is None else result

    def _ppu_job_batch(self, run):
        """The batch, as who started the run, when run ``run`` still goes on."""
        self.ensure_one()
        if self.state not in RUNNING or self.job_run != run or self.job_step == "undo":
            return self.browse()
        user = self.job_user_id if self.job_user_id.active else self.env.user
        return self.with_user(user).with_company(self.company_id)

    def _ppu_end_unit(self, rows_done):
        """End a unit: make sure its run still goes on (a stop committed
        meanwhile makes this fail to serialize: queue_job runs the unit
        again, which then does nothing), and count what a sequential unit
        did (parallel units never write their batch: their progress is the
        rows they billed)."""
        if rows_done:
            self._ppu_lock()
            self._ppu_write({"job_done": self.job_done + rows_done})
        else:
            self.env.cr.execute(
                SQL("SELECT id FROM sophos_ppu_import WHERE id = %s FOR SHARE", self.id)
            )
        self._ppu_send_progress()

    # ------------------------------------------------------------------
    # Plans and units of the steps
    # ------------------------------------------------------------------

    def _ppu_plan_once(self):
        return [{"size": 0}]

    def _ppu_read_file(self, unit):
        """Read the file and stage its rows for the units that check them."""
        try:
            result = read_consumption_file(
                self.attachment_id.raw,
                filename=self.filename,
                limits=self._ppu_limits(),
            )
        except ConsumptionFileError as error:
            raise UserError(
                self.env._(
                    "%(file)s cannot be imported: %(reason)s",
                    file=self.filename,
                    reason=error.message,
                )
            ) from error
        rows = self.env["sophos.ppu.import.line"]._ppu_values_from_result(
            result, self.company_id
        )
        staged = self.env["ir.attachment"].create(
            {
                "name": f"{self.name}-rows.json.gz",
                "raw": gzip.compress(
                    json.dumps(rows, default=str).encode(), compresslevel=1
                ),
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        self._ppu_write(
            {"file_format": result.file_format, "job_rows_attachment_id": staged.id}
        )
        return 0

    def _ppu_plan_create(self):
        count = len(self._ppu_staged_rows())
        return [
            {"start": start, "size": min(CREATE_CHUNK, count - start)}
            for start in range(0, count, CREATE_CHUNK)
        ]

    def _ppu_create_rows(self, unit):
        """Check staged rows and store them as lines."""
        start = unit["start"]
        chunk = self._ppu_staged_rows()[start : start + unit["size"]]
        vals_list = [
            dict(row, **check)
            for row, check in zip(chunk, self._ppu_check_rows(chunk), strict=True)
        ]
        self.env["sophos.ppu.import.line"]._ppu_create_for(self, vals_list)
        return len(chunk)

    def _ppu_plan_check(self):
        """Ranges of the unbilled rows, in row order."""
        numbers = [
            row["row_number"]
            for row in self.env["sophos.ppu.import.line"].search_read(
                [("import_id", "=", self.id), ("billed", "=", False)],
                ["row_number"],
                order="row_number, id",
            )
        ]
        return [
            {"after_row": chunk[0] - 1, "size": len(chunk)}
            for chunk in split_every(CHECK_CHUNK, numbers, list)
        ]

    def _ppu_check_again(self, unit):
        return len(self._ppu_recheck(after_row=unit["after_row"], limit=unit["size"]))

    def _ppu_learn(self, unit):
        """Record the identifiers the check learnt; before invoicing, stop
        on rows in error unless ops chose to leave them."""
        self._ppu_learn_identifiers()
        if self.job_kind == "invoice" and not self.job_leave_errors:
            errors = self.env["sophos.ppu.import.line"].search_count(
                [("import_id", "=", self.id), ("state", "=", "error")]
            )
            if errors:
                raise UserError(self._ppu_errors_text(errors))
        return 0

    # ------------------------------------------------------------------
    # Ending a run
    # ------------------------------------------------------------------

    def _ppu_finish(self):
        state = "invoiced" if self.job_kind == "invoice" else "checked"
        self._ppu_write({"state": state, "job_step": False})
        self._ppu_drop_staged_rows()
        self._ppu_notify_summary()
        if state == "checked":
            message = self.env._(
                "%(name)s is checked: %(ok)s rows billable, %(errors)s in "
                "error, %(duplicates)s duplicates.",
                name=self.name,
                ok=self.ok_count,
                errors=self.error_count,
                duplicates=self.duplicate_count,
            )
        else:
            message = self.env._(
                "%(name)s: %(count)s draft invoices created.",
                name=self.name,
                count=self.invoice_count,
            )
        self._ppu_notify_user("success", message)

    def _ppu_stop(self, run, reason):
        """Stop run ``run`` for ``reason``: record it at once (every other
        unit of the run then does nothing) and undo what the run made in a
        job of its own, which runs once this transaction has committed."""
        self._ppu_lock()
        if self.state not in RUNNING or self.job_run != run:
            return
        self._ppu_write({"job_step": "undo", "invoice_error": reason})
        self._ppu_delayable("undo")._ppu_job_undo(run).delay()
        self._ppu_send_progress()

    def _ppu_job_undo(self, run):
        """Undo what stopped run ``run`` made, all or nothing for users: the
        rows of an import that could not finish, the draft invoices of an
        invoicing (only those of this run: invoices of earlier runs, posted
        or not, stay); then say why."""
        if self.job_run != run or self.job_step != "undo":
            return "nothing to undo"
        self._ppu_lock()
        if self.state == "cancelled":
            self._ppu_drop_drafts()
            self._ppu_send_progress()
            return "cancelled"
        self._ppu_undo_run()
        self._ppu_end_stopped(self.invoice_error)
        return "undone"

    def _ppu_undo_run(self):
        if self.job_kind == "import":
            self.line_ids._ppu_unlink()
        elif self.job_kind == "invoice":
            self._ppu_run_invoices().sudo().with_context(ppu_job_cleanup=True).unlink()

    def _ppu_run_invoices(self):
        """The draft invoices the current run made."""
        return self.env["account.move"].search(
            [
                ("ppu_import_id", "=", self.id),
                ("state", "=", "draft"),
                ("create_date", ">=", self.job_started),
            ]
        )

    def _ppu_end_stopped(self, reason):
        """The batch after a stopped run: a file that cannot be imported
        cancels its batch; a check or an invoicing leaves it checked."""
        if self.job_kind == "invoice":
            reason = self.env._("No invoice was created: %(error)s", error=reason)
        state = "cancelled" if self.job_kind == "import" else "checked"
        self._ppu_write({"state": state, "job_step": False, "invoice_error": reason})
        self._ppu_drop_staged_rows()
        self.message_post(body=reason)
        self._ppu_notify_user("danger", reason)
        self._ppu_send_progress()

    def _ppu_error_text(self, error):
        """What users are told of an error that stopped a run."""
        if getattr(error, "pgcode", None) == "23505":  # unique_violation
            return self.env._(
                "some rows were billed by another import meanwhile; check the "
                "import again."
            )
        if isinstance(error, UserError):
            return str(error.args[0])
        if isinstance(error, CONCURRENCY_ERRORS):
            return self.env._(
                "another transaction was changing the same rows; try again "
                "in a moment."
            )
        detail = f"{type(error).__name__}: {error}"
        return self.env._(
            "unexpected error %(error)s (details in the server log).", error=detail
        )

    def _ppu_notify_user(self, level, message):
        """An Odoo notification to who started the run, opening the batch."""
        user = self.job_user_id
        if not user or user.share:
            return
        user.partner_id._bus_send(
            "account_notification",
            {
                "type": level,
                "sticky": level == "danger",
                "title": self.name,
                "message": message,
                "action_button": {
                    "name": self.env._("Open"),
                    "action_name": self.name,
                    "model": self._name,
                    "res_ids": self.ids,
                },
            },
        )

    # ------------------------------------------------------------------
    # Progress and retries
    # ------------------------------------------------------------------

    def _ppu_jobs(self):
        """The queue jobs of the current run."""
        self.ensure_one()
        return (
            self.env["queue.job"]
            .sudo()
            .search(
                [
                    (
                        "identity_key",
                        "=like",
                        f"sophos.ppu.import,{self.id},{self.job_run},%",
                    )
                ]
            )
        )

    def _ppu_billed_count(self):
        return self.env["sophos.ppu.import.line"].search_count(
            [("import_id", "=", self.id), ("billed", "=", True)]
        )

    @api.depends("job_step", "job_done", "job_base", "progress_total")
    def _compute_progress(self):
        """Rows done: counted by the sequential units, and for invoicing the
        rows billed since it began (its units run at once)."""
        for batch in self:
            done = batch.job_done
            if batch.job_step in STEPS and STEPS[batch.job_step].parallel:
                done = batch._ppu_billed_count() - batch.job_base
            batch.progress_done = done
            batch.progress = (
                100.0 * done / batch.progress_total if batch.progress_total else 0.0
            )

    @api.depends("job_step", "job_done")
    def _compute_job_health(self):
        """How often the run's units were run again, and whether the job
        queue gave one up (it failed every try: the run cannot end by
        itself; ops cancel the import, or requeue the job)."""
        for batch in self:
            jobs = batch._ppu_jobs() if batch.state in RUNNING else ()
            # queue_job counts the run that ended a job among its tries
            batch.job_retries = sum(
                job.retry - (job.state in ("done", "failed")) for job in jobs
            )
            failed = [job for job in jobs if job.state == "failed"]
            batch.job_given_up = bool(failed) and self.env._(
                "The job queue gave up %(job)s after %(tries)s tries (%(error)s): "
                "cancel the import and start again, or requeue the job under "
                "Settings > Technical > Job Queue.",
                job=failed[0].name,
                tries=failed[0].retry,
                error=failed[0].exc_message or failed[0].exc_name or "-",
            )

    # ------------------------------------------------------------------
    # Staged rows
    # ------------------------------------------------------------------

    def _ppu_staged_rows(self):
        """The rows the read step staged, kept in memory per worker while
        its units run (the staged file never changes)."""
        attachment = self.job_rows_attachment_id
        key = (self.env.cr.dbname, attachment.id, attachment.checksum)
        if _staged_cache.get("key") != key:
            rows = json.loads(gzip.decompress(attachment.raw))
            for row in rows:
                for name in LINE_DATES:
                    if row.get(name):
                        row[name] = date.fromisoformat(row[name])
            _staged_cache.clear()
            _staged_cache.update(key=key, rows=rows)
        return _staged_cache["rows"]

    def _ppu_drop_staged_rows(self):
        staged = self.job_rows_attachment_id
        if staged:
            self._ppu_write({"job_rows_attachment_id": False})
            staged.unlink()
            _staged_cache.clear()


# The staged rows of the batch this worker process imports.
_staged_cache = {}
