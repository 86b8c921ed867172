# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The month close of a batch, for accountants: Sophos's bill made from the
file (or the one they entered, linked and compared), what the resellers
were billed, the cost billed to nobody and why, the margin, and the
exceptions of the month. The decisions are the core's
(``sophos_ppu.core.month_close``)."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date, formatLang

from odoo.addons.sophos_ppu.core.month_close import (
    BILLABLE,
    CostRow,
    compare_bill,
    vendor_bill_lines,
)

from .sophos_ppu_import_line import COST_GROUPS

#: The totals of the Reconciliation tab, in the company currency.
CLOSE_TOTALS = (
    "close_cost_company",
    "close_billed_cost_company",
    "close_unbilled_cost_company",
    "close_billed_company",
    "close_margin_company",
)


class SophosPpuImport(models.Model):
    _inherit = "sophos.ppu.import"

    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    vendor_bill_ids = fields.One2many(
        "account.move",
        "ppu_cost_import_id",
        string="Sophos Bills",
        readonly=True,
        help="Sophos's bills for this file: made from it, or entered by hand "
        "and linked.",
    )
    reconciliation_ids = fields.One2many(
        "sophos.ppu.reconciliation", "import_id", string="Month close", readonly=True
    )
    close_cost_company = fields.Monetary(
        string="Sophos cost",
        currency_field="company_currency_id",
        compute="_compute_close_totals",
        groups=COST_GROUPS,
        help="What Sophos bills for every row of the file.",
    )
    close_billed_cost_company = fields.Monetary(
        string="Cost billed to resellers",
        currency_field="company_currency_id",
        compute="_compute_close_totals",
        groups=COST_GROUPS,
    )
    close_unbilled_cost_company = fields.Monetary(
        string="Cost billed to nobody",
        currency_field="company_currency_id",
        compute="_compute_close_totals",
        groups=COST_GROUPS,
        help="The cost of the rows no reseller is billed for: errors, "
        "duplicates held, zero quantities, closed subscriptions.",
    )
    close_billed_company = fields.Monetary(
        string="Billed to resellers",
        currency_field="company_currency_id",
        compute="_compute_close_totals",
        groups=COST_GROUPS,
        help="The billable rows' subtotals: what the invoices and credit notes "
        "of this import bill (to bill, before they are created).",
    )
    close_margin_company = fields.Monetary(
        string="Margin",
        currency_field="company_currency_id",
        compute="_compute_close_totals",
        groups=COST_GROUPS,
        help="Billed to resellers minus the cost billed to them.",
    )
    close_margin_percent = fields.Float(
        string="Margin %",
        digits=(16, 2),
        compute="_compute_close_totals",
        groups=COST_GROUPS,
    )
    close_result_company = fields.Monetary(
        string="Month result",
        currency_field="company_currency_id",
        compute="_compute_close_totals",
        groups=COST_GROUPS,
        help="Billed to resellers minus everything Sophos bills: the margin "
        "less the cost billed to nobody.",
    )
    below_cost_count = fields.Integer(
        string="Below cost",
        compute="_compute_close_totals",
        groups=COST_GROUPS,
        help="Billable rows priced below what Sophos bills for them.",
    )
    vendor_bill_difference = fields.Monetary(
        string="Sophos bill difference",
        currency_field="company_currency_id",
        compute="_compute_vendor_bill_comparison",
        groups=COST_GROUPS,
        help="Sophos's bills minus the file's cost, per currency, converted "
        "to the company currency: zero when they agree.",
    )
    vendor_bill_comparison = fields.Html(
        string="Sophos's bill against the file",
        compute="_compute_vendor_bill_comparison",
        sanitize=False,
        groups=COST_GROUPS,
    )
    idle_subscription_ids = fields.Many2many(
        "sophos.ppu.subscription",
        string="Subscriptions without consumption",
        compute="_compute_idle_subscriptions",
        help="Active subscriptions, ordered before the month ended, that the "
        "file has no row for.",
    )
    unknown_line_ids = fields.One2many(
        "sophos.ppu.import.line",
        "import_id",
        string="Unknown end customers",
        domain=[("issue", "=", "no_subscription")],
        readonly=True,
        help="Consumption whose End User Identifier no subscription has: ask "
        "the reseller the file names to order it.",
    )

    # ------------------------------------------------------------------
    # Totals
    # ------------------------------------------------------------------

    @api.depends("line_ids.close_status", "line_ids.margin_company")
    def _compute_close_totals(self):
        sums = defaultdict(lambda: defaultdict(float))
        for batch, status, cost, billed, margin in self.env[
            "sophos.ppu.reconciliation"
        ]._read_group(
            [("import_id", "in", self._origin.ids)],
            ["import_id", "close_status"],
            [
                "cost_subtotal_company:sum",
                "price_subtotal_company:sum",
                "margin_company:sum",
            ],
        ):
            totals = sums[batch.id]
            totals["close_cost_company"] += cost
            part = "billed" if status in BILLABLE else "unbilled"
            totals[f"close_{part}_cost_company"] += cost
            totals["close_billed_company"] += billed
            totals["close_margin_company"] += margin
        below = dict(
            self.env["sophos.ppu.import.line"]._read_group(
                [("import_id", "in", self._origin.ids), ("below_cost", "=", True)],
                ["import_id"],
                ["__count"],
            )
        )
        for batch in self:
            totals = sums[batch._origin.id]
            batch.update({name: totals[name] for name in CLOSE_TOTALS})
            batch.close_result_company = (
                totals["close_billed_company"] - totals["close_cost_company"]
            )
            batch.close_margin_percent = totals["close_billed_company"] and (
                100 * totals["close_margin_company"] / totals["close_billed_company"]
            )
            batch.below_cost_count = below.get(batch._origin, 0)

    # ------------------------------------------------------------------
    # Exceptions
    # ------------------------------------------------------------------

    @api.depends("line_ids.subscription_id", "period_date")
    def _compute_idle_subscriptions(self):
        Subscription = self.env["sophos.ppu.subscription"]
        for batch in self:
            if not batch.id or not batch.period_date:
                batch.idle_subscription_ids = False
                continue
            domain = batch._ppu_subscription_domain() + [
                ("state", "=", "active"),
                "|",
                ("date_start", "=", False),
                ("date_start", "<=", batch.period_end_date),
            ]
            query = Subscription._search(domain, order="id")
            query.add_where(
                SQL(
                    "NOT EXISTS (SELECT 1 FROM sophos_ppu_import_line line "
                    "WHERE line.subscription_id = %s AND line.import_id = %s)",
                    SQL.identifier(query.table, "id"),
                    batch.id,
                )
            )
            batch.idle_subscription_ids = Subscription.browse(query)

    # ------------------------------------------------------------------
    # Sophos's bill
    # ------------------------------------------------------------------

    def _ppu_file_costs(self):
        """{currency: [BillLine]}: Sophos's bill of the whole file, every row
        billed to a reseller or not."""
        self.ensure_one()
        Line = self.env["sophos.ppu.import.line"]
        query = Line._search([("import_id", "=", self.id)])
        table = query.table
        rows = self.env.execute_query(
            SQL(
                "SELECT %s, %s, %s, %s, SUM(%s), SUM(%s) FROM %s WHERE %s "
                "GROUP BY 1, 2, 3, 4",
                *(
                    Line._field_to_sql(table, name, query)
                    for name in (
                        "file_currency_id",
                        "sku",
                        "product_description",
                        "unit_cost",
                        "quantity",
                        "cost_subtotal",
                    )
                ),
                query.from_clause,
                query.where_clause,
            )
        )
        Currency = self.env["res.currency"]
        company_currency = self.company_id.currency_id
        return vendor_bill_lines(
            CostRow(
                Currency.browse(currency_id) if currency_id else company_currency,
                sku,
                description,
                float(unit_cost or 0),
                float(quantity or 0),
                cost or 0,
            )
            for currency_id, sku, description, unit_cost, quantity, cost in rows
            if quantity or cost
        )

    def action_create_vendor_bills(self):
        """Sophos's draft bill(s) for the file: one per file currency, a line
        per service and unit price, dated the month's last day, the file
        attached, equal to the file's cost to the cent."""
        self.ensure_one()
        self._ppu_check_vendor_bill_rights()
        company = self.company_id
        vendor, product = company.ppu_vendor_id, company.ppu_cost_product_id
        if not vendor or not product:
            raise UserError(
                self.env._(
                    "Set the Sophos vendor and the cost product in Settings "
                    "(Sophos Pay-Per-Use) first."
                )
            )
        if self.state not in ("checked", "invoicing", "invoiced"):
            raise UserError(
                self.env._(
                    "Check import %(name)s before billing its cost.", name=self.name
                )
            )
        if self.vendor_bill_ids.filtered(lambda bill: bill.state != "cancel"):
            raise UserError(
                self.env._(
                    "Import %(name)s has a Sophos bill already: compare it on the "
                    "Month close tab, or cancel it first.",
                    name=self.name,
                )
            )
        costs = self._ppu_file_costs()
        if not costs:
            raise UserError(
                self.env._("The file of %(name)s costs nothing.", name=self.name)
            )
        Move = self.env["account.move"].with_company(company)
        currencies = sorted(costs, key=lambda currency: currency.name)
        bills = Move.create(
            [
                self._ppu_prepare_vendor_bill(currency, costs[currency])
                for currency in currencies
            ]
        )
        for bill in bills:
            bill._ppu_round_to(sum(line.cost for line in costs[bill.currency_id]))
        attachments = self.attachment_id.sudo()
        for bill in bills:
            copy = attachments.copy({"res_model": "account.move", "res_id": bill.id})
            bill.message_post(
                body=escape(
                    self.env._("Made from the consumption file of import %(batch)s.")
                )
                % {"batch": self._get_html_link()},
                attachment_ids=copy.ids,
            )
        # Accountants read batches only: the batch tells its story itself.
        self.sudo().message_post(
            body=escape(
                self.env._("Sophos's bill %(bills)s made from the file by %(user)s.")
            )
            % {
                "bills": Markup(", ").join(bill._get_html_link() for bill in bills),
                "user": self.env.user.name,
            }
        )
        return self.action_view_vendor_bills()

    def _ppu_check_vendor_bill_rights(self):
        """Accountants bill Sophos's cost: the model layer says so too."""
        self.env["account.move"].check_access("create")
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(self.env._("Only accountants handle Sophos's bills."))

    def _ppu_prepare_vendor_bill(self, currency, lines):
        """Values of Sophos's draft bill of ``lines`` (BillLine) in ``currency``,
        as ``_ppu_prepare_invoice`` does for the resellers."""
        company = self.company_id
        product = company.ppu_cost_product_id
        account = company.ppu_cost_account_id
        return {
            "move_type": "in_invoice",
            "company_id": company.id,
            "partner_id": company.ppu_vendor_id.id,
            "currency_id": currency.id,
            "invoice_date": self.period_end_date,
            "ref": self.env._(
                "Sophos consumption %(period)s", period=self._ppu_period_label()
            ),
            "ppu_cost_import_id": self.id,
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": product.id,
                        "name": line.label,
                        "quantity": line.quantity,
                        "price_unit": line.unit_cost,
                        **({"account_id": account.id} if account else {}),
                    }
                )
                for line in lines
            ],
        }

    def action_view_vendor_bills(self):
        self.ensure_one()
        return self._ppu_moves_action(self.vendor_bill_ids, "in_invoice")

    def action_link_vendor_bill(self):
        """Link the bill an accountant entered for this file."""
        self.ensure_one()
        self._ppu_check_vendor_bill_rights()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Link Sophos's bill"),
            "res_model": "sophos.ppu.vendor.bill.link",
            "view_mode": "form",
            "target": "new",
            "context": {"default_import_id": self.id},
        }

    @api.depends(
        "vendor_bill_ids.invoice_line_ids.price_subtotal", "vendor_bill_ids.state"
    )
    def _compute_vendor_bill_comparison(self):
        for batch in self:
            if not batch.id or not batch.vendor_bill_ids:
                batch.vendor_bill_comparison = False
                batch.vendor_bill_difference = 0.0
                continue
            tables = batch._ppu_vendor_bill_tables()
            batch.vendor_bill_difference = _bill_difference(tables)
            batch.vendor_bill_comparison = self.env["ir.qweb"]._render(
                "sophos_ppu.ppu_vendor_bill_comparison",
                {"tables": tables, "batch": batch},
            )

    def _ppu_vendor_bill_tables(self):
        """[(currency, [Difference], difference in company currency)]: the
        linked bills (not cancelled) against the file, per currency, line by
        line."""
        self.ensure_one()
        costs = self._ppu_file_costs()
        # Whoever sees the costs sees the bill they are compared with.
        bills = self.vendor_bill_ids.sudo().filtered(
            lambda bill: bill.state != "cancel"
        )
        lines = defaultdict(list)
        for bill in bills:
            sign = -1 if bill.move_type == "in_refund" else 1
            for line in bill.invoice_line_ids.filtered(
                lambda line: line.display_type == "product"
            ):
                lines[bill.currency_id].append(
                    (
                        line.name or line.product_id.display_name,
                        sign * line.quantity,
                        sign * Decimal(str(line.price_subtotal)),
                    )
                )
        to_company = self.env["sophos.ppu.import.line"]._ppu_company_converter()
        tables = []
        for currency in sorted(set(costs) | set(lines), key=lambda c: c.name):
            rows = compare_bill(costs.get(currency, []), lines.get(currency, []))
            difference = float(sum(row.difference for row in rows))
            tables.append(
                (
                    currency,
                    rows,
                    to_company(difference, currency, self.company_id, self.period_date),
                )
            )
        return tables

    # ------------------------------------------------------------------
    # The month-end file (.xlsx and PDF)
    # ------------------------------------------------------------------

    def action_download_month_close(self):
        """The month close as .xlsx, built by its route on each download."""
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_url",
            "url": f"/sophos_ppu/import/{self.id}/month-close.xlsx",
            "target": "self",
        }

    def _ppu_close_tables(self):
        """The month close as tables, (title, header, rows) each: what the
        .xlsx and the PDF show, amounts as numbers."""
        self.ensure_one()
        _ = self.env._
        Line = self.env["sophos.ppu.import.line"]
        rows_of = [("import_id", "=", self.id)]
        # The bill against the file, compared once for both of its tables.
        bill_tables = self._ppu_vendor_bill_tables()
        return [
            self._ppu_totals_table(bill_tables),
            self._ppu_records_table(
                _("By currency and reason"),
                self.reconciliation_ids,
                [
                    "file_currency_id",
                    "close_status",
                    "row_count",
                    "quantity",
                    "cost_subtotal",
                    "cost_subtotal_company",
                    "price_subtotal_company",
                    "margin_company",
                ],
            ),
            self._ppu_records_table(
                _("Invoices to resellers"),
                self.invoice_ids.sudo(),
                [
                    "name",
                    "partner_id",
                    "move_type",
                    "state",
                    "currency_id",
                    "amount_untaxed_in_currency_signed",
                    "amount_untaxed_signed",
                ],
            ),
            self._ppu_vendor_bill_table(bill_tables),
            self._ppu_records_table(
                _("Below cost"),
                Line.search([*rows_of, ("below_cost", "=", True)]),
                [
                    "row_number",
                    "partner_id",
                    "end_customer_name",
                    "product_description",
                    "quantity",
                    "price_subtotal_company",
                    "cost_subtotal_company",
                    "margin_company",
                ],
            ),
            self._ppu_records_table(
                _("Without consumption"),
                self.idle_subscription_ids,
                [
                    "partner_id",
                    "end_customer_id",
                    "end_user_identifier",
                    "product_id",
                    "date_start",
                ],
            ),
            self._ppu_records_table(
                _("Unknown end customers"),
                Line.search([*rows_of, ("issue", "=", "no_subscription")]),
                [
                    "row_number",
                    "file_partner_name",
                    "file_partner_ref",
                    "end_user_identifier",
                    "end_customer_name",
                    "product_description",
                    "quantity",
                    "cost_subtotal",
                ],
            ),
        ]

    def _ppu_totals_table(self, bill_tables):
        _ = self.env._
        names = (*CLOSE_TOTALS, "close_margin_percent", "close_result_company")
        labels = self.fields_get(
            [*names, "vendor_bill_difference"], attributes=["string"]
        )
        difference = _bill_difference(bill_tables) if self.vendor_bill_ids else 0.0
        return (
            _("Month close"),
            [
                _("Figure"),
                _("Amount (%(currency)s)", currency=self.company_currency_id.name),
            ],
            [
                *([labels[name]["string"], self[name]] for name in names),
                [labels["vendor_bill_difference"]["string"], difference],
            ],
        )

    def _ppu_vendor_bill_table(self, bill_tables):
        _ = self.env._
        return (
            _("Sophos's bill"),
            [
                _("Currency"),
                _("Service"),
                _("Quantity (file)"),
                _("Cost (file)"),
                _("Quantity (bill)"),
                _("Amount (bill)"),
                _("Difference"),
            ],
            [
                [
                    currency.name,
                    row.label,
                    row.file_quantity,
                    row.file_cost,
                    row.bill_quantity,
                    row.bill_amount,
                    row.difference,
                ]
                for currency, rows, _difference in bill_tables
                for row in rows
            ],
        )

    @api.model
    def _ppu_records_table(self, title, records, names):
        """A table of ``records``, a column per field of ``names`` under its
        label: numbers as numbers, records by name, selections by label."""
        fields = records.fields_get(names, attributes=["string", "type", "selection"])

        def cell(record, name):
            value, field = record[name], fields[name]
            if field["type"] in ("float", "monetary", "integer"):
                return value
            if field["type"] == "many2one":
                return value.display_name or None
            if field["type"] == "selection":
                return dict(field["selection"]).get(value)
            return value or None

        return (
            title,
            [fields[name]["string"] for name in names],
            [[cell(record, name) for name in names] for record in records],
        )

    def _ppu_report_cell(self, cell):
        """(text, is a number) of a cell of ``_ppu_close_tables`` in the PDF."""
        if isinstance(cell, bool) or cell is None:
            return "", False
        if isinstance(cell, int):
            return str(cell), True
        if isinstance(cell, float | Decimal):
            return formatLang(self.env, float(cell)), True
        if isinstance(cell, date):
            return format_date(self.env, cell), False
        return str(cell), False


def _bill_difference(tables):
    """Sophos's bills minus the file's cost, in the company currency, from
    ``_ppu_vendor_bill_tables``."""
    return sum(difference for _currency, _rows, difference in tables)
