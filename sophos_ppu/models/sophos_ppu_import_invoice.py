# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Draft invoices of a checked batch: one per reseller and currency, built
with Odoo's own tax computation, all or nothing."""

from collections import defaultdict

from markupsafe import Markup, escape

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from odoo.addons.sophos_ppu.core.billing import invoice_line_label

from ..tools.billing_guard import trusted
from .sophos_ppu_import_check import CHECKED_FIELDS, KEY_BATCH

#: Invoices created per account.move create() call (bounds memory).
MOVE_CREATE_BATCH = 20
#: Product lines of one invoice at most. A reseller's month beyond it is
#: split into several invoices, between end customers (an end customer's
#: lines stay on one invoice when they fit), each an invoice or a credit note
#: by its own total: invoices stay small enough to post, print and send.
INVOICE_MAX_LINES = 2000
#: Invoice lines per unit of invoicing (whole invoices, at least one).
INVOICE_UNIT_LINES = 2000
#: What invoicing reads of a checked row: all of it, its values and its
#: checks' results.
INVOICE_ROW_FIELDS = list(CHECKED_FIELDS)


class SophosPpuImport(models.Model):
    _inherit = "sophos.ppu.import"

    def action_create_invoices(self):
        """Create the draft invoices of a checked batch, all or nothing: the
        rows are checked again, then invoiced, in the background when the
        batch is large (it shows its progress)."""
        self.ensure_one()
        self.check_access("write")
        if self.state in ("importing", "invoicing"):
            raise UserError(
                self.env._(
                    "%(name)s is being imported or invoiced already: wait for "
                    "it to end.",
                    name=self.name,
                )
            )
        if self.state != "checked":
            raise UserError(
                self.env._("Check the import before creating its invoices.")
            )
        leave_errors = bool(self.env.context.get("ppu_leave_errors"))
        if self.error_count and not leave_errors:
            raise UserError(self._ppu_errors_text(self.error_count))
        self._ppu_start_invoicing(leave_errors)
        if self.state == "invoiced":
            return self.action_view_invoices()
        if self.state == "checked":  # refused or rolled back, inline
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "danger",
                    "sticky": True,
                    "message": self.invoice_error,
                },
            }
        return self._ppu_running_notification()

    def _ppu_errors_text(self, count):
        return self.env._(
            "%(count)s rows of import %(name)s are in error. Fix them and "
            "check again, or choose 'Invoice valid lines, leave errors'.",
            count=count,
            name=self.name,
        )

    def _ppu_billable_domain(self):
        return [
            ("import_id", "=", self.id),
            ("state", "=", "ok"),
            ("billed", "=", False),
            ("quantity", "!=", 0),
        ]

    # ------------------------------------------------------------------
    # Which rows go on which invoice
    # ------------------------------------------------------------------

    def _ppu_plan_invoices(self):
        """The units of invoicing: lists of invoices, each a list of row
        ids, about INVOICE_UNIT_LINES rows per unit."""
        rows = self.env["sophos.ppu.import.line"].search_read(
            self._ppu_billable_domain(),
            ["row_number", "subscription_id", "partner_id", "currency_id"],
            load=None,
        )
        parts = self._ppu_invoice_parts(self._ppu_with_subscriptions(rows))
        if not parts:
            raise UserError(self.env._("There is nothing to invoice in this import."))
        units, unit, size = [], [], 0
        for part in parts:
            if unit and size + len(part) > INVOICE_UNIT_LINES:
                units.append(unit)
                unit, size = [], 0
            unit.append([row["id"] for row in part])
            size += len(part)
        units.append(unit)
        return units

    def _ppu_invoice_unit(self, invoices):
        """Create the invoices of one unit (lists of row ids), from the rows
        as the check of this run left them. :returns: the rows billed."""
        ids = [row_id for rows in invoices for row_id in rows]
        by_id = {
            row["id"]: row
            for row in self._ppu_with_subscriptions(
                self.env["sophos.ppu.import.line"].search_read(
                    [("id", "in", ids)], INVOICE_ROW_FIELDS, load=None
                )
            )
        }
        self._ppu_bill([[by_id[row_id] for row_id in rows] for rows in invoices])
        return len(ids)

    def _ppu_with_subscriptions(self, rows):
        """``rows`` (dicts with their subscription id) with the end customer's
        name and the product of their subscription added, and the invoice
        that billed what a correction credits (``credits``)."""
        subscriptions = self.env["sophos.ppu.subscription"].browse(
            {row["subscription_id"] for row in rows}
        )
        facts = {
            subscription.id: (
                subscription.end_customer_id.name or "",
                subscription.product_id,
            )
            for subscription in subscriptions
        }
        credited = {
            line.id: line.invoice_id
            for line in self.env["sophos.ppu.import.line"]
            .sudo()
            .browse({row.get("corrected_line_id") for row in rows} - {False, None})
        }
        for row in rows:
            row["end_customer"], row["product"] = facts[row["subscription_id"]]
            row["credits"] = credited.get(row.get("corrected_line_id"))
        return rows

    def _ppu_invoice_parts(self, rows):
        """Billable rows as invoices: one per reseller and currency (in the
        resellers' name order), its rows by end customer then row, split
        beyond INVOICE_MAX_LINES between end customers."""
        groups = defaultdict(list)
        for row in rows:
            if row.get("state", "ok") == "ok" and row.get("quantity", 1):
                groups[row["partner_id"], row["currency_id"]].append(row)
        names = {
            partner.id: partner.name or ""
            for partner in self.env["res.partner"].browse(
                {partner_id for partner_id, _currency in groups}
            )
        }
        parts = []
        for key in sorted(groups, key=lambda key: (names[key[0]], key)):
            group = sorted(
                groups[key], key=lambda row: (row["end_customer"], row["row_number"])
            )
            parts.extend(split_invoice(group, INVOICE_MAX_LINES))
        return parts

    # ------------------------------------------------------------------
    # Creating the invoices
    # ------------------------------------------------------------------

    def _ppu_create_invoices(self, rows=None):
        """Bill ``rows`` (the dicts of ``_ppu_recheck``; checked again when
        not given) at once, in the user's request."""
        self.ensure_one()
        if rows is None:
            rows = self._ppu_recheck()
        parts = self._ppu_invoice_parts(self._ppu_with_subscriptions(rows))
        if not parts:
            raise UserError(self.env._("There is nothing to invoice in this import."))
        return self._ppu_bill(parts)

    def _ppu_bill(self, parts):
        """One draft invoice per part (rows of one reseller and currency),
        MOVE_CREATE_BATCH per account.move create() call; then claim the
        consumption keys of the billed rows."""
        # As sale does for salesmen: ops create the invoices without
        # accounting rights, from values built here as themselves;
        # accountants review and post them.
        Move = (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            .with_context(
                tracking_disable=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
                mail_notrack=True,
                ppu_create_invoices=True,
            )
        )
        self._ppu_lock_unbilled([row["id"] for rows in parts for row in rows])
        accounting = InvoiceAccounting(self)
        invoice_ids = []
        for some_parts in split_every(MOVE_CREATE_BATCH, parts):
            vals_list = [
                self._ppu_prepare_invoice(rows, accounting) for rows in some_parts
            ]
            with trusted():
                invoices = Move.create(vals_list)
            invoice_ids += invoices.ids
            self._ppu_log_on_invoices(invoices)
            # Bound memory: what was created is not needed in the cache.
            self.env.flush_all()
            self.env.invalidate_all()
        # Claim the consumption keys: the partial unique index refuses a key
        # another transaction billed, even one not committed yet.
        self.env["sophos.ppu.import.line"].browse(
            [row["id"] for rows in parts for row in rows]
        )._ppu_write({"billed": True})
        self.env.flush_all()
        return self.env["account.move"].browse(invoice_ids)

    def _ppu_lock_unbilled(self, line_ids):
        """Lock the rows about to be billed, refusing any that a run of this
        batch billed meanwhile (the unique index guards other batches)."""
        Line = self.env["sophos.ppu.import.line"]
        Line.flush_model(["billed"])
        unbilled = set()
        for some_ids in split_every(KEY_BATCH, line_ids):
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM sophos_ppu_import_line "
                    "WHERE id IN %s AND billed IS NOT TRUE FOR NO KEY UPDATE",
                    tuple(some_ids),
                )
            )
            unbilled.update(row_id for [row_id] in self.env.cr.fetchall())
        if len(unbilled) != len(line_ids):
            raise UserError(
                self.env._("Some rows were billed meanwhile: check the import again.")
            )

    def _ppu_log_on_invoices(self, invoices):
        """Say on each invoice which batch and file made it, as an internal
        note: the invoice's fields, PDF and portal page stay free of the
        batch (resellers never see it; ``invoice_origin`` is left empty on
        purpose), while accountants find it in the chatter beside the
        "Consumption File" button."""
        text = escape(
            self.env._(
                "Created from the consumption import %(batch)s (file %(file)s, "
                "%(period)s)."
            )
        )
        body = Markup("<p>%s</p>") % (
            text
            % {
                "batch": self._get_html_link(),
                "file": self.filename or "-",
                "period": self._ppu_period_label(),
            }
        )
        # As superuser, as the invoices were created (one log per invoice,
        # no notification).
        invoices.sudo()._message_log_batch(
            bodies=dict.fromkeys(invoices.ids, body), message_type="notification"
        )

    def _ppu_prepare_invoice(self, rows, accounting):
        """Values of one draft invoice (a credit note when its total is
        negative) of rows of one reseller and currency, ordered by end
        customer: a section per end customer before its lines (the
        accountant and the reseller read the invoice customer by customer).
        As ``sale.order._prepare_invoice``, with the lines of
        ``_ppu_prepare_invoice_line`` and their taxes computed as
        ``accounting`` does it."""
        partner = self.env["res.partner"].browse(rows[0]["partner_id"])
        currency = self.env["res.currency"].browse(rows[0]["currency_id"])
        total = currency.round(sum(row["price_subtotal"] for row in rows))
        is_refund = currency.compare_amounts(total, 0) < 0
        fiscal_position = accounting.fiscal_position(partner)
        Line = self.env["sophos.ppu.import.line"]
        line_vals = [
            Line._ppu_prepare_invoice_line(
                row,
                *accounting.product_accounting(row["product"], partner),
                quantity_sign=-1 if is_refund else 1,
            )
            for row in rows
        ]
        for row, vals in zip(rows, line_vals, strict=True):
            if row.get("credits"):
                vals["name"] += " — " + self.with_context(lang=partner.lang).env._(
                    "credits %(invoice)s", invoice=row["credits"].display_name
                )
        accounting.add_amounts(line_vals, partner, currency, is_refund)
        commands, customer = [], None
        for row, vals in zip(rows, line_vals, strict=True):
            if row["end_customer"] != customer:
                customer = row["end_customer"]
                commands.append(
                    Command.create(
                        {"display_type": "line_section", "name": customer or "-"}
                    )
                )
            commands.append(Command.create(vals))
        return {
            # Numbered when posted: Odoo gives the first draft of a period
            # its first number at once, and units creating drafts at the same
            # moment would each take it (then fail to post).
            "name": "/",
            "move_type": "out_refund" if is_refund else "out_invoice",
            "company_id": self.company_id.id,
            "partner_id": partner.id,
            "currency_id": currency.id,
            "fiscal_position_id": fiscal_position.id,
            "invoice_payment_term_id": partner.with_company(
                self.company_id
            ).property_payment_term_id.id,
            "ref": accounting.ref(partner),
            "ppu_import_id": self.id,
            "invoice_line_ids": commands,
        }


