# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from odoo.addons.sophos_ppu.core import ConsumptionFileError, read_consumption_file
from odoo.addons.sophos_ppu.core.columns import REQUIRED
from odoo.addons.sophos_ppu.core.period import month_of_filename, month_of_rows

#: Files read at upload to propose the month they bill (larger ones: by
#: their name only, their reading is the import's background work).
PEEK_BYTES = 2_000_000


class SophosPpuImportWizard(models.TransientModel):
    """Upload the monthly consumption file: creates a checked import batch."""

    _name = "sophos.ppu.import.wizard"
    _description = "Import a Sophos Consumption File"
    _check_company_auto = True

    file = fields.Binary(required=True, attachment=False)
    filename = fields.Char()
    period_date = fields.Date(
        string="Billing Month",
        required=True,
        default=lambda self: self._default_period_date(),
        help="The month the file bills (the month of its service dates, "
        "usually last month). Any day picks its month: the import keeps the "
        "first day.",
    )
    # The file's contract lives in the core: the same list the reader checks
    # when it reports a missing column (a default, so that the new wizard
    # shows it).
    required_columns = fields.Char(
        readonly=True, default=lambda self: ", ".join(f.label for f in REQUIRED)
    )
    existing_batch_warning = fields.Text(compute="_compute_existing_batch_warning")
    # Set when the file is uploaded (read once, not again at each save).
    file_period_date = fields.Date(
        string="The file's month",
        help="The month most of the file's rows start in (or its name says).",
    )
    period_warning = fields.Char(compute="_compute_period_warning")
    partner_id = fields.Many2one(
        "res.partner",
        string="Reseller",
        check_company=True,
        help="Set it when the file is one reseller's: its rows are then matched "
        "to this reseller's subscriptions only.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )

    @api.depends("period_date", "company_id")
    def _compute_existing_batch_warning(self):
        Import = self.env["sophos.ppu.import"]
        states = dict(Import._fields["state"]._description_selection(self.env))
        for wizard in self:
            batches = wizard.period_date and Import.search(
                [
                    ("period_date", "=", wizard.period_date.replace(day=1)),
                    ("company_id", "=", wizard.company_id.id),
                    ("state", "!=", "cancelled"),
                ]
            )
            wizard.existing_batch_warning = (
                self.env._(
                    "%(month)s already has imports: %(batches)s. Rows billed "
                    "by them will be reported as duplicates, not billed again.",
                    month=format_date(
                        self.env, wizard.period_date, date_format="MMMM y"
                    ),
                    batches=", ".join(
                        f"{batch.name} ({states[batch.state]})" for batch in batches
                    ),
                )
                if batches
                else False
            )

    def _ppu_file_month(self):
        """The month the uploaded file bills, or None."""
        if not self.file:
            return None
        data = base64.b64decode(self.file)
        if len(data) <= PEEK_BYTES:
            try:
                result = read_consumption_file(
                    data,
                    self.filename,
                    limits=self.env["sophos.ppu.import"]._ppu_limits(),
                )
            except ConsumptionFileError:
                result = None  # the import says why
            if result and (month := month_of_rows(result.rows)):
                return month
        return month_of_filename(self.filename)

    @api.onchange("file")
    def _onchange_file_propose_period(self):
        self.file_period_date = self._ppu_file_month()
        if self.file_period_date:
            self.period_date = self.file_period_date

    @api.depends("file_period_date", "period_date")
    def _compute_period_warning(self):
        for wizard in self:
            file_month, month = wizard.file_period_date, wizard.period_date
            wizard.period_warning = (
                file_month
                and month
                and file_month != month.replace(day=1)
                and self.env._(
                    "The file's consumption is of %(file_month)s, not %(month)s: "
                    "its rows would be outside the billing month.",
                    file_month=format_date(self.env, file_month, date_format="MMMM y"),
                    month=format_date(self.env, month, date_format="MMMM y"),
                )
            )

    @api.onchange("period_date")
    def _onchange_period_date(self):
        if self.period_date and self.period_date.day != 1:
            self.period_date = self.period_date.replace(day=1)

    @api.model
    def _default_period_date(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(months=1)

    def action_import(self):
        self.ensure_one()
        filename = self.filename or ""
        if not filename.lower().endswith((".xlsx", ".xls", ".csv")):
            raise UserError(
                self.env._(
                    "%(file)s is not a consumption file: choose an .xlsx, .xls or "
                    ".csv file.",
                    file=filename or self.env._("The file"),
                )
            )
        Import = self.env["sophos.ppu.import"].with_company(self.company_id)
        # Refuse an oversized upload before decoding it.
        limit = Import._ppu_limits().max_file_bytes
        if len(self.file) * 3 // 4 > limit:
            raise UserError(
                self.env._(
                    "%(file)s is larger than %(limit)s MB, the limit set in "
                    "Settings > Sales > Sophos Pay-Per-Use.",
                    file=filename,
                    limit=limit // 10**6,
                )
            )
        batch = Import._ppu_import_file(
            base64.b64decode(self.file),
            filename,
            self.period_date.replace(day=1),
            partner=self.partner_id,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "sophos.ppu.import",
            "res_id": batch.id,
            "views": [(False, "form")],
            "target": "current",
        }
