# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.sophos_ppu.core import checking, month_close
from odoo.addons.sophos_ppu.core.billing import (
    consumption_key,
    normalise_identifier,
)
from odoo.addons.sophos_ppu.core.row import (
    END_BEFORE_START,
    FILE_FIELDS,
    LINE_CORRECTABLE,
    consumption_source,
    problems,
)

from ..tools.billing_guard import is_trusted, refuse_untrusted, trusted
from ..tools.bulk_insert import insert_like_create

#: What ops may change on a row themselves: the subscription of a row that
#: cannot be billed, then check again. Everything else is the checks' result.
USER_WRITABLE = ("subscription_id",)
#: Who sees what a row costs and earns: accountants and ops, never portal.
COST_GROUPS = "account.group_account_invoice,sophos_ppu.group_ppu_operations"
#: The core's issue codes (checking), as the rows store them.
ISSUES = [
    (checking.UNREADABLE, "Unreadable"),
    (checking.NO_SUBSCRIPTION, "Unknown end customer"),
    (checking.OTHER_IDENTIFIER, "Known under another identifier"),
    (checking.AMBIGUOUS, "Several subscriptions"),
    (checking.OTHER_RESELLER, "Another reseller's"),
    (checking.CLAIMED_IDENTIFIER, "Identifier claimed by another reseller"),
    (checking.OUTSIDE_PERIOD, "Outside the billing month"),
    (checking.CLOSED_SUBSCRIPTION, "Closed subscription"),
    (checking.NO_RULE, "No pricelist rule"),
    (checking.ZERO_QUANTITY, "Zero quantity"),
    (checking.CREDITS_BILLED, "Credits a billed row"),
    (checking.CORRECTS_UNBILLED, "Corrects nothing billed"),
    (checking.ALREADY_BILLED, "Already billed"),
    (checking.REPEATS_ROW, "Repeats a row"),
    (checking.SAME_CONSUMPTION, "Same consumption"),
    (checking.SEVERAL_IDENTIFIERS, "Several identifiers"),
    (checking.IDENTIFIER_ELSEWHERE, "Identifier of another reseller"),
]
#: Why a row's cost was billed to a reseller or not (core.month_close).
CLOSE_STATUSES = [
    (month_close.BILLED, "Billed"),
    (month_close.TO_BILL, "To bill"),
    (month_close.ZERO, "Zero quantity"),
    (month_close.HELD, "Duplicate held"),
    (month_close.CLOSED, "Closed subscription"),
    (month_close.ERROR, "Error"),
]


