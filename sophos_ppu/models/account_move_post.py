# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Posting a month of PPU invoices: in the background beyond a few thousand
lines.

Odoo posts with its own ``_post``: every invoice's lines are synchronised
again (taxes, payment terms, balance) on each write, about 0.2 to 0.5 s of
CPU per PPU invoice of 180 lines, so a month (500 invoices, 90 000 lines)
takes minutes, far beyond a request's limits (60 s of CPU, 120 s). The
invoice list's "Confirm Entries" (``validate.account.move``) posts a
selection holding up to ``PPU_POST_INLINE_LINES`` lines of PPU invoices at
once, as Odoo does. Beyond, it posts the other moves at once and queues the
PPU invoices (``ppu_posting_data``: who confirmed, and whether future dates
are forced) for the scheduled action "Sophos PPU: post invoices", which
posts them with Odoo's ``_post``, as the user who confirmed them, whole
invoices of about ``POST_CHUNK_LINES`` lines per call, each call in its own
transaction, and tells Odoo's scheduler what remains. An invoice that Odoo
refuses to post says why in its chatter and leaves the queue; the user is
notified when the queue is done. Posting queues the statements
(``account_move._ppu_queue_statements``) as usual.
"""

import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .cron_run import CronRun

_logger = logging.getLogger(__name__)

#: Lines of PPU invoices that "Confirm Entries" posts in the request.
PPU_POST_INLINE_LINES = 2000
#: Lines of whole invoices posted per call of the scheduled action.
POST_CHUNK_LINES = 2000
# This worker's current run of the scheduled action.
_run = CronRun()


class AccountMove(models.Model):
    _inherit = "account.move"

    ppu_posting_data = fields.Json(
        copy=False,
        readonly=True,
        help="Set while the invoice waits to be posted in the background: "
        "who confirmed it.",
    )

    def _ppu_lines_count(self):
        """Journal items of these moves (what posting costs)."""
        if not self:
            return 0
        return self.env["account.move.line"].search_count([("move_id", "in", self.ids)])

    def _ppu_queue_posting(self, soft=True):
        """Queue these drafts for the scheduled action to post them."""
        self._ppu_set_posting_data(
            {"user_id": self.env.uid, "soft": soft, "total": len(self)}
        )
        self.env.ref("sophos_ppu.ir_cron_ppu_post_invoices")._trigger()

    def _ppu_set_posting_data(self, value):
        # A field no line depends on (see LINE_NEUTRAL_FIELDS).
        self.sudo().with_context(skip_is_manually_modified=True).write(
            {"ppu_posting_data": value}
        )

    @api.model
    def _ppu_cron_post(self):
        """Post the next chunk of queued invoices and report what remains:
        Odoo calls again at once, up to ten times per run; past its budget,
        a run hands over to a fresh one (with a fresh CPU limit)."""
        _run.begin()
        chunk = self._ppu_next_posting_chunk()
        if chunk:
            self._ppu_post_chunk(chunk)
        waiting = self.search([("ppu_posting_data", "!=", False)]) - chunk
        waiting_users = {move.ppu_posting_data.get("user_id") for move in waiting}
        for user_id, moves in chunk.grouped(
            lambda move: move.ppu_posting_data.get("user_id")
        ).items():
            if user_id not in waiting_users:
                self._ppu_notify_posted(user_id, moves[:1].ppu_posting_data["total"])
        chunk._ppu_set_posting_data(False)
        cron = self.env.ref("sophos_ppu.ir_cron_ppu_post_invoices")
        _run.report(cron, done=len(chunk), remaining=len(waiting))

    @api.model
    def _ppu_next_posting_chunk(self):
        """The oldest queued moves up to POST_CHUNK_LINES lines (at least one
        move), locked for this transaction; moves that a user is changing
        right now wait for the next call."""
        self.env["account.move"].flush_model(["ppu_posting_data"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT move.id,
                       (SELECT count(*) FROM account_move_line line
                         WHERE line.move_id = move.id)
                  FROM account_move move
                 WHERE move.ppu_posting_data IS NOT NULL
                 ORDER BY move.id
                 LIMIT 500
                   FOR NO KEY UPDATE OF move SKIP LOCKED
                """
            )
        )
        ids, lines = [], 0
        for move_id, count in rows:
            if ids and lines + count > POST_CHUNK_LINES:
                break
            ids.append(move_id)
            lines += count
        return self.browse(ids)

    def _ppu_post_chunk(self, chunk):
        """Post the drafts of ``chunk`` with Odoo's ``_post``, as the users
        who confirmed them; the moves Odoo refuses say why."""
        failed = self.browse()
        groups = chunk.filtered(lambda move: move.state == "draft").grouped(
            lambda move: (
                move.ppu_posting_data.get("user_id"),
                move.ppu_posting_data.get("soft", True),
                move.company_id,
            )
        )
        for (user_id, soft, company), moves in groups.items():
            user = self.env["res.users"].browse(user_id).exists()
            if not user.active:
                user = self.env.user
            moves = moves.with_user(user).with_company(company)
            try:
                with self.env.cr.savepoint():
                    moves._post(soft=soft)
            except UserError:
                for move in moves:
                    try:
                        with self.env.cr.savepoint():
                            move._post(soft=soft)
                    except UserError as error:
                        failed |= move
                        move.sudo().message_post(
                            body=Markup("%s<br/>%s")
                            % (
                                self.env._("This invoice could not be posted:"),
                                error.args[0] if error.args else str(error),
                            )
                        )
        if failed:
            _logger.info("Posting in the background refused %s", failed)
            for user_id, moves in failed.grouped(
                lambda move: move.ppu_posting_data.get("user_id")
            ).items():
                self._ppu_notify_failed(user_id, moves)

    def _ppu_notify_posted(self, user_id, total):
        user = self.env["res.users"].browse(user_id).exists()
        if user:
            env = self.with_context(lang=user.lang).env
            user._bus_send(
                "simple_notification",
                {
                    "type": "success",
                    "title": env._("Invoices posted"),
                    "message": env._(
                        "The %(count)s invoices you confirmed are posted; their "
                        "statements are being sent.",
                        count=total,
                    ),
                },
            )

    def _ppu_notify_failed(self, user_id, moves):
        user = self.env["res.users"].browse(user_id).exists()
        if user:
            env = self.with_context(lang=user.lang).env
            user.partner_id._bus_send(
                "account_notification",
                {
                    "type": "warning",
                    "sticky": True,
                    "title": env._("Invoices not posted"),
                    "message": env._(
                        "%(count)s invoices could not be posted: each one says "
                        "why in its chatter.",
                        count=len(moves),
                    ),
                    "action_button": {
                        "name": env._("Open"),
                        "action_name": env._("Invoices not posted"),
                        "model": "account.move",
                        "res_ids": moves.ids,
                    },
                },
            )


