# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Posting a month of PPU invoices: in the background beyond a few thousand
lines, as queue_job units that several workers run at once.

Odoo posts with its own ``_post``: every invoice's lines are synchronised
again (taxes, payment terms, balance) on each write, about 0.2 to 0.5 s of
CPU per PPU invoice of 180 lines, so a month (500 invoices, 90 000 lines)
takes minutes, far beyond a request's limits (60 s of CPU, 120 s). The
invoice list's "Confirm Entries" (``validate.account.move``) posts a
selection holding up to ``PPU_POST_INLINE_LINES`` lines of PPU invoices at
once, as Odoo does. Beyond, it posts the other moves at once and hands the
PPU invoices to queue_job, in the channel ``root.sophos_ppu``
(``data/queue_job_posting_data.xml``):

1. ``_ppu_queue_posting``: marks the invoices (``ppu_posting_data``) and
   enqueues one graph: per journal, a chain of units of whole invoices of
   about ``POST_JOB_LINES`` lines (a journal numbers its entries one after
   the other), the journals' chains at once, then, when every unit is
   done, one final job;
2. ``_ppu_job_post`` (a unit, its own transaction, any worker): posts its
   invoices that are still drafts waiting in the queue with Odoo's
   ``_post``; an invoice Odoo refuses says why in its chatter and stays a
   draft; posting clears the mark and queues the statements
   (``account_move._ppu_queue_statements``);
3. ``_ppu_job_posted`` (the final job): notifies the accountant once, with
   the invoices Odoo refused, and clears their mark.