class SophosPpuImportLine(models.Model):
    _inherit = "sophos.ppu.import.line"

    @api.model
    def _ppu_prepare_invoice_line(
        self, row, taxes, account, distribution, quantity_sign
    ):
        """Values of the invoice line of a checked row (a dict of
        ``INVOICE_ROW_FIELDS`` with its end customer and product), as
        ``sale.order.line._prepare_invoice_line``: labelled with the end
        customer, the service and its dates."""
        product = row["product"]
        vals = {
            "display_type": "product",
            "product_id": product.id,
            "product_uom_id": product.uom_id.id,
            "name": invoice_line_label(
                row["end_customer"],
                row["product_description"],
                row["start_date"],
                row["end_date"],
            ),
            "quantity": quantity_sign * row["quantity"],
            "price_unit": row["price_unit"],
            "tax_ids": [Command.set(taxes.ids)],
            "ppu_import_line_id": row["id"],
            "ppu_subscription_id": row["subscription_id"],
            "analytic_distribution": distribution or False,
        }
        if account:
            vals["account_id"] = account.id
        return vals


def split_invoice(rows, max_lines):
    """``rows`` (ordered by end customer) as invoices of at most
    ``max_lines``, cut between end customers where an end customer fits."""
    parts, part = [], []
    for customer_rows in _runs_of(rows, lambda row: row["end_customer"]):
        if part and len(part) + len(customer_rows) > max_lines:
            parts.append(part)
            part = []
        part.extend(customer_rows)
        while len(part) > max_lines:
            parts.append(part[:max_lines])
            part = part[max_lines:]
    if part:
        parts.append(part)
    return parts


