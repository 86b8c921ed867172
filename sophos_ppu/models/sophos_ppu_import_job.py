# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Background work of a batch: reading and checking its file, checking it
again and invoicing it, in chunks that each run in their own transaction.

A scheduled action (``ir_cron_ppu_import_jobs``) runs one chunk per call
and reports its progress, so Odoo calls it again at once while work
remains; small batches run the same chunks inline, in the user's request.
Each chunk locks and writes its batch row: a worker killed mid-chunk loses
that chunk only (the next run resumes from what is stored), two runs never
work on one batch at once, and a cancel waits for the running chunk.
"""

import gzip
import json
import logging
from datetime import date

from psycopg2 import errors as pg_errors

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.sophos_ppu.core import ConsumptionFileError, read_consumption_file

from .billing_guard import trusted
from .cron_run import CronRun

_logger = logging.getLogger(__name__)

#: States of a batch with background work going on.
RUNNING = ("importing", "invoicing")
#: Rows of the file checked and stored per chunk.
CREATE_CHUNK = 5000
#: Stored rows checked again per chunk.
CHECK_CHUNK = 10000
#: Invoice lines created per chunk (whole resellers, at least one).
INVOICE_CHUNK = 4000
#: Work small enough for the user's request: files up to this size are
#: imported, and batches up to this many rows checked or invoiced, inline.
INLINE_FILE_BYTES = 100_000
INLINE_ROWS = 2000
#: Errors of concurrent transactions: the chunk is simply run again.
CONCURRENCY_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
)
#: Line fields the staged rows keep as dates.
DATE_FIELDS = ("start_date", "end_date")

# This worker's current run of the scheduled action.
_run = CronRun()


class SophosPpuImport(models.Model):
    _inherit = "sophos.ppu.import"

    # ------------------------------------------------------------------
    # Starting work
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
                        "state": "importing",
                    }
                )
            attachment.res_id = batch.id
            inline = len(file_bytes) <= INLINE_FILE_BYTES
            batch._ppu_start("importing", "read", total=0, inline=inline)
            if batch.state == "cancelled":  # read inline: refuse the upload
                raise UserError(batch.invoice_error)
        return batch

    def _ppu_start_check(self, state="importing"):
        """Check the unbilled rows again, then finish the check (importing)
        or go on to the invoices (invoicing)."""
        self.ensure_one()
        total = self.env["sophos.ppu.import.line"].search_count(
            [("import_id", "=", self.id), ("billed", "=", False)]
        )
        self._ppu_start(state, "check", total, inline=total <= INLINE_ROWS)

    def _ppu_start_invoicing(self, leave_errors):
        self._ppu_write({"job_leave_errors": leave_errors})
        self._ppu_start_check("invoicing")

    def _ppu_start(self, state, step, total, inline):
        self._ppu_write(
            {
                "state": state,
                "job_step": step,
                "job_cursor": 0,
                "progress_done": 0,
                "progress_total": total,
                "job_user_id": self.env.uid,
                "invoice_error": False,
            }
        )
        if inline:
            while self.state in RUNNING:
                self._ppu_run_step(inline=True)
        else:
            self._ppu_trigger()

    @api.model
    def _ppu_trigger(self):
        self.env.ref("sophos_ppu.ir_cron_ppu_import_jobs")._trigger()

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
    # The scheduled action
    # ------------------------------------------------------------------

    @api.model
    def _ppu_run_jobs(self):
        """Run one chunk of the oldest running batch that no other worker
        holds, and report whether work remains (see ``cron_run``)."""
        _run.begin()
        batch = self._ppu_lock_next()
        if batch:
            user = batch.job_user_id if batch.job_user_id.active else self.env.user
            batch.with_user(user).with_company(batch.company_id)._ppu_run_step()
        remaining = self.search_count([("state", "in", RUNNING)])
        cron = self.env.ref("sophos_ppu.ir_cron_ppu_import_jobs")
        _run.report(cron, done=1 if batch else 0, remaining=remaining)

    @api.model
    def _ppu_lock_next(self):
        """The oldest running batch, locked for this transaction, that no
        other worker holds (one worker per batch at a time)."""
        query = SQL(
            "SELECT id FROM sophos_ppu_import WHERE state IN %s ORDER BY id "
            "LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED",
            RUNNING,
        )
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(query)
                row = self.env.cr.fetchone()
        except CONCURRENCY_ERRORS:
            # Changed by a transaction that committed after ours began.
            self._ppu_trigger()
            return self.browse()
        return self.browse(row[0]) if row else self.browse()

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------

    def _ppu_run_step(self, inline=False):
        """Run one chunk of the batch's current step, in a savepoint: a
        chunk that fails for a data reason stops the run and says why. A
        chunk that meets a concurrent transaction runs again in the
        background; inline, the user is told to try again."""
        self.ensure_one()
        step = getattr(self, f"_ppu_step_{self.job_step}")
        try:
            with self.env.cr.savepoint():
                step()
                self.env.flush_all()
        except CONCURRENCY_ERRORS as error:
            self.env.invalidate_all()
            if inline:
                self._ppu_stop(error)
            else:
                self._ppu_trigger()  # run it again
        except Exception as error:  # noqa: BLE001 - all or nothing, say why
            _logger.info("%s stopped: %s", self.name, error, exc_info=True)
            self.env.invalidate_all()
            self._ppu_stop(error)

    def _ppu_step_read(self):
        """Read the file and stage its rows for the chunks that check them."""
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
            {
                "file_format": result.file_format,
                "job_rows_attachment_id": staged.id,
                "job_step": "create",
                "progress_total": len(rows),
            }
        )

    def _ppu_step_create(self):
        """Check the next staged rows and store them as lines."""
        rows = self._ppu_staged_rows()
        start = self.job_cursor
        chunk = rows[start : start + CREATE_CHUNK]
        Line = self.env["sophos.ppu.import.line"]
        vals_list = [
            dict(row, **check)
            for row, check in zip(chunk, self._ppu_check_rows(chunk), strict=True)
        ]
        Line._ppu_create_for(self, vals_list)
        done = start + len(chunk)
        self._ppu_write(
            {
                "job_cursor": done,
                "progress_done": done,
                "job_step": "create" if done < len(rows) else "learn",
            }
        )

    def _ppu_step_check(self):
        """Check the next stored rows again (in row order)."""
        rows = self._ppu_recheck(after_row=self.job_cursor, limit=CHECK_CHUNK)
        self._ppu_write(
            {
                "job_cursor": rows[-1]["row_number"] if rows else self.job_cursor,
                "progress_done": self.progress_done + len(rows),
                "job_step": "check" if len(rows) == CHECK_CHUNK else "learn",
            }
        )

    def _ppu_step_learn(self):
        """Record the identifiers the check learnt, then finish the check or
        go on to the invoices."""
        self._ppu_learn_identifiers()
        if self.state == "importing":
            self._ppu_finish()
            return
        errors = self.env["sophos.ppu.import.line"].search_count(
            [("import_id", "=", self.id), ("state", "=", "error")]
        )
        if errors and not self.job_leave_errors:
            raise UserError(self._ppu_errors_text(errors))
        total = self.env["sophos.ppu.import.line"].search_count(
            self._ppu_billable_domain()
        )
        if not total:
            raise UserError(self.env._("There is nothing to invoice in this import."))
        self._ppu_write(
            {"job_step": "invoice", "progress_done": 0, "progress_total": total}
        )

    def _ppu_step_invoice(self):
        """Invoice the next resellers; finish when none is left."""
        billed = self._ppu_invoice_next_resellers(INVOICE_CHUNK)
        if billed:
            self._ppu_write({"progress_done": self.progress_done + billed})
        else:
            self._ppu_finish()

    # ------------------------------------------------------------------
    # Ending
    # ------------------------------------------------------------------

    def _ppu_finish(self):
        state = "checked" if self.state == "importing" else "invoiced"
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

    def _ppu_stop(self, error):
        """Undo the run (all or nothing) and say why: a file that cannot be
        read cancels its batch, a check stops, an invoicing drops its
        drafts; the batch goes back to checked."""
        reason = self._ppu_error_text(error)
        state = "checked"
        if self.job_step in ("read", "create"):
            self.line_ids.sudo().unlink()
            state = "cancelled"
        elif self.state == "invoicing":
            reason = self.env._("No invoice was created: %(error)s", error=reason)
            self.invoice_ids.sudo().with_context(ppu_job_cleanup=True).unlink()
            self.line_ids.filtered("billed")._ppu_write({"billed": False})
        self._ppu_write({"state": state, "job_step": False, "invoice_error": reason})
        self._ppu_drop_staged_rows()
        self.message_post(body=reason)
        self._ppu_notify_user("danger", reason)

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
    # Staged rows
    # ------------------------------------------------------------------

    def _ppu_staged_rows(self):
        """The rows the read step staged, kept in memory per worker while
        its chunks run (the staged file never changes)."""
        attachment = self.job_rows_attachment_id
        key = (self.env.cr.dbname, attachment.id, attachment.checksum)
        if _staged_cache.get("key") != key:
            rows = json.loads(gzip.decompress(attachment.raw))
            for row in rows:
                for name in DATE_FIELDS:
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
