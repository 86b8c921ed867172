# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Draft invoices of a checked batch: one per reseller and currency, built
with Odoo's own tax computation, all or nothing."""

from collections import defaultdict

from markupsafe import Markup, escape

from odoo import Command, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from odoo.addons.sophos_ppu.core.billing import invoice_line_label

from .billing_guard import trusted
from .sophos_ppu_import_check import KEY_BATCH

#: Invoices created per account.move create() call (bounds memory).
MOVE_CREATE_BATCH = 20
#: What invoicing reads of a checked row.
INVOICE_ROW_FIELDS = [
    "row_number",
    "state",
    "subscription_id",
    "partner_id",
    "currency_id",
    "product_description",
    "start_date",
    "end_date",
    "quantity",
    "price_unit",
    "price_subtotal",
]


class SophosPpuImport(models.Model):
    _inherit = "sophos.ppu.import"

    def action_create_invoices(self):
        """Create the draft invoices of a checked batch, all or nothing: the
        rows are checked again, then invoiced reseller by reseller, in the
        background when the batch is large (it shows its progress)."""
        self.ensure_one()
        self.check_access("write")
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

    def _ppu_invoice_next_resellers(self, max_rows):
        """Invoice the next resellers of the batch (in name order, whole
        resellers, at least one) up to ``max_rows`` rows, from the rows as
        the checks of this run left them. :returns: the rows billed."""
        self.ensure_one()
        Line = self.env["sophos.ppu.import.line"]
        domain = self._ppu_billable_domain()
        partner_ids, size = [], 0
        for partner, count in Line._read_group(
            domain, ["partner_id"], ["__count"], order="partner_id"
        ):
            if partner_ids and size + count > max_rows:
                break
            partner_ids.append(partner.id)
            size += count
        if not partner_ids:
            return 0
        rows = Line.search_read(
            [*domain, ("partner_id", "in", partner_ids)], INVOICE_ROW_FIELDS, load=None
        )
        self._ppu_create_invoices(rows)
        return len(rows)

    def _ppu_invoice_groups(self, rows):
        """Billable rows (the dicts of ``_ppu_recheck``) by (reseller,
        currency), ordered by end customer then row."""
        rows = [row for row in rows if row["state"] == "ok" and row["quantity"]]
        subscriptions = self.env["sophos.ppu.subscription"].browse(
            {row["subscription_id"] for row in rows}
        )
        customer_of = {
            subscription.id: subscription.end_customer_id.name or ""
            for subscription in subscriptions
        }
        product_of = {
            subscription.id: subscription.product_id for subscription in subscriptions
        }
        Partner, Currency = self.env["res.partner"], self.env["res.currency"]
        groups = defaultdict(list)
        for row in rows:
            row["end_customer"] = customer_of[row["subscription_id"]]
            row["product"] = product_of[row["subscription_id"]]
            key = (
                Partner.browse(row["partner_id"]),
                Currency.browse(row["currency_id"]),
            )
            groups[key].append(row)
        for group in groups.values():
            group.sort(key=lambda row: (row["end_customer"], row["row_number"]))
        return dict(sorted(groups.items(), key=lambda item: item[0][0].name or ""))

    def _ppu_create_invoices(self, rows=None):
        """One account.move create() per MOVE_CREATE_BATCH invoices, each with
        all its lines; then claim the consumption keys of the billed rows.

        ``rows`` are the rows as ``_ppu_recheck`` just checked them (checked
        again when not given): invoices are built from those prices, never
        from values stored earlier."""
        self.ensure_one()
        if rows is None:
            rows = self._ppu_recheck()
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
        groups = self._ppu_invoice_groups(rows)
        if not groups:
            raise UserError(self.env._("There is nothing to invoice in this import."))
        self._ppu_lock_unbilled(
            [row["id"] for lines in groups.values() for row in lines]
        )
        billed_ids, invoice_ids = [], []
        cache = {}
        for some_groups in split_every(MOVE_CREATE_BATCH, groups.items()):
            vals_list = []
            for (partner, currency), lines in some_groups:
                vals_list.append(
                    self._ppu_prepare_invoice_vals(partner, currency, lines, cache)
                )
                billed_ids.extend(line["id"] for line in lines)
            with trusted():
                invoices = Move.create(vals_list)
            invoice_ids += invoices.ids
            self._ppu_log_on_invoices(invoices)
            # Bound memory: what was created is not needed in the cache.
            self.env.flush_all()
            self.env.invalidate_all()
        # Claim the consumption keys: the partial unique index refuses a key
        # another transaction billed, even one not committed yet.
        self.env["sophos.ppu.import.line"].browse(billed_ids)._ppu_write(
            {"billed": True}
        )
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

    def _ppu_prepare_invoice_vals(self, partner, currency, lines, cache):
        """Values of one draft invoice (a credit note when its total is
        negative) with one line per row.

        The lines carry the amounts, balance and tax tags that Odoo's own tax
        computation gives them (the same ``account.tax`` helpers the invoice
        runs when it synchronises its lines), so that creating the invoice
        does not rewrite every line; the invoice still computes its taxes,
        payment terms and balance itself, and overrides any amount that
        would differ."""
        company = self.company_id
        AccountTax = self.env["account.tax"]
        if partner not in cache:
            cache[partner] = (
                self.env["account.fiscal.position"]
                .with_company(company)
                ._get_fiscal_position(partner)
            )
        fiscal_position = cache[partner]
        if "ref" not in cache:  # formatting the month costs a few ms
            cache["ref"] = self.env._(
                "Sophos consumption %(period)s", period=self._ppu_period_label()
            )
        total = currency.round(sum(line["price_subtotal"] for line in lines))
        is_refund = currency.compare_amounts(total, 0) < 0
        quantity_sign = -1 if is_refund else 1
        # out_invoice is inbound (product lines credited), out_refund outbound
        sign = 1 if is_refund else -1
        rate = self.env["res.currency"]._get_conversion_rate(
            company.currency_id, currency, company, fields.Date.context_today(self)
        )
        line_vals = []
        base_lines = []
        for line in lines:
            product = line["product"]
            key = (product, partner, fiscal_position)
            if key not in cache:
                taxes = product.taxes_id.filtered(
                    lambda tax: tax.company_id in company.parent_ids
                )
                account = product.product_tmpl_id.with_company(
                    company
                ).get_product_accounts(fiscal_pos=fiscal_position)["income"]
                # What account.move.line._compute_analytic_distribution finds,
                # looked up once instead of once per line (accounting set-up,
                # which ops may not read themselves).
                Distribution = self.env["account.analytic.distribution.model"]
                distribution = Distribution.sudo()._get_distribution(
                    {
                        "product_id": product.id,
                        "product_categ_id": product.categ_id.id,
                        "partner_id": partner.id,
                        "partner_category_id": partner.category_id.ids,
                        "account_prefix": account.code,
                        "company_id": company.id,
                    }
                )
                cache[key] = (fiscal_position.map_tax(taxes), account, distribution)
            taxes, account, distribution = cache[key]
            vals = {
                "display_type": "product",
                "product_id": product.id,
                "product_uom_id": product.uom_id.id,
                "name": invoice_line_label(
                    line["end_customer"],
                    line["product_description"],
                    line["start_date"],
                    line["end_date"],
                ),
                "quantity": quantity_sign * line["quantity"],
                "price_unit": line["price_unit"],
                "tax_ids": [Command.set(taxes.ids)],
                "ppu_import_line_id": line["id"],
                "ppu_subscription_id": line["subscription_id"],
                "analytic_distribution": distribution or False,
            }
            if account:
                vals["account_id"] = account.id
            line_vals.append(vals)
            base_lines.append(
                AccountTax._prepare_base_line_for_taxes_computation(
                    None,
                    product_id=product,
                    tax_ids=taxes,
                    price_unit=vals["price_unit"],
                    quantity=vals["quantity"],
                    currency_id=currency,
                    rate=rate,
                    sign=sign,
                    is_refund=is_refund,
                    tax_tag_invert=not is_refund,
                    partner_id=partner,
                    account_id=account,
                )
            )
        AccountTax._add_tax_details_in_base_lines(base_lines, company)
        AccountTax._round_base_lines_tax_details(base_lines, company)
        AccountTax._add_accounting_data_in_base_lines_tax_details(base_lines, company)
        amounts = AccountTax._prepare_tax_lines(base_lines, company)
        for vals, (_base_line, to_update) in zip(
            line_vals, amounts["base_lines_to_update"], strict=True
        ):
            vals.update(to_update)
        # A section per end customer before its lines (lines come ordered by
        # end customer): the accountant and the reseller read the invoice
        # customer by customer.
        commands, customer = [], None
        for line, vals in zip(lines, line_vals, strict=True):
            if line["end_customer"] != customer:
                customer = line["end_customer"]
                commands.append(
                    Command.create(
                        {"display_type": "line_section", "name": customer or "-"}
                    )
                )
            commands.append(Command.create(vals))
        return {
            "move_type": "out_refund" if is_refund else "out_invoice",
            "company_id": company.id,
            "partner_id": partner.id,
            "currency_id": currency.id,
            "fiscal_position_id": fiscal_position.id,
            "invoice_payment_term_id": partner.with_company(
                company
            ).property_payment_term_id.id,
            "ref": cache["ref"],
            "ppu_import_id": self.id,
            "invoice_line_ids": commands,
        }
