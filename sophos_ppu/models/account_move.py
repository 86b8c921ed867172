# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.tools import SQL, float_is_zero, formatLang

from ..tools.billing_guard import refuse_untrusted

#: Invoices whose statement (PDF and e-mail) one run of Odoo's sending
#: scheduled action makes at most.
STATEMENTS_PER_RUN = 5
#: Invoices whose statement one sending job (queue_job unit) makes: a few
#: seconds each, so that a job stays far from a worker's limits and a
#: month's statements spread over every worker of the channel.
STATEMENTS_PER_JOB = 5
#: When a sending job wakes Odoo's mail queue: once the e-mails the job sends
#: itself, right after its commit, are out. Woken at once, the queue raced
#: them (a serialization failure logged for each, in the production check).
MAIL_QUEUE_DELAY = timedelta(minutes=1)
#: Internal users who deal with the import; portal resellers never see it.
PPU_STAFF = "sophos_ppu.group_ppu_operations,account.group_account_invoice"
#: Fields of an invoice that none of its lines depends on (review flag,
#: sending and posting queues, sent flag, main attachment, portal token):
#: writing only them cannot change a line.
LINE_NEUTRAL_FIELDS = frozenset(
    {
        "checked",
        "sending_data",
        "ppu_posting_data",
        "is_move_sent",
        "message_main_attachment_id",
        "access_token",
    }
)


