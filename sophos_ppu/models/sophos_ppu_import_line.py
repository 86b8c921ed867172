# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.sophos_ppu.core.billing import consumption_key

from .billing_guard import is_trusted, refuse_untrusted, trusted

#: What ops may change on a row themselves: the subscription of a row that
#: cannot be billed, then check again. Everything else is the checks' result.
USER_WRITABLE = ("subscription_id",)


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
    period_date = fields.Date(related="import_id.period_date")
    parent_state = fields.Selection(related="import_id.state", string="Import Status")
    row_number = fields.Integer(string="Row", help="Row number in the file.")
    raw_values = fields.Text(
        string="Values as read", help="The row as read from the file (JSON)."
    )
    # Parsed values
    end_user_identifier = fields.Char(string="End User Identifier", index=True)
    end_customer_name = fields.Char(string="End Customer (file)")
    file_partner_name = fields.Char(string="Partner (file)")
    file_partner_ref = fields.Char(
        string="Partner ID (file)",
        help="The reseller's identifier in the file, compared with the "
        "Reference of the reseller in Odoo.",
    )
    product_description = fields.Char(string="Product Description")
    sku = fields.Char(string="SKU")
    start_date = fields.Date()
    end_date = fields.Date()
    quantity = fields.Float(digits="Product Unit of Measure")
    unit_msrp = fields.Float(string="Unit MSRP", digits="Product Price")
    unit_cost = fields.Float(
        string="Cost",
        digits="Product Price",
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
    )
    parse_error = fields.Boolean(
        help="The row could not be read: fix the file and import it again."
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
    )
    partner_id = fields.Many2one(
        "res.partner", string="Reseller", index="btree_not_null"
    )
    end_customer_id = fields.Many2one(
        related="subscription_id.end_customer_id", string="End Customer"
    )
    pricelist_id = fields.Many2one(related="subscription_id.pricelist_id")
    pricelist_item_id = fields.Many2one(
        "product.pricelist.item", string="Rule", ondelete="set null"
    )
    currency_id = fields.Many2one("res.currency", string="Currency")
    price_unit = fields.Float(string="Unit Price", digits="Product Price")
    price_subtotal = fields.Monetary(string="Subtotal", currency_field="currency_id")
    state = fields.Selection(
        [("ok", "OK"), ("error", "Error"), ("duplicate", "Duplicate")],
        default="error",
        required=True,
        index=True,
    )
    message = fields.Char(string="Reason")
    duplicate_import_id = fields.Many2one(
        "sophos.ppu.import",
        string="Billed by",
        ondelete="set null",
        help="The import that already billed this consumption.",
    )
    repeat_of_row = fields.Integer(
        string="Repeats row",
        readonly=True,
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
        refuse_untrusted(self, vals, USER_WRITABLE)
        if "subscription_id" in vals and not is_trusted():
            self._ppu_check_fixable()
            # A subscription picked by ops sticks when the batch is checked again.
            vals = dict(
                vals, match_method="manual" if vals["subscription_id"] else False
            )
            with trusted():
                return super().write(vals)
        return super().write(vals)

    def _ppu_check_fixable(self):
        """Ops fix rows that cannot be billed, in a batch not invoiced yet."""
        for line in self:
            if (
                line.billed
                or line.state == "ok"
                or line.parse_error
                or line.import_id.state not in ("draft", "checked")
            ):
                raise UserError(
                    self.env._(
                        "Row %(row)s of import %(batch)s cannot be changed: only "
                        "rows in error or duplicate of an import not invoiced "
                        "yet can be matched by hand.",
                        row=line.row_number,
                        batch=line.import_id.name,
                    )
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
                        _raw_row(row), default=str, ensure_ascii=False
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
        for row_number, row_issues in issues.items():
            values.append(
                {
                    "row_number": row_number,
                    "raw_values": json.dumps(
                        {issue.column: issue.value for issue in row_issues},
                        default=str,
                        ensure_ascii=False,
                    ),
                    "parse_error": True,
                    "message": "; ".join(str(issue) for issue in row_issues),
                    "subscription_id": False,
                    "match_method": False,
                }
            )
        values.sort(key=lambda vals: vals["row_number"])
        return values


def _raw_row(row):
    """The row's values by field name, as read (extra columns included)."""
    raw = {
        name: getattr(row, name)
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
    }
    raw.update(row.extra or {})
    return raw