Every job runs as the user who enqueued it (queue_job stores the user with
the job, ``queue.job.user_id``): the accountant who confirmed. Nothing is
taken from ``ppu_posting_data``, which an accountant can write on a draft:
it is only the mark of an invoice waiting in the queue.
"""

import logging

from markupsafe import Markup
from psycopg2 import errors as pg_errors

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.delay import chain, group
from odoo.addons.queue_job.exception import RetryableJobError

_logger = logging.getLogger(__name__)

#: Lines of PPU invoices that "Confirm Entries" posts in the request.
PPU_POST_INLINE_LINES = 2000
#: Lines of whole invoices that one posting unit (one job) posts.
POST_JOB_LINES = 2000
#: Posting units go before the statements that posting queues (queue_job
#: runs lower numbers first; its default is 10): the accountant waits for
#: the posting, the statements follow.
POST_JOB_PRIORITY = 5


class AccountMove(models.Model):
    _inherit = "account.move"

    ppu_posting_data = fields.Json(
        copy=False,
        readonly=True,
        help="Set while the invoice waits to be posted in the background.",
    )

    def _ppu_lines_count(self):
        """Journal items of these moves (what posting costs)."""
        if not self:
            return 0
        return self.env["account.move.line"].search_count([("move_id", "in", self.ids)])

    def _ppu_queue_posting(self, soft=True):
        """Mark these drafts and enqueue their posting: per journal, units of
        about POST_JOB_LINES lines one after the other (Odoo numbers a
        journal's entries without gaps: units of one journal at once would
        take the same numbers), the journals at once, then the notification.
        The jobs run as the current user."""
        self._ppu_set_posting_data(True)
        chains = [
            chain(
                *(
                    chunk.delayable(
                        priority=POST_JOB_PRIORITY,
                        description=self.env._(
                            "Sophos PPU: post %(count)s invoices", count=len(chunk)
                        ),
                    )._ppu_job_post(soft=soft)
                    for chunk in journal_moves._ppu_posting_chunks()
                )
            )
            for journal_moves in self.grouped("journal_id").values()
        ]
        final = self.delayable(
            description=self.env._(
                "Sophos PPU: notify %(user)s that the invoices are posted",
                user=self.env.user.name,
            )
        )._ppu_job_posted()
        group(*chains).on_done(final).delay()

    def _ppu_posting_chunks(self):
        """These moves in order, cut into chunks of whole moves of about
        POST_JOB_LINES lines (at least one move each)."""
        counts = dict(
            self.env["account.move.line"]._read_group(
                [("move_id", "in", self.ids)], ["move_id"], ["__count"]
            )
        )
        chunks, chunk, lines = [], self.browse(), 0
        for move in self.sorted("id"):
            count = counts.get(move, 0)
            if chunk and lines + count > POST_JOB_LINES:
                chunks.append(chunk)
                chunk, lines = self.browse(), 0
            chunk |= move
            lines += count
        if chunk:
            chunks.append(chunk)
        return chunks

    def _ppu_set_posting_data(self, value):
        # A field no line depends on (see LINE_NEUTRAL_FIELDS).
        self.sudo().with_context(skip_is_manually_modified=True).write(
            {"ppu_posting_data": value}
        )

    def _ppu_job_post(self, soft=True):
        """A posting unit: post, as the job's user, these moves that are
        still drafts waiting in the queue (not posted by hand meanwhile),
        with Odoo's ``_post``; the moves Odoo refuses say why and stay
        marked for the final job to report."""
        moves = self._ppu_lock_waiting()
        moves.journal_id._ppu_lock_numbering()
        try:
            for company, company_moves in moves.grouped("company_id").items():
                company_moves.with_company(company).with_context(
                    ppu_statements_after_posting=True
                )._ppu_post_or_explain(soft)
            self.env.flush_all()
        except pg_errors.UniqueViolation as error:
            # A number taken by a posting that committed after this
            # transaction began: run again, after it.
            raise RetryableJobError(str(error), seconds=2) from error
        _logger.info("Posting in the background: %s invoices to post", len(moves))

    def _ppu_lock_waiting(self):
        """These moves still waiting to be posted, locked until this job's
        transaction ends (a second click's job waits, then finds them
        posted)."""
        return self._ppu_lock(["ppu_posting_data", "state"]).filtered(
            lambda move: move.state == "draft" and move.ppu_posting_data
        )

    def _ppu_post_or_explain(self, soft):
        """Post these moves together; if Odoo refuses, one by one, and the
        moves it refuses say why in their chatter."""
        try:
            with self.env.cr.savepoint():
                self._post(soft=soft)
            return
        except UserError:
            pass
        for move in self:
            try:
                with self.env.cr.savepoint():
                    move._post(soft=soft)
            except UserError as error:
                move.sudo().message_post(
                    body=Markup("%s<br/>%s")
                    % (
                        self.env._("This invoice could not be posted:"),
                        error.args[0] if error.args else str(error),
                    )
                )

    def _ppu_job_posted(self):
        """The final job, once every unit is done: enqueue the statements of
        the invoices posted, notify the job's user (who confirmed) once, and
        take the moves Odoo refused out of the queue."""
        moves = self.exists()
        refused = moves.filtered(
            lambda move: move.state == "draft" and move.ppu_posting_data
        )
        refused._ppu_set_posting_data(False)
        posted = moves.filtered(lambda move: move.state == "posted")
        posted._ppu_enqueue_statements()
        if refused:
            _logger.info("Posting in the background refused %s", refused)
            self._ppu_notify_refused(len(posted), len(self), refused)
        else:
            self._ppu_notify_posted(len(posted))

    def _ppu_notify_posted(self, count):
        self.env.user._bus_send(
            "simple_notification",
            {
                "type": "success",
                "title": self.env._("Invoices posted"),
                "message": self.env._(
                    "The %(count)s invoices you confirmed are posted; their "
                    "statements are being sent.",
                    count=count,
                ),
            },
        )

    def _ppu_notify_refused(self, posted, total, refused):
        self._ppu_notify_warning(
            self.env._("Invoices not posted"),
            self.env._(
                "%(posted)s of the %(total)s invoices you confirmed are "
                "posted; %(count)s could not be posted: each one says why "
                "in its chatter.",
                posted=posted,
                total=total,
                count=len(refused),
            ),
            refused,
            sticky=True,
        )