class AccountMove(models.Model):
    _inherit = "account.move"

    ppu_import_id = fields.Many2one(
        "sophos.ppu.import",
        string="PPU Consumption Import",
        index="btree_not_null",
        readonly=True,
        copy=False,
        check_company=True,
        groups=PPU_STAFF,
    )
    ppu_cost_import_id = fields.Many2one(
        "sophos.ppu.import",
        string="Sophos Consumption Import",
        index="btree_not_null",
        copy=False,
        check_company=True,
        groups="account.group_account_invoice",
        help="On Sophos's bill: the consumption import whose file it bills, "
        "compared with it on the import's Month close tab.",
    )
    ppu_import_attachment_id = fields.Many2one(
        related="ppu_import_id.attachment_id",
        string="Consumption File",
        groups=PPU_STAFF,
    )

    @api.model_create_multi
    def create(self, vals_list):
        # Only the import links an invoice to the consumption it bills.
        refuse_untrusted(
            self, {"ppu_import_id"} & {name for vals in vals_list for name in vals}
        )
        return super().create(vals_list)

    def action_ppu_download_file(self):
        """The consumption file the invoice was created from."""
        self.ensure_one()
        return self.ppu_import_id.action_download_file()

    def write(self, vals):
        refuse_untrusted(self, {"ppu_import_id"} & set(vals))
        if vals == {"is_manually_modified": False} and self.env.context.get(
            "ppu_create_invoices"
        ):
            # account.move.create() ends by resetting this flag on the moves it
            # has just created and synchronised. Nothing depends on the flag,
            # so synchronising their lines once more (snapshots of every line
            # before and after) finds nothing to do: skip it, as Odoo does
            # with the same context key where it knows the lines are in sync.
            # The balance of the moves is still checked by create().
            return super(AccountMove, self.with_context(skip_invoice_sync=True)).write(
                vals
            )
        if vals and vals.keys() <= LINE_NEUTRAL_FIELDS and self._ppu_all_ppu():
            # Posting writes "checked" invoice by invoice, and sending writes
            # the portal token, the sent flag and the PDF invoice by invoice:
            # Odoo's write would snapshot, synchronise and balance the 180
            # lines of a PPU invoice each time (0.3 to 1 s) for a field no
            # line depends on.
            return super(
                AccountMove,
                self.with_context(skip_invoice_sync=True, check_move_validity=False),
            ).write(vals)
        return super().write(vals)

    @api.depends_context("lang")
    def _compute_type_name(self):
        # The document's name ("Invoice", "Credit Note") heads the statement
        # in its reader's language. Odoo's field does not depend on the
        # language: computed once for every invoice of a sending run, in the
        # first recipient's language, it headed the others' statements too.
        # The fix odoo/odoo#216811 proposes for Odoo itself, at the field:
        # every multi-language "Send" is right, not the statements' alone.
        return super()._compute_type_name()

    def _ppu_all_ppu(self):
        """Whether every move is an invoice or credit note of an import."""
        return bool(self) and self == self._ppu_statement_moves()

    def _post(self, soft=True):
        # Odoo dates a draft invoice without a date today, invoice by
        # invoice: one write per invoice, each synchronising its lines again.
        # The same date in one write for the PPU invoices of the selection.
        self._ppu_statement_moves().filtered(
            lambda move: move.state == "draft" and not move.invoice_date
        ).invoice_date = fields.Date.context_today(self)
        posted = super()._post(soft=soft)
        # Posted, by hand or by a posting job: it no longer waits for one.
        posted.filtered("ppu_posting_data")._ppu_set_posting_data(False)
        posted._ppu_queue_statements()
        if not self.env.context.get("ppu_statements_after_posting"):
            posted._ppu_enqueue_statements()
        return posted

    def _ppu_statement_moves(self):
        """The PPU invoices and credit notes among these moves: their reseller
        gets the consumption statement instead of Odoo's invoice e-mail."""
        return self.filtered(
            lambda move: move.is_sale_document() and move.sudo().ppu_import_id
        )

    def _ppu_queue_statements(self):
        """Queue the consumption statement of the PPU invoices just posted:
        ``sending_data`` names who sends, as Odoo's "Send" of several
        invoices does; ``_ppu_enqueue_statements`` then hands them to
        queue_job.

        An invoice already sent (``is_move_sent``: set when Odoo's sending
        made its PDF, by these jobs or by "Send") is not queued again when it
        is reset to draft and posted again: the reseller has its statement,
        and the accountant sends a corrected one with "Send"."""
        moves = self._ppu_statement_moves().filtered(
            lambda move: not move.is_move_sent and not move.sending_data
        )
        moves._ppu_set_sending_data(
            {
                "author_user_id": self.env.user.id,
                "author_partner_id": self.env.user.partner_id.id,
            }
        )

    def _ppu_enqueue_statements(self):
        """Units of ``STATEMENTS_PER_JOB`` of these invoices queued for their
        statement (``_ppu_job_send_statements``, channel ``root.sophos_ppu``)
        render the PDFs and the e-mails in the background, in parallel, as
        the current user: posting a month of invoices stays a short request,
        and the statements go out within minutes. After a background posting,
        its final job enqueues them all at once (the posting, one journal's
        units in turn, goes first: it never waits behind a sending job)."""
        moves = (
            self._ppu_statement_moves()
            .filtered(lambda move: move.sending_data and not move.is_move_sent)
            .sorted("id")
        )
        for start in range(0, len(moves), STATEMENTS_PER_JOB):
            chunk = moves[start : start + STATEMENTS_PER_JOB]
            chunk.with_delay(
                description=self.env._(
                    "Sophos PPU: send %(count)s statements", count=len(chunk)
                )
            )._ppu_job_send_statements()

    def _ppu_job_send_statements(self):
        """A sending unit: Odoo's sending (``_generate_and_send_invoices``,
        what its scheduled action ``_cron_account_move_send`` does) of these
        invoices' statements, then wake Odoo's mail queue for any e-mail that
        waits in it. An invoice reset to draft (it left the queue) or already
        sent is skipped."""
        moves = self._ppu_lock_sendable()
        if moves:
            self.env["account.move.send"]._generate_and_send_invoices(
                moves, from_cron=True
            )
            failed = moves.filtered(
                lambda move: move.sending_data and move.sending_data.get("error")
            )
            if failed:
                # Each one says why in its chatter (Odoo's _hook_if_errors).
                failed._ppu_set_sending_data(False)
                self._ppu_notify_not_sent(failed)
        self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger(
            at=fields.Datetime.now() + MAIL_QUEUE_DELAY
        )

    def _ppu_lock_sendable(self):
        """These invoices still waiting for their statement, locked until the
        job's transaction ends. One that another process is sending right
        now (Odoo's sending scheduled action) is waited for, then found sent:
        the job's snapshot is older than that change, so PostgreSQL refuses
        the lock and queue_job runs the job again on a fresh snapshot."""
        return self._ppu_lock(["sending_data", "state", "is_move_sent"]).filtered(
            lambda move: move.state == "posted"
            and move.sending_data
            and not move.sending_data.get("error")
            and not move.is_move_sent
        )

    def _ppu_lock(self, fnames):
        """These moves that still exist, locked (``FOR NO KEY UPDATE``) until
        the transaction ends, their ``fnames`` read again once locked."""
        if not self:
            return self
        self.flush_recordset(fnames)
        self.env.execute_query(
            SQL(
                "SELECT id FROM account_move WHERE id IN %s FOR NO KEY UPDATE",
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(fnames)
        return self.exists()

    def _ppu_notify_not_sent(self, failed):
        self._ppu_notify_warning(
            self.env._("Statements not sent"),
            self.env._(
                "%(count)s statements could not be sent: each invoice says "
                "why in its chatter.",
                count=len(failed),
            ),
            failed,
        )

    def _ppu_notify_warning(self, title, message, moves, sticky=False):
        """Warn the current user, with a button opening ``moves``."""
        self.env.user.partner_id._bus_send(
            "account_notification",
            {
                "type": "warning",
                "sticky": sticky,
                "title": title,
                "message": message,
                "action_button": {
                    "name": self.env._("Open"),
                    "action_name": title,
                    "model": "account.move",
                    "res_ids": moves.ids,
                },
            },
        )

    @api.model
    def _cron_account_move_send(self, job_count=10):
        # The statements go out by the jobs above; Odoo's scheduled action
        # (daily, or woken by an accountant's "Send") is their safety net.
        # It sends 20 invoices per run; a PDF of a month of consumption takes
        # seconds, and 20 of them came near a prefork cron worker's 120 s per
        # run (a worker killed there sends nothing and the run is tried
        # again). Smaller runs, retriggered at once.
        return super()._cron_account_move_send(
            job_count=min(job_count, STATEMENTS_PER_RUN)
        )

    def button_draft(self):
        # A draft cannot be sent, and Odoo's sending cron stops on one
        # (fixed upstream in 18.0 by odoo/odoo#222278, the same way): a move
        # reset to draft leaves the queue, and is queued again when posted.
        self.filtered("sending_data")._ppu_set_sending_data(False)
        return super().button_draft()

    def _ppu_set_sending_data(self, value):
        """Odoo's sending order, a field no line depends on (see ``write``);
        the invoice is not "manually modified" for it."""
        self.sudo().with_context(skip_is_manually_modified=True).write(
            {"sending_data": value}
        )

    def _get_mail_template(self):
        """PPU invoices and credit notes are sent with the consumption
        statement (per end customer breakdown, invoice PDF attached) wherever
        Odoo picks the invoice template: the sending cron after posting, and
        the "Send" wizard."""
        if self and self == self._ppu_statement_moves():
            template = self._ppu_statement_template()
            if template:
                return template
        return super()._get_mail_template()

    def _ppu_statement_template(self):
        return self.env.ref(
            "sophos_ppu.mail_template_ppu_invoice_reseller", raise_if_not_found=False
        )

    def _ppu_quantity_text(self, quantity):
        """A quantity as people write it: in the reader's language, with the
        decimals it has (51, 2.5) up to the unit of measure's precision."""
        digits = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        used = next(
            places
            for places in range(digits + 1)
            if float_is_zero(
                quantity - round(quantity, places), precision_digits=digits
            )
        )
        return formatLang(self.env, quantity, digits=used)

    def _ppu_statement_title(self, lang):
        """The statement's title in ``lang``: "INV/2026/00001 (Sophos
        consumption October 2026)"."""
        self.ensure_one()
        batch = self.sudo().ppu_import_id.with_context(lang=lang)
        label = batch.env._(
            "Sophos consumption %(period)s", period=batch._ppu_period_label()
        )
        return f"{self.name} ({label})"

    def _ppu_portal_urls(self):
        """Where the reseller sees this invoice and its PPU subscriptions."""
        self.ensure_one()
        base = self.get_base_url()
        return {"invoice": base + self.get_portal_url(), "ppu": base + "/my/ppu"}

    def _ppu_statement(self):
        """Per end customer, its services: [{"end_customer", "lines": [aml],
        "amount"}] ordered by end customer, for the reseller's e-mail."""
        self.ensure_one()
        groups = defaultdict(lambda: self.env["account.move.line"])
        for line in self.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        ):
            customer = line.ppu_subscription_id.end_customer_id
            groups[customer] |= line
        return [
            {
                "end_customer": customer.name or "",
                "lines": lines,
                "amount": sum(lines.mapped("price_subtotal")),
            }
            for customer, lines in sorted(groups.items(), key=lambda g: g[0].name or "")
        ]

    def unlink(self):
        """A deleted draft bills nothing: its rows are freed for the batch to
        invoice again, and the batch says so."""
        import_lines = self.line_ids.ppu_import_line_id
        # The batch undoing its own run tells its story once, itself.
        deleted = [
            (move.ppu_import_id, move._ppu_label())
            for move in self.sudo()
            if move.ppu_import_id and not self.env.context.get("ppu_job_cleanup")
        ]
        result = super().unlink()
        # Accountants only read import rows: deleting the draft decides here.
        import_lines.sudo().exists().filtered("billed")._ppu_write({"billed": False})
        for batch, label in deleted:
            if batch.state == "invoiced":
                batch._ppu_write({"state": "checked"})
            batch.message_post(
                body=self.env._(
                    "%(invoice)s was deleted by %(user)s: its rows are no longer "
                    "billed. Create the invoices again to bill them.",
                    invoice=label,
                    user=self.env.user.name,
                )
            )
        return result

    def button_cancel(self):
        result = super().button_cancel()
        for move in self.sudo().filtered("ppu_import_id"):
            move.ppu_import_id.message_post(
                body=self.env._(
                    "%(invoice)s was cancelled by %(user)s. Its rows stay billed, "
                    "so that resetting it to draft cannot bill them twice; delete "
                    "it to free them.",
                    invoice=move._ppu_label(),
                    user=self.env.user.name,
                )
            )
        return result

    def _ppu_round_to(self, total):
        """Make this draft bill's untaxed total ``total`` to the cent, with a
        rounding line when its lines' prices and quantities, rounded to their
        precision, do not give it."""
        difference = self.currency_id.round(float(total) - self.amount_untaxed)
        if self.currency_id.is_zero(difference):
            return
        line = self.invoice_line_ids.filtered("product_id")[:1]
        self.invoice_line_ids = [
            Command.create(
                {
                    "product_id": line.product_id.id,
                    "account_id": line.account_id.id,
                    "name": self.env._("Rounding to the file's cost"),
                    "quantity": 1,
                    "price_unit": difference,
                }
            )
        ]

    def _ppu_label(self):
        return f"{self.display_name} ({self.partner_id.display_name})"