class SophosPpuImportLine(models.Model):
    """One row of a consumption file: its values as read, the subscription it
    bills, the price the reseller's pricelist gives it and why it cannot be
    billed when it cannot.

    ``billed`` marks the rows whose consumption key is invoiced: a partial
    unique index on (company, consumption key) over billed rows makes sure
    the database refuses to bill the same consumption twice, even when two
    imports race."""

    _name = "sophos.ppu.import.line"
    _description = "Sophos PPU Consumption Line"
    _order = "import_id, row_number, id"
    _check_company_auto = True

    import_id = fields.Many2one(
        "sophos.ppu.import",
        string="Import",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    # Precomputed: the import gives both up front (_ppu_create_for).
    period_date = fields.Date(
        related="import_id.period_date",
        store=True,
        precompute=True,
        string="Billing Month",
    )
    parent_state = fields.Selection(related="import_id.state", string="Import Status")
    row_number = fields.Integer(
        string="Row", help="Row number in the file.", aggregator=False, readonly=True
    )
    raw_values = fields.Text(
        string="Values as read (JSON)",
        help="The row as read from the file (JSON).",
        readonly=True,
    )
    raw_values_html = fields.Html(
        string="Values as read",
        compute="_compute_raw_values_html",
        sanitize=False,
        help="The row as read from the file, one line per column.",
    )
    # Parsed values
    end_user_identifier = fields.Char(string="End User Identifier", index=True)
    end_user_key = fields.Char(
        compute="_compute_end_user_key",
        store=True,
        precompute=True,
        index=True,
        help="The End User Identifier compared as Sophos does: stripped and "
        "case-folded ('Straße-9' is 'STRASSE-9').",
    )
    end_customer_name = fields.Char(string="End Customer (file)")
    file_partner_name = fields.Char(string="Partner (file)", readonly=True)
    file_partner_ref = fields.Char(
        string="Partner ID (file)",
        help="The reseller's identifier in the file, compared with the "
        "Reference of the reseller in Odoo.",
        readonly=True,
    )
    product_description = fields.Char(string="Product Description")
    sku = fields.Char(string="SKU")
    start_date = fields.Date()
    end_date = fields.Date()
    # The file's numbers as read, all their digits kept (numeric columns
    # without a fixed scale): checks price what the file says.
    quantity = fields.Float(digits=False)
    unit_msrp = fields.Float(string="Unit MSRP", digits=False, aggregator=None)
    unit_cost = fields.Float(
        string="Cost",
        digits=False,
        aggregator=None,
        help="The file's Unit Price: the distributor's cost.",
    )
    file_currency_id = fields.Many2one(
        "res.currency",
        string="File Currency",
        help="Currency of the file's prices (its currency column, else the "
        "company currency).",
    )
    consumption_key = fields.Char(
        index=True,
        help="End user, service and service dates: billed once per company.",
        readonly=True,
    )
    correction_pending = fields.Char(
        readonly=True,
        copy=False,
        help="Fields of a row that could not be read whose cells ops have not "
        "corrected yet (comma-separated; '*' when the reason is elsewhere).",
    )
    corrected = fields.Boolean(
        readonly=True,
        copy=False,
        help="Ops corrected values of the row: the next check reads it again.",
    )
    parse_error = fields.Boolean(
        string="Unreadable",
        help="The row could not be read: correct its values on the row and "
        "check again (or fix the file and import it again).",
    )
    # Matching and pricing
    subscription_id = fields.Many2one(
        "sophos.ppu.subscription",
        string="Subscription",
        index="btree_not_null",
        check_company=True,
    )
    match_method = fields.Selection(
        [
            ("identifier", "End User Identifier"),
            ("name", "End customer name"),
            ("manual", "Set by hand"),
        ],
        string="Matched by",
        readonly=True,
    )
    partner_id = fields.Many2one(
        "res.partner", string="Reseller", index="btree_not_null", readonly=True
    )
    end_customer_id = fields.Many2one(
        related="subscription_id.end_customer_id", string="End Customer"
    )
    pricelist_id = fields.Many2one(related="subscription_id.pricelist_id")
    pricelist_item_id = fields.Many2one(
        "product.pricelist.item",
        string="Pricelist Rule",
        ondelete="set null",
        readonly=True,
    )
    rule_note = fields.Char(
        related="pricelist_item_id.ppu_billing_note",
        string="Rule",
        help="What the pricelist rule that priced the row does.",
    )
    currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)
    # Rounded by the checks to the Product Price precision.
    price_unit = fields.Float(
        string="Unit Price", digits=False, aggregator=None, readonly=True
    )
    # Never summed as is: rows of one group may be billed in several
    # currencies (like Odoo's amount_currency); price_subtotal_company is.
    price_subtotal = fields.Monetary(
        string="Subtotal", currency_field="currency_id", aggregator=None, readonly=True
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    price_subtotal_company = fields.Monetary(
        string="Subtotal (company currency)",
        currency_field="company_currency_id",
        compute="_compute_price_subtotal_company",
        store=True,
        precompute=True,
        help="The subtotal converted to the company currency at the rate of "
        "the billing month's first day: what group totals add up.",
    )
    state = fields.Selection(
        [("ok", "OK"), ("error", "Error"), ("duplicate", "Duplicate")],
        default="error",
        required=True,
        index=True,
        readonly=True,
    )
    message = fields.Char(string="Reason", readonly=True)
    issue = fields.Selection(
        ISSUES,
        string="Reason code",
        readonly=True,
        help="What the check found, as a code: the Reason in a few words.",
    )
    corrected_line_id = fields.Many2one(
        "sophos.ppu.import.line",
        string="Credits row",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The billed row this correction credits: it is credited at the "
        "price, in the currency and to the reseller of that billing.",
    )
    credited_invoice_id = fields.Many2one(
        related="corrected_line_id.invoice_id", string="Credits invoice"
    )
    duplicate_import_id = fields.Many2one(
        "sophos.ppu.import",
        string="Billed by",
        ondelete="set null",
        help="The import that already billed this consumption.",
        readonly=True,
    )
    repeat_of_row = fields.Integer(
        string="Repeats row",
        readonly=True,
        aggregator=None,
        help="The earlier row of the file this row repeats exactly, cell for cell.",
    )
    repeat_confirmed = fields.Boolean(
        readonly=True,
        copy=False,
        help="Ops confirmed that this row, a repeat of the same consumption in "
        "the file, is billed too.",
    )
    billed = fields.Boolean(readonly=True, copy=False, index=True)
    invoice_line_ids = fields.One2many(
        "account.move.line", "ppu_import_line_id", string="Invoice Lines"
    )
    invoice_line_id = fields.Many2one(
        "account.move.line", string="Invoice Line", compute="_compute_invoice_line"
    )
    invoice_id = fields.Many2one(
        "account.move", string="Invoice", compute="_compute_invoice_line"
    )

    def init(self):
        # The database-level never-billed-twice guarantee.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS sophos_ppu_import_line_billed_key_uniq
                ON sophos_ppu_import_line (company_id, consumption_key)
             WHERE billed
            """
        )

    @api.depends("import_id.name", "row_number")
    def _compute_display_name(self):
        for line in self:
            line.display_name = self.env._(
                "%(batch)s – row %(row)s",
                batch=line.import_id.name or "",
                row=line.row_number,
            )

    @api.depends("raw_values")
    def _compute_raw_values_html(self):
        for line in self:
            try:
                values = json.loads(line.raw_values or "{}")
            except ValueError:
                values = {"": line.raw_values}
            if not isinstance(values, dict) or not values:
                line.raw_values_html = False
                continue
            line.raw_values_html = Markup(
                '<table class="table table-sm o_ppu_raw_values"><tbody>%s</tbody>'
                "</table>"
            ) % Markup().join(
                Markup("<tr><th>%s</th><td>%s</td></tr>")
                % (escape(name), escape("" if value is None else value))
                for name, value in values.items()
            )

    @api.depends("price_subtotal", "currency_id", "company_id", "period_date")
    def _compute_price_subtotal_company(self):
        to_company = self._ppu_company_converter()
        for line in self:
            line.price_subtotal_company = to_company(
                line.price_subtotal, line.currency_id, line.company_id, line.period_date
            )

    @api.depends("end_user_identifier")
    def _compute_end_user_key(self):
        for line in self:
            line.end_user_key = normalise_identifier(line.end_user_identifier) or False

    @api.model
    def _ppu_company_converter(self):
        """A function (amount, currency, company, day) -> the amount in the
        company currency at the rate of that day (today when none), rates
        looked up once per currency, company and day."""
        rates = {}

        def to_company(amount, currency, company, day):
            if not currency or not company or currency == company.currency_id:
                return amount
            key = (currency, company, day)
            if key not in rates:
                rates[key] = currency._get_conversion_rate(
                    currency,
                    company.currency_id,
                    company,
                    day or fields.Date.context_today(self),
                )
            return company.currency_id.round(amount * rates[key])

        return to_company

    @api.model
    def _ppu_create_for(self, batch, vals_list):
        """Create rows of ``batch`` from their read and checked values in one
        INSERT (``insert_like_create``), with what each row would compute
        given up front, as its fields compute it: its billing month, its
        subtotal in company currency (the checks round the subtotal to its
        currency, as it is stored), its cost, margin and close status."""
        to_company = self._ppu_company_converter()
        Currency = self.env["res.currency"]
        company = batch.company_id
        for vals in vals_list:
            vals.update(
                import_id=batch.id,
                company_id=company.id,
                period_date=batch.period_date,
                price_subtotal_company=to_company(
                    vals["price_subtotal"],
                    Currency.browse(vals["currency_id"]),
                    company,
                    batch.period_date,
                ),
            )
            vals.update(self._ppu_close_values(vals, company, to_company))
            vals["end_user_key"] = (
                normalise_identifier(vals.get("end_user_identifier")) or False
            )
        return insert_like_create(self, vals_list)

    @api.depends("invoice_line_ids")
    def _compute_invoice_line(self):
        for line in self:
            line.invoice_line_id = line.invoice_line_ids[:1]
            line.invoice_id = line.invoice_line_id.move_id

    @api.model_create_multi
    def create(self, vals_list):
        refuse_untrusted(self, ["import_id"])  # rows come from the file only
        return super().create(vals_list)

    def write(self, vals):
        if not is_trusted():
            if set(vals) & set(LINE_CORRECTABLE):
                return self._ppu_correct(vals)
            refuse_untrusted(self, vals, USER_WRITABLE)
            if "subscription_id" in vals:
                return self._ppu_match_by_hand(vals["subscription_id"])
        return super().write(vals)

    def _ppu_correct(self, vals):
        """Ops correct the values of rows that could not be read, then check."""
        refuse_untrusted(self, vals, LINE_CORRECTABLE)
        self._ppu_check_correctable()
        with trusted():
            for line in self:
                pending = set(filter(None, (line.correction_pending or "").split(",")))
                pending -= set(vals) | {"*"}
                line.write(
                    {"correction_pending": ",".join(sorted(pending)), "corrected": True}
                )
            return self.write(vals)

    def _ppu_match_by_hand(self, subscription_id):
        """A subscription picked by ops sticks when the batch is checked again."""
        self._ppu_check_fixable()
        with trusted():
            return self.write(
                {
                    "subscription_id": subscription_id,
                    "match_method": "manual" if subscription_id else False,
                }
            )

    def _ppu_check_fixable(self):
        """Ops match by hand rows in error or duplicate, before invoicing."""
        refused = self._ppu_locked() | self.filtered(
            lambda line: line.state == "ok" or line.parse_error
        )
        if refused:
            raise UserError(
                self.env._(
                    "Row %(row)s of import %(batch)s cannot be changed: only "
                    "rows in error or duplicate of an import not invoiced "
                    "yet can be matched by hand.",
                    row=refused[0].row_number,
                    batch=refused[0].import_id.name,
                )
            )

    def _ppu_check_correctable(self):
        """Ops correct rows that could not be read, before invoicing."""
        refused = self._ppu_locked() | self.filtered(lambda line: not line.parse_error)
        if refused:
            raise AccessError(
                self.env._(
                    "Row %(row)s of import %(batch)s cannot be corrected: "
                    "only rows that could not be read, in an import not "
                    "invoiced yet, can be corrected by hand.",
                    row=refused[0].row_number,
                    batch=refused[0].import_id.name,
                )
            )

    def _ppu_locked(self):
        """Rows nobody edits any more: billed, or of an import past checking."""
        return self.filtered(
            lambda line: line.billed or line.import_id.state not in ("draft", "checked")
        )

    def _ppu_revalidate(self):
        """Rows that could not be read, corrected by hand, checked again as
        the reader checks a row (``core.row.problems``): those whose values
        are now complete and consistent become readable rows again, under
        their consumption key; the others say what is still missing."""
        for line in self.filtered(lambda line: line.parse_error and line.corrected):
            reason = line._ppu_correction_problem()
            if reason:
                if line.message != reason:
                    line._ppu_write({"message": reason})
                continue
            line._ppu_write(
                {
                    "parse_error": False,
                    "message": False,
                    "corrected": False,
                    "correction_pending": False,
                    "consumption_key": consumption_key(*consumption_source(line)),
                }
            )

    def _ppu_correction_problem(self):
        """What keeps a row corrected by hand from being read, in words (the
        values the core finds missing, then the cells ops have not corrected
        yet; else an end date before the start date), or False."""
        self.ensure_one()
        found = problems({f.name: self[f.line_name] for f in FILE_FIELDS})
        pending = (self.correction_pending or "").split(",")
        missing = [name for name, problem in found if problem != END_BEFORE_START]
        missing += [name for name in pending if name and name != "*"]
        if missing:
            return self.env._(
                "Row %(row)s: %(fields)s missing.",
                row=self.row_number,
                fields=", ".join(self._fields[name].string for name in missing),
            )
        if found:
            return self.env._(
                "Row %(row)s: the end date is before the start date.",
                row=self.row_number,
            )
        return False

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        if self.filtered("billed"):
            raise UserError(self.env._("Billed consumption rows cannot be deleted."))
        refuse_untrusted(self, ["import_id"])  # rows go with their batch only

    def _ppu_write(self, vals):
        """Write what the checks and the invoicing decided."""
        with trusted():
            return self.write(vals)

    @api.model
    def _ppu_create(self, vals_list):
        with trusted():
            return self.create(vals_list)

    def _ppu_unlink(self):
        """Drop the rows of an import that could not finish (as superuser:
        who started it may not delete rows)."""
        with trusted():
            return self.sudo().unlink()

    def action_confirm_repeat(self):
        """Bill a row that repeats a consumption of the same file.

        Its key gets ``|repeat:k`` (k-th row of the file with that key), so
        that it is billed once too, and a later upload of the same file finds
        it billed."""
        for line in self:
            batch = line.import_id
            if (
                line.state != "duplicate"
                or line.duplicate_import_id != batch
                or batch.state not in ("draft", "checked")
            ):
                raise UserError(
                    self.env._(
                        "Row %(row)s is not a repeat within its own file waiting "
                        "for confirmation.",
                        row=line.row_number,
                    )
                )
            base_key = consumption_key(*consumption_source(line))
            rank = len(
                self.search(
                    [
                        ("import_id", "=", batch.id),
                        ("row_number", "<=", line.row_number),
                        ("start_date", "=", line.start_date),
                        ("end_date", "=", line.end_date),
                    ]
                ).filtered(
                    lambda other, key=base_key: consumption_key(
                        *consumption_source(other)
                    )
                    == key
                )
            )
            line._ppu_write(
                {
                    "repeat_confirmed": True,
                    "consumption_key": consumption_key(
                        *consumption_source(line), repeat=rank
                    ),
                }
            )
            batch.message_post(
                body=self.env._(
                    "Row %(row)s confirmed as billed again by %(user)s.",
                    row=line.row_number,
                    user=self.env.user.name,
                )
            )
        self.import_id.action_check()
        return True

    def _ppu_raw_cells(self):
        """The row's cells as read, {column: text}."""
        self.ensure_one()
        try:
            values = json.loads(self.raw_values or "{}")
        except ValueError:
            return {}
        if not isinstance(values, dict):
            return {}
        return {
            str(name): "" if value is None else str(value)
            for name, value in values.items()
            if value not in (None, "")
        }
