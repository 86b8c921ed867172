# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.sophos_ppu.core import checking, month_close
from odoo.addons.sophos_ppu.core.billing import (
    consumption_key,
    normalise_identifier,
)
from odoo.addons.sophos_ppu.core.values import Bad, parse_amount, parse_date

from ..tools.billing_guard import is_trusted, refuse_untrusted, trusted
from ..tools.bulk_insert import insert_like_create

#: What ops may change on a row themselves: the subscription of a row that
#: cannot be billed, then check again. Everything else is the checks' result.
USER_WRITABLE = ("subscription_id",)
#: What ops may correct on a row that could not be read, before checking again.
CORRECTABLE = (
    "end_user_identifier",
    "end_customer_name",
    "product_description",
    "sku",
    "start_date",
    "end_date",
    "quantity",
    "unit_msrp",
    "unit_cost",
    "file_currency_id",
)
#: The line's text fields filled from the cells of a row that could not be
#: read (the core's column names -> line fields).
TEXT_COLUMNS = {
    "end_user_identifier": "end_user_identifier",
    "end_customer_name": "end_customer_name",
    "partner_name": "file_partner_name",
    "partner_identifier": "file_partner_ref",
    "product_description": "product_description",
    "sku": "sku",
}
#: The same for dates and amounts, kept when the cell reads as one.
DATE_COLUMNS = {"start_date": "start_date", "end_date": "end_date"}
AMOUNT_COLUMNS = {
    "quantity": "quantity",
    "unit_msrp": "unit_msrp",
    "unit_price": "unit_cost",
}
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
    # The month close: what Sophos bills for the row and what it earns.
    cost_subtotal = fields.Monetary(
        string="Cost Subtotal",
        currency_field="file_currency_id",
        compute="_compute_cost",
        store=True,
        precompute=True,
        groups=COST_GROUPS,
        help="Quantity x the file's Unit Price: what Sophos bills for the row.",
    )
    cost_subtotal_company = fields.Monetary(
        string="Cost (company currency)",
        currency_field="company_currency_id",
        compute="_compute_cost",
        store=True,
        precompute=True,
        groups=COST_GROUPS,
        help="The cost converted to the company currency at the rate of the "
        "billing month's first day, as the billed subtotal is.",
    )
    margin_company = fields.Monetary(
        string="Margin",
        currency_field="company_currency_id",
        compute="_compute_margin",
        store=True,
        precompute=True,
        groups=COST_GROUPS,
        help="Billed subtotal minus cost, in the company currency, on the "
        "billable rows (the cost of the others is not billed: see Month close).",
    )
    margin_percent = fields.Float(
        string="Margin %",
        digits=(16, 2),
        aggregator=None,
        compute="_compute_margin",
        store=True,
        precompute=True,
        groups=COST_GROUPS,
    )
    below_cost = fields.Boolean(
        compute="_compute_margin",
        store=True,
        precompute=True,
        groups=COST_GROUPS,
        help="A billable consumption priced below what Sophos bills for it.",
    )
    # What the analysis adds up as billed: billed rows only, whatever the
    # filter (rows in error, duplicates and cancelled imports bill nothing).
    billed_quantity = fields.Float(
        digits=False,
        compute="_compute_billed_measures",
        store=True,
        precompute=True,
    )
    billed_subtotal_company = fields.Monetary(
        string="Billed (company currency)",
        currency_field="company_currency_id",
        compute="_compute_billed_measures",
        store=True,
        precompute=True,
    )
    close_status = fields.Selection(
        CLOSE_STATUSES,
        string="Month close",
        compute="_compute_close_status",
        store=True,
        precompute=True,
        index=True,
        help="Whether the row's cost is billed to a reseller, and if not why.",
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

    @api.depends(
        "quantity", "unit_cost", "file_currency_id", "company_id", "period_date"
    )
    def _compute_cost(self):
        to_company = self._ppu_company_converter()
        for line in self:
            line.update(line._ppu_cost_values(line, to_company))

    @api.depends("state", "quantity", "price_subtotal_company", "cost_subtotal_company")
    def _compute_margin(self):
        for line in self:
            line.update(line._ppu_margin_values(line, line.company_id))

    @api.depends("billed", "quantity", "price_subtotal_company")
    def _compute_billed_measures(self):
        for line in self:
            line.billed_quantity = line.billed and line.quantity
            line.billed_subtotal_company = line.billed and line.price_subtotal_company

    @api.depends("billed", "state", "quantity", "issue")
    def _compute_close_status(self):
        for line in self:
            line.close_status = month_close.close_status(
                line.billed, line.state, line.quantity, line.issue
            )

    @api.model
    def _ppu_cost_values(self, row, to_company):
        """The cost fields of ``row`` (a line, or its values with records)."""
        company = row["company_id"]
        currency = row["file_currency_id"] or company.currency_id
        cost = currency.round(row["quantity"] * row["unit_cost"])
        return {
            "cost_subtotal": cost,
            "cost_subtotal_company": to_company(
                cost, currency, company, row["period_date"]
            ),
        }

    @api.model
    def _ppu_margin_values(self, row, company):
        """The margin fields of ``row`` (a line, or its values with its costs):
        on billable rows only, the others earn nothing."""
        if row["state"] != "ok":
            return {"margin_company": 0.0, "margin_percent": 0.0, "below_cost": False}
        currency = company.currency_id
        billed, cost = row["price_subtotal_company"], row["cost_subtotal_company"]
        margin = currency.round(billed - cost)
        return {
            "margin_company": margin,
            "margin_percent": billed and round(100 * margin / billed, 2),
            "below_cost": row["quantity"] > 0
            and currency.compare_amounts(billed, cost) < 0,
        }

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
            row = dict(
                vals,
                company_id=company,
                file_currency_id=Currency.browse(vals.get("file_currency_id")),
                quantity=vals.get("quantity") or 0.0,
                unit_cost=vals.get("unit_cost") or 0.0,
            )
            vals.update(self._ppu_cost_values(row, to_company))
            vals.update(self._ppu_margin_values(dict(row, **vals), company))
            vals.update(
                end_user_key=normalise_identifier(vals.get("end_user_identifier"))
                or False,
                billed_quantity=0.0,
                billed_subtotal_company=0.0,
                close_status=month_close.close_status(
                    False, vals["state"], row["quantity"], vals.get("issue")
                ),
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
            if set(vals) & set(CORRECTABLE):
                return self._ppu_correct(vals)
            refuse_untrusted(self, vals, USER_WRITABLE)
            if "subscription_id" in vals:
                return self._ppu_match_by_hand(vals["subscription_id"])
        return super().write(vals)

    def _ppu_correct(self, vals):
        """Ops correct the values of rows that could not be read, then check."""
        refuse_untrusted(self, vals, CORRECTABLE)
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
        """Rows that could not be read, corrected by hand: those whose values
        are now complete and consistent become readable rows again, under
        their consumption key; the others say what is still missing."""
        labels = {name: self._fields[name].string for name in CORRECTABLE}
        for line in self.filtered("parse_error"):
            pending = [
                name for name in (line.correction_pending or "").split(",") if name
            ]
            if not line.corrected:
                continue  # never corrected: the file's reasons stay
            missing = [
                labels.get(name, name)
                for name in (
                    "end_user_identifier",
                    "product_description",
                    "start_date",
                    "end_date",
                )
                if not line[name]
            ] + [labels.get(name, name) for name in pending if name != "*"]
            if missing:
                reason = self.env._(
                    "Row %(row)s: %(fields)s missing.",
                    row=line.row_number,
                    fields=", ".join(missing),
                )
            elif line.end_date < line.start_date:
                reason = self.env._(
                    "Row %(row)s: the end date is before the start date.",
                    row=line.row_number,
                )
            else:
                reason = False
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
                    "consumption_key": consumption_key(*line._ppu_source_row()),
                }
            )

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
            base_key = consumption_key(*line._ppu_source_row())
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
                        *other._ppu_source_row()
                    )
                    == key
                )
            )
            line._ppu_write(
                {
                    "repeat_confirmed": True,
                    "consumption_key": consumption_key(
                        *line._ppu_source_row(), repeat=rank
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

    def _ppu_source_row(self):
        """The arguments of ``consumption_key`` for this row as read."""
        self.ensure_one()
        return (
            self.end_user_identifier,
            self.sku or self.product_description,
            self.start_date,
            self.end_date,
            self.quantity,
        )

    @api.model
    def _ppu_values_from_result(self, result, company):
        """Line values (ROW_FIELDS) of every row of a read file, in file order:
        valid rows with their parsed values, rows with issues as parse errors
        whose message lists the issues."""
        currencies = {
            currency.name: currency.id
            for currency in self.env["res.currency"]
            .with_context(active_test=False)
            .search([])
        }
        values = []
        order = {header: i for i, header in enumerate(getattr(result, "headers", []))}
        for row in result.rows:
            currency_id = company.currency_id.id
            message = False
            if row.currency:
                currency_id = currencies.get(row.currency.upper())
                if not currency_id:
                    message = self.env._(
                        "Row %(row)s: unknown currency %(currency)s.",
                        row=row.row_number,
                        currency=row.currency,
                    )
            values.append(
                {
                    "row_number": row.row_number,
                    "raw_values": json.dumps(
                        _raw_row(row, result.columns, order),
                        default=str,
                        ensure_ascii=False,
                    ),
                    "end_user_identifier": row.end_user_identifier,
                    "end_customer_name": row.end_customer_name,
                    "file_partner_name": row.partner_name,
                    "file_partner_ref": row.partner_identifier,
                    "product_description": row.product_description,
                    "sku": row.sku,
                    "start_date": row.start_date,
                    "end_date": row.end_date,
                    "quantity": float(row.quantity),
                    "unit_msrp": float(row.unit_msrp),
                    "unit_cost": float(row.unit_price),
                    "file_currency_id": currency_id or False,
                    "consumption_key": consumption_key(*row.consumption_key),
                    "repeat_of_row": result.repeats.get(row.row_number, 0),
                    "parse_error": bool(message),
                    "message": message,
                    "subscription_id": False,
                    "match_method": False,
                }
            )
        issues = defaultdict(list)
        for issue in result.issues:
            issues[issue.row_number].append(issue)
        issue_cells = getattr(result, "issue_cells", None) or {}
        for row_number, row_issues in issues.items():
            cells = issue_cells.get(row_number) or {
                issue.column: issue.value for issue in row_issues
            }
            values.append(
                {
                    "row_number": row_number,
                    "raw_values": json.dumps(cells, default=str, ensure_ascii=False),
                    **_readable_cells(cells, result.columns),
                    "correction_pending": _bad_fields(row_issues, result.columns),
                    "parse_error": True,
                    "message": "; ".join(str(issue) for issue in row_issues),
                    "subscription_id": False,
                    "match_method": False,
                }
            )
        values.sort(key=lambda vals: vals["row_number"])
        return values


def _raw_row(row, columns, order):
    """The row's values by the file's column names, as read (extra columns
    included)."""
    raw = {
        columns.get(name, name): value
        for name in (
            "end_user_identifier",
            "end_customer_name",
            "partner_name",
            "partner_identifier",
            "product_description",
            "sku",
            "start_date",
            "end_date",
            "quantity",
            "unit_msrp",
            "unit_price",
            "currency",
        )
        if (value := getattr(row, name)) is not None
    }
    raw.update(row.extra or {})
    return dict(sorted(raw.items(), key=lambda item: order.get(item[0], len(order))))


def _readable_cells(cells, columns):
    """The line values that the cells of a row that could not be read still
    give: its texts, and its dates and amounts that read as such."""
    values = {}
    for name, field_name in TEXT_COLUMNS.items():
        text = cells.get(columns.get(name))
        if text:
            values[field_name] = text
    for name, field_name in DATE_COLUMNS.items():
        parsed = parse_date(cells.get(columns.get(name)))
        if parsed and not isinstance(parsed, Bad):
            values[field_name] = parsed
    for name, field_name in AMOUNT_COLUMNS.items():
        parsed = parse_amount(cells.get(columns.get(name)))
        if parsed and not isinstance(parsed, Bad):
            values[field_name] = float(parsed[0])
    return values


def _bad_fields(issues, columns):
    """The line fields of the cells with issues, for ops to correct ("*" when
    no cell of the row is one ops can correct)."""
    by_header = {header: name for name, header in columns.items()}
    line_fields = {**TEXT_COLUMNS, **DATE_COLUMNS, **AMOUNT_COLUMNS}
    bad = {
        line_fields.get(by_header.get(issue.column))
        for issue in issues
        if line_fields.get(by_header.get(issue.column)) in CORRECTABLE
    }
    return ",".join(sorted(bad)) or "*"