def _runs_of(rows, key):
    run = []
    for row in rows:
        if run and key(row) != key(run[-1]):
            yield run
            run = []
        run.append(row)
    if run:
        yield run


class InvoiceAccounting:
    """The accounting facts of a unit's invoices, looked up once each (who
    creates the invoices may not read the accounting set-up): fiscal
    positions, taxes, income accounts, analytic distributions, and the
    tax amounts of the lines, computed with Odoo's own ``account.tax``
    helpers as the invoice computes them when it synchronises its lines, so
    that creating the invoice does not rewrite every line (the invoice still
    computes its taxes, payment terms and balance itself and overrides any
    amount that would differ)."""

    def __init__(self, batch):
        self.env = batch.env
        self.batch = batch
        self.company = batch.company_id
        self._refs = {}
        self._fiscal_positions = {}
        self._products = {}

    def ref(self, partner):
        """The invoice's reference in ``partner``'s language (it shows on
        the PDF and the statement the reseller reads)."""
        lang = partner.lang or self.env.lang
        if lang not in self._refs:
            batch = self.batch.with_context(lang=lang)
            self._refs[lang] = batch.env._(
                "Sophos consumption %(period)s", period=batch._ppu_period_label()
            )
        return self._refs[lang]

    def fiscal_position(self, partner):
        if partner not in self._fiscal_positions:
            self._fiscal_positions[partner] = (
                self.env["account.fiscal.position"]
                .with_company(self.company)
                ._get_fiscal_position(partner)
            )
        return self._fiscal_positions[partner]

    def product_accounting(self, product, partner):
        """(taxes, income account, analytic distribution) of ``product``
        sold to ``partner``."""
        fiscal_position = self.fiscal_position(partner)
        key = (product, partner, fiscal_position)
        if key not in self._products:
            taxes = product.taxes_id.filtered(
                lambda tax: tax.company_id in self.company.parent_ids
            )
            account = product.product_tmpl_id.with_company(
                self.company
            ).get_product_accounts(fiscal_pos=fiscal_position)["income"]
            # What account.move.line._compute_analytic_distribution finds.
            distribution = (
                self.env["account.analytic.distribution.model"]
                .sudo()
                ._get_distribution(
                    {
                        "product_id": product.id,
                        "product_categ_id": product.categ_id.id,
                        "partner_id": partner.id,
                        "partner_category_id": partner.category_id.ids,
                        "account_prefix": account.code,
                        "company_id": self.company.id,
                    }
                )
            )
            self._products[key] = (
                fiscal_position.map_tax(taxes),
                account,
                distribution,
            )
        return self._products[key]

    def add_amounts(self, line_vals, partner, currency, is_refund):
        """Give each line's values the amounts, balance and tax tags of
        Odoo's tax computation."""
        AccountTax = self.env["account.tax"]
        company = self.company
        rate = self.env["res.currency"]._get_conversion_rate(
            company.currency_id,
            currency,
            company,
            fields.Date.context_today(AccountTax),
        )
        base_lines = [
            AccountTax._prepare_base_line_for_taxes_computation(
                None,
                product_id=self.env["product.product"].browse(vals["product_id"]),
                tax_ids=self.env["account.tax"].browse(vals["tax_ids"][0][2]),
                price_unit=vals["price_unit"],
                quantity=vals["quantity"],
                currency_id=currency,
                rate=rate,
                # out_invoice is inbound (product lines credited), out_refund
                # outbound
                sign=1 if is_refund else -1,
                is_refund=is_refund,
                tax_tag_invert=not is_refund,
                partner_id=partner,
                account_id=self.env["account.account"].browse(vals.get("account_id")),
            )
            for vals in line_vals
        ]
        AccountTax._add_tax_details_in_base_lines(base_lines, company)
        AccountTax._round_base_lines_tax_details(base_lines, company)
        AccountTax._add_accounting_data_in_base_lines_tax_details(base_lines, company)
        amounts = AccountTax._prepare_tax_lines(base_lines, company)
        for vals, (_base_line, to_update) in zip(
            line_vals, amounts["base_lines_to_update"], strict=True
        ):
            vals.update(to_update)
