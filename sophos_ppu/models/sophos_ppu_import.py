# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A monthly consumption import: the batch, its file, states and actions,
its summary and error report.

The model is split by concern, as Odoo splits its large models: checking
the rows (``sophos_ppu_import_check.py``), invoicing them
(``sophos_ppu_import_invoice.py``) and the demo data
(``sophos_ppu_import_demo.py``) extend it in their own files.
"""

import dataclasses
import hashlib
import json
from collections import defaultdict
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount, format_date

from odoo.addons.sophos_ppu.core import Limits
from odoo.addons.sophos_ppu.core.billing import summarize_billing
from odoo.addons.sophos_ppu.core.row import LINE_REPORT

from ..tools.billing_guard import refuse_untrusted, trusted

# Rows in error listed in the ops summary (all are in the error report).
SUMMARY_ERRORS = 10
#: The error report's columns beside the row's own (``LINE_REPORT``): the
#: check's verdict, after the end customer (columns D to F).
REPORT_CHECK_COLUMNS = {4: "state", 5: "message", 6: "partner_id"}


class SophosPpuImport(models.Model):
    _name = "sophos.ppu.import"
    _description = "Sophos PPU Consumption Import"
    _inherit = ["mail.thread"]
    _order = "period_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    period_date = fields.Date(
        string="Billing Month",
        required=True,
        readonly=True,
        tracking=True,
        help="First day of the month billed.",
    )
    period_end_date = fields.Date(compute="_compute_period_end_date")
    partner_id = fields.Many2one(
        "res.partner",
        string="Reseller",
        readonly=True,
        check_company=True,
        help="When set, the file's rows are matched to this reseller's "
        "subscriptions only.",
    )
    attachment_id = fields.Many2one(
        "ir.attachment",
        string="File",
        required=True,
        readonly=True,
        ondelete="restrict",
    )
    filename = fields.Char(related="attachment_id.name", string="File Name")
    file_format = fields.Char(readonly=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("importing", "Importing"),
            ("checked", "Checked"),
            ("invoicing", "Invoicing"),
            ("invoiced", "Invoiced"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    line_ids = fields.One2many("sophos.ppu.import.line", "import_id", string="Rows")
    invoice_ids = fields.One2many(
        "account.move", "ppu_import_id", string="Invoices", readonly=True
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    line_count = fields.Integer(string="Rows read", compute="_compute_line_counts")
    ok_count = fields.Integer(string="Billable", compute="_compute_line_counts")
    error_count = fields.Integer(string="Errors", compute="_compute_line_counts")
    duplicate_count = fields.Integer(
        string="Duplicates", compute="_compute_line_counts"
    )
    invoice_error = fields.Text(
        string="Last failure",
        readonly=True,
        copy=False,
        help="Why the last import, check or invoicing run was stopped and "
        "rolled back.",
    )
    # Background work (sophos_ppu_import_job.py): what runs now and how far.
    job_kind = fields.Selection(
        [("import", "Import"), ("check", "Check"), ("invoice", "Invoicing")],
        string="Run",
        readonly=True,
        copy=False,
    )
    job_step = fields.Selection(
        [
            ("read", "Reading the file"),
            ("create", "Checking and storing the rows"),
            ("check", "Checking the rows again"),
            ("learn", "Recording End User Identifiers"),
            ("invoice", "Creating the invoices"),
            ("undo", "Undoing the run"),
        ],
        string="Current step",
        readonly=True,
        copy=False,
    )
    job_run = fields.Integer(
        string="Run number",
        readonly=True,
        copy=False,
        help="Number of the current or last run.",
    )
    job_started = fields.Datetime(string="Run started", readonly=True, copy=False)
    job_done = fields.Integer(
        string="Rows checked in this step", readonly=True, copy=False
    )
    job_base = fields.Integer(
        string="Rows billed before this run", readonly=True, copy=False
    )
    progress_done = fields.Integer(string="Rows done", compute="_compute_progress")
    progress_total = fields.Integer(string="Rows to do", readonly=True, copy=False)
    progress = fields.Float(compute="_compute_progress")
    job_retries = fields.Integer(
        string="Units retried",
        compute="_compute_job_health",
        help="How many times a unit of the current run was run again (a "
        "worker stopped or a concurrent transaction); the job queue does it "
        "by itself.",
    )
    job_given_up = fields.Char(string="Unit given up", compute="_compute_job_health")
    job_user_id = fields.Many2one(
        "res.users",
        string="Started by",
        readonly=True,
        copy=False,
        help="Who started the current run: the one told when it ends.",
    )
    job_leave_errors = fields.Boolean(readonly=True, copy=False)
    summary_digest = fields.Char(
        readonly=True,
        copy=False,
        help="What the last summary posted said, in short: a check that "
        "changes nothing posts none.",
    )
    job_rows_attachment_id = fields.Many2one(
        "ir.attachment", readonly=True, copy=False, ondelete="set null"
    )

    @api.constrains("period_date")
    def _check_period_date(self):
        for batch in self:
            if batch.period_date and batch.period_date.day != 1:
                raise ValidationError(
                    self.env._("The billing month must start on its first day.")
                )

    @api.depends("period_date")
    def _compute_period_end_date(self):
        for batch in self:
            batch.period_end_date = batch.period_date and (
                batch.period_date + relativedelta(months=1, days=-1)
            )

    @api.depends("invoice_ids")
    def _compute_invoice_count(self):
        for batch in self:
            batch.invoice_count = len(batch.invoice_ids)

    @api.depends("line_ids.state")
    def _compute_line_counts(self):
        # The stored rows' counts, also while the form edits a row (a new
        # record then, whose origin is the batch).
        counts = defaultdict(int)
        if self._origin.ids:
            for batch, state, count in self.env["sophos.ppu.import.line"]._read_group(
                [("import_id", "in", self._origin.ids)],
                ["import_id", "state"],
                ["__count"],
            ):
                counts[batch.id, state] = count
        for batch in self:
            origin = batch._origin.id
            batch.ok_count = counts[origin, "ok"]
            batch.error_count = counts[origin, "error"]
            batch.duplicate_count = counts[origin, "duplicate"]
            batch.line_count = (
                batch.ok_count + batch.error_count + (batch.duplicate_count)
            )

    @api.model_create_multi
    def create(self, vals_list):
        # A batch is made by the wizard, from its file (_ppu_import_file).
        refuse_untrusted(self, ["state"])
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("sophos.ppu.import") or "/"
                )
        return super().create(vals_list)

    def write(self, vals):
        refuse_untrusted(self, self._ppu_own_fields(vals))
        return super().write(vals)

    def _ppu_own_fields(self, vals):
        """The fields of ``vals`` this module defines, but the rows (whose
        own guard decides what ops may change on them)."""
        return [
            name
            for name in vals
            if name != "line_ids" and self._fields[name]._module == "sophos_ppu"
        ]

    def _ppu_write(self, vals):
        with trusted():
            return self.write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        """Deleting a batch would free the keys of what it billed."""
        invoiced = self.filtered(
            lambda batch: batch.state not in ("draft", "cancelled")
            or batch.invoice_ids
            or batch.line_ids.filtered("billed")
        )
        if invoiced:
            raise UserError(
                self.env._(
                    "Import %(name)s has made invoices: it cannot be deleted. "
                    "Cancel it while its invoices are drafts instead.",
                    name=invoiced[0].name,
                )
            )

    def _ppu_period_label(self):
        self.ensure_one()
        return format_date(self.env, self.period_date, date_format="MMMM y")

    def action_check(self):
        """Match, price and look for duplicates again (after a fix by hand),
        in the background for a large batch."""
        for batch in self:
            if batch.state not in ("draft", "checked"):
                raise UserError(
                    self.env._(
                        "Import %(name)s is %(state)s: only draft or checked "
                        "imports can be checked.",
                        name=batch.name,
                        state=batch._ppu_state_label(),
                    )
                )
            batch._ppu_start_check()
        return True

    def action_view_lines(self, state=None):
        """The batch's rows, only those of the filter ``state`` ('ok',
        'error', 'duplicate', 'below_cost') when given: what the batch's
        counts open."""
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "sophos_ppu.sophos_ppu_import_line_action"
        )
        state = state or self.env.context.get("ppu_line_state")
        action["display_name"] = self.name
        action["domain"] = [("import_id", "=", self.id)]
        action["context"] = {"hide_import": True}
        if state:
            action["context"][f"search_default_{state}"] = 1
        return action

    def action_view_invoices(self, invoices=None):
        self.ensure_one()
        invoices = self.invoice_ids if invoices is None else invoices
        return self._ppu_moves_action(invoices, "out_invoice")

    def _ppu_moves_action(self, moves, move_type):
        """Invoicing's own list of ``moves`` (of ``move_type``'s kind), or
        the form of the one."""
        action = self.env["ir.actions.actions"]._for_xml_id(
            f"account.action_move_{move_type}_type"
        )
        action["domain"] = [("id", "in", moves.ids)]
        action["context"] = {"default_move_type": move_type, "create": False}
        if len(moves) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = moves.id
        return action

    # ------------------------------------------------------------------
    # Cancel
    # ------------------------------------------------------------------

    def action_cancel(self):
        """Drop the batch's draft invoices and free its consumption keys.

        A batch with work running is cancelled at once: the cancel is
        recorded now (every unit of the run then does nothing) and a job
        drops what the run made, once this request has committed."""
        for batch in self:
            posted = batch.invoice_ids.filtered(lambda move: move.state == "posted")
            if posted:
                raise UserError(
                    self.env._(
                        "Import %(name)s cannot be cancelled: invoices %(invoices)s "
                        "are posted. Correct them with credit notes.",
                        name=batch.name,
                        invoices=", ".join(posted.mapped("name")),
                    )
                )
            if batch.state in ("importing", "invoicing"):
                batch._ppu_write({"state": "cancelled", "job_step": "undo"})
                batch._ppu_delayable("undo")._ppu_job_undo(batch.job_run).delay()
                batch._ppu_send_progress()
            else:
                batch._ppu_drop_drafts()
        return True

    def _ppu_drop_drafts(self):
        """Cancel: the drafts go (ops may drop the drafts they made, as they
        may create them), their rows are billed no more."""
        self.invoice_ids.sudo().with_context(ppu_job_cleanup=True).unlink()
        self.line_ids.filtered("billed")._ppu_write({"billed": False})
        self._ppu_write({"state": "cancelled", "job_step": False})
        self._ppu_drop_staged_rows()

    # ------------------------------------------------------------------
    # Summary and error report
    # ------------------------------------------------------------------

    def _ppu_summary(self):
        """Counts and totals per reseller, for the chatter and the ops mail:
        ``summarize_billing``'s dict, each reseller's total also formatted in
        its currency (``amount_text``), plus the first rows in error
        (``first_errors``: [(row, reason)]) and the word for the billable
        rows (billed once the batch is invoiced)."""
        self.ensure_one()
        Line = self.env["sophos.ppu.import.line"]
        entries = []
        currencies = {}
        for partner, currency, state, count, amount in Line._read_group(
            [("import_id", "=", self.id)],
            ["partner_id", "currency_id", "state"],
            ["__count", "price_subtotal:sum"],
        ):
            currencies[currency.name] = currency
            entries.extend(
                [(partner.display_name, currency.name, state, 0)] * (count - 1)
                + [(partner.display_name, currency.name, state, amount)]
            )
        summary = summarize_billing(entries)
        for reseller in summary["resellers"]:
            currency = currencies.get(reseller["currency"])
            reseller["amount_text"] = (
                format_amount(self.env, float(reseller["amount"]), currency)
                if currency
                else f"{reseller['amount']:.2f}"
            )
        summary["first_errors"] = [
            (line.row_number, line.message or "")
            for line in Line.search(
                [("import_id", "=", self.id), ("state", "=", "error")],
                limit=SUMMARY_ERRORS,
            )
        ]
        # Ops see it in the summary; a warning, never an error.
        summary["below_cost"] = self.sudo().below_cost_count
        summary["billable_label"] = (
            self.env._("Billed") if self.state == "invoiced" else self.env._("Billable")
        )
        return summary

    def _ppu_state_label(self):
        self.ensure_one()
        return dict(self._fields["state"]._description_selection(self.env))[self.state]

    def _ppu_url(self):
        """The batch in the backend, for the ops e-mail."""
        self.ensure_one()
        query = urlencode({"model": self._name, "res_id": self.id})
        return f"{self.get_base_url()}/mail/view?{query}"

    def _ppu_error_report_url(self):
        self.ensure_one()
        return f"{self.get_base_url()}/sophos_ppu/import/{self.id}/issues.xlsx"

    def _ppu_notify_summary(self):
        """One chatter message per run on the batch, e-mailed to the ops
        recipients: the summary template rendered and posted as a message
        (its subject and body), so ops get exactly one e-mail and the batch
        keeps exactly one trace of the run. Ops recipients that are
        contacts get no "View" button (they may have no login): the body
        links the batch and its error report itself."""
        template = self.env.ref(
            "sophos_ppu.mail_template_ppu_import_summary_ops", raise_if_not_found=False
        )
        if not template:
            return
        for batch in self:
            digest = batch._ppu_summary_digest()
            if digest == batch.summary_digest:
                continue  # checked again, nothing changed: nothing to tell
            batch._ppu_write({"summary_digest": digest})
            ops = batch.company_id.ppu_ops_partner_ids
            rendered = {
                name: template._render_field(name, batch.ids, compute_lang=True)[
                    batch.id
                ]
                for name in ("subject", "body_html")
            }
            batch.message_post(
                body=Markup(rendered["body_html"]),
                subject=rendered["subject"],
                partner_ids=ops.ids,
                message_type="comment" if ops else "notification",
                subtype_xmlid="mail.mt_comment" if ops else "mail.mt_note",
                email_layout_xmlid="mail.mail_notification_light",
                force_send=False,  # the mail queue sends it, as send_mail did
            )

    def _ppu_summary_digest(self):
        """What the summary says, in short: its state and counts and totals
        per reseller (equal digests, equal summaries)."""
        summary = self._ppu_summary()
        return hashlib.sha1(
            json.dumps(
                [self.state, {k: v for k, v in summary.items() if k != "resellers"}]
                + [
                    [reseller[key] for key in ("reseller", "currency", "rows")]
                    + [str(reseller["amount"])]
                    for reseller in summary["resellers"]
                ],
                default=str,
                sort_keys=True,
            ).encode()
        ).hexdigest()

    def _ppu_error_report_rows(self):
        """The rows with issues: the screens' columns (under the rows list's
        names), then one column per column of the file with the cells as
        read. Dates stay dates, empty cells stay empty."""
        lines = self.line_ids.filtered(lambda line: line.state != "ok")
        Line = self.env["sophos.ppu.import.line"]
        by_column = {**LINE_REPORT, **REPORT_CHECK_COLUMNS}
        columns = [by_column[column] for column in sorted(by_column)]
        labels = {
            name: description["string"]
            for name, description in Line.fields_get(
                columns, attributes=["string"]
            ).items()
        }
        states = dict(Line._fields["state"]._description_selection(self.env))
        raw = [line._ppu_raw_cells() for line in lines]
        file_columns = list(dict.fromkeys(name for cells in raw for name in cells))
        header = [labels[name] for name in columns] + [
            self.env._("%(column)s (file)", column=name) for name in file_columns
        ]

        def cell(line, name):
            value = line[name]
            if line.parse_error and name in (line.correction_pending or ""):
                return None  # unreadable in the file, not corrected yet
            if name == "state":
                return states[value]
            if isinstance(value, models.BaseModel):
                return (
                    value.display_name if name == "partner_id" else value.name
                ) or None
            if value is False and Line._fields[name].type not in ("float", "monetary"):
                return None
            return value

        rows = [
            [cell(line, name) for name in columns]
            + [cells.get(name) for name in file_columns]
            for line, cells in zip(lines, raw, strict=True)
        ]
        return header, rows

    def action_download_error_report(self):
        """The rows with issues as .xlsx (or .csv with context report_format),
        built by the download route on each download (nothing is stored): who
        may read the batch may download it."""
        self.ensure_one()
        self.check_access("read")
        extension = "csv" if self.env.context.get("report_format") == "csv" else "xlsx"
        return {
            "type": "ir.actions.act_url",
            "url": f"/sophos_ppu/import/{self.id}/issues.{extension}",
            "target": "self",
        }

    def action_download_file(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }

    # ------------------------------------------------------------------
    # Import (called by the wizard)
    # ------------------------------------------------------------------

    @api.model
    def _ppu_limits(self):
        """The consumption file limits set in Settings, else the core's."""
        default = Limits()
        params = self.env["ir.config_parameter"].sudo()

        def setting(key, fallback):
            try:
                value = int(params.get_param(f"sophos_ppu.{key}") or 0)
            except ValueError:
                value = 0
            return value if value > 0 else fallback

        return dataclasses.replace(
            default,
            max_file_bytes=setting("max_file_mb", default.max_file_bytes // 10**6)
            * 10**6,
            max_rows=setting("max_rows", default.max_rows),
            max_cell_chars=setting("max_cell_chars", default.max_cell_chars),
        )