class ValidateAccountMove(models.TransientModel):
    _inherit = "validate.account.move"

    def validate_move(self):
        """Post the selection, its PPU invoices in the background when they
        hold more than PPU_POST_INLINE_LINES lines."""
        ppu = self.move_ids._ppu_statement_moves().filtered(
            lambda move: move.state == "draft"
        )
        if ppu._ppu_lines_count() <= PPU_POST_INLINE_LINES:
            return super().validate_move()
        # What Odoo's validate_move does for the whole selection first.
        if self.ignore_abnormal_amount:
            self.abnormal_amount_partner_ids.ignore_abnormal_invoice_amount = True
        if self.ignore_abnormal_date:
            self.abnormal_date_partner_ids.ignore_abnormal_invoice_date = True
        if self.force_post:
            ppu.filtered(lambda move: move.auto_post != "no").auto_post = "no"
        ppu._ppu_queue_posting(soft=not self.force_post)
        self.move_ids -= ppu
        if self.move_ids:
            result = super().validate_move()
            if result.get("type") != "ir.actions.act_window_close":
                return result
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("Posting invoices"),
                "message": self.env._(
                    "%(count)s invoices are being posted in the background; you "
                    "will be notified when they are. Their statements are sent "
                    "to the resellers after.",
                    count=len(ppu),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
