# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A monthly consumption import: the file, its rows, the checks that make a
row billable and the draft invoices per reseller.

Checking works on plain dicts (the wizard checks the rows before creating the
lines; a re-check reads the lines, checks them and writes what changed), with
subscriptions, pricelist results and billed keys fetched once per batch, so
that the cost per row stays a few dict look-ups.
"""

import dataclasses
import logging
from bisect import bisect_right
from collections import defaultdict
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from markupsafe import Markup, escape

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_round, format_amount, format_date, split_every

from odoo.addons.sophos_ppu.core import (
    ConsumptionFileError,
    Limits,
    read_consumption_file,
)
from odoo.addons.sophos_ppu.core.billing import (
    invoice_line_label,
    normalise_identifier,
    normalise_name,
    summarize_billing,
)

from .billing_guard import refuse_untrusted, trusted

_logger = logging.getLogger(__name__)

#: Fields of a line the checks compute.
CHECK_FIELDS = (
    "subscription_id",
    "match_method",
    "partner_id",
    "pricelist_item_id",
    "currency_id",
    "price_unit",
    "price_subtotal",
    "state",
    "message",
    "duplicate_import_id",
)
#: Fields of a line the checks read.
ROW_FIELDS = (
    "row_number",
    "end_user_identifier",
    "end_customer_name",
    "product_description",
    "start_date",
    "end_date",
    "quantity",
    "unit_msrp",
    "unit_cost",
    "file_currency_id",
    "consumption_key",
    "repeat_of_row",
    "file_partner_name",
    "file_partner_ref",
    "parse_error",
    "subscription_id",
    "match_method",
    "message",
    "billed",
)
#: Invoices created per account.move create() call (bounds memory).
MOVE_CREATE_BATCH = 20
LINE_BATCH = 5000
# Rows in error listed in the ops summary (all are in the error report).
SUMMARY_ERRORS = 10


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
            ("checked", "Checked"),
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
        string="Invoicing failure",
        readonly=True,
        copy=False,
        help="Why the last attempt to create the invoices was rolled back.",
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
        counts = defaultdict(int)
        if self.ids:
            for batch, state, count in self.env["sophos.ppu.import.line"]._read_group(
                [("import_id", "in", self.ids)], ["import_id", "state"], ["__count"]
            ):
                counts[batch.id, state] = count
        for batch in self:
            batch.ok_count = counts[batch.id, "ok"]
            batch.error_count = counts[batch.id, "error"]
            batch.duplicate_count = counts[batch.id, "duplicate"]
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

    # ------------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------------

    def action_check(self):
        """Match, price and look for duplicates again (after a fix by hand)."""
        for batch in self:
            if batch.state not in ("draft", "checked"):
                raise UserError(
                    self.env._(
                        "Import %(name)s is %(state)s: only draft or checked "
                        "imports can be checked.",
                        name=batch.name,
                        state=dict(
                            batch._fields["state"]._description_selection(self.env)
                        )[batch.state],
                    )
                )
            batch._ppu_recheck()
            batch._ppu_write({"state": "checked", "invoice_error": False})
            batch._ppu_notify_summary()
        return True

    def _ppu_recheck(self):
        """Check the rows not billed yet again, write what changed and return
        them as plain dicts, each updated with its check results."""
        self.ensure_one()
        lines = self.env["sophos.ppu.import.line"].search(
            [("import_id", "=", self.id), ("billed", "=", False)]
        )
        # Rows that could not be read and that ops corrected are read again.
        lines.search(
            [
                ("import_id", "=", self.id),
                ("billed", "=", False),
                ("parse_error", "=", True),
                ("corrected", "=", True),
            ]
        )._ppu_revalidate()
        rows = lines.read(list(set(ROW_FIELDS) | set(CHECK_FIELDS)), load=None)
        results = self._ppu_check_rows(rows)
        # Write what changed, one write per distinct set of values.
        updates = defaultdict(list)
        for row, result in zip(rows, results, strict=True):
            changed = {
                fname: value
                for fname, value in result.items()
                if (row.get(fname) or False) != (value or False)
            }
            if changed:
                updates[tuple(sorted(changed.items()))].append(row["id"])
            row.update(result)
        for changed, ids in updates.items():
            lines.browse(ids)._ppu_write(dict(changed))
        return rows

    def _ppu_check_rows(self, rows):
        """Check rows (dicts with the ROW_FIELDS of a line, many2ones as ids)
        and return, for each, the values of CHECK_FIELDS.

        Also records on subscriptions the End User Identifier of rows matched
        by end-customer name (or set by hand)."""
        self.ensure_one()
        matches = self._ppu_match_rows(rows)
        reseller_named_by = self._ppu_file_resellers(rows)
        period_start, period_end = self.period_date, self.period_end_date
        price_of = self._ppu_pricer()
        results = []
        for row, (subscription, method, reason) in zip(rows, matches, strict=True):
            result = dict.fromkeys(CHECK_FIELDS, False)
            result.update(
                subscription_id=subscription.id or False,
                match_method=method or False,
                partner_id=subscription.partner_id.commercial_partner_id.id or False,
                currency_id=subscription.currency_id.id or False,
                price_unit=0.0,
                price_subtotal=0.0,
            )
            if row.get("parse_error"):
                result.update(state="error", message=row.get("message"))
            elif reason:
                result.update(state="error", message=reason)
            elif method != "manual" and (named := reseller_named_by(row)) not in (
                None,
                subscription.partner_id.commercial_partner_id,
            ):
                result.update(
                    state="error",
                    message=self.env._(
                        "The file bills this row to %(named)s, but End User "
                        "Identifier %(identifier)s belongs to a subscription of "
                        "another reseller.",
                        named=named.name,
                        identifier=row.get("end_user_identifier") or "-",
                    ),
                )
            elif not (
                row["end_date"] <= period_end
                # A correction may credit a consumption of an earlier month.
                and (row["quantity"] < 0 or period_start <= row["start_date"])
            ):
                result.update(
                    state="error",
                    message=self.env._(
                        "Service dates %(start)s–%(end)s are outside the billing "
                        "month %(period)s.",
                        start=row["start_date"],
                        end=row["end_date"],
                        period=self._ppu_period_label(),
                    ),
                )
            elif subscription.state == "closed":
                result.update(
                    state="error",
                    message=self.env._(
                        "Subscription %(subscription)s is closed.",
                        subscription=subscription.display_name,
                    ),
                )
            else:
                price, rule, reason = price_of(subscription, row)
                if reason:
                    result.update(state="error", message=reason)
                else:
                    result.update(
                        state="ok",
                        pricelist_item_id=rule.id,
                        price_unit=price,
                        price_subtotal=subscription.currency_id.round(
                            price * row["quantity"]
                        ),
                        message=(
                            self.env._("Zero quantity: not invoiced.")
                            if not row["quantity"]
                            else False
                        ),
                    )
            results.append(result)
        self._ppu_mark_duplicates(rows, results)
        return results

    def _ppu_file_resellers(self, rows):
        """A function row -> the reseller the file names on that row (its
        Partner ID column against the partners' Reference, else its Partner
        Name), or None when the file names none that Odoo knows."""
        Partner = self.env["res.partner"].with_context(active_test=False)
        refs = {row.get("file_partner_ref") for row in rows} - {None, False}
        names = {row.get("file_partner_name") for row in rows} - {None, False}
        by_ref, by_name = {}, {}
        if refs:
            for partner in Partner.search([("ref", "in", list(refs))]):
                by_ref.setdefault(partner.ref, partner.commercial_partner_id)
        if names:
            for partner in Partner.search(
                [("name", "in", list(names)), ("is_company", "=", True)]
            ):
                by_name.setdefault(normalise_name(partner.name), partner)

        def reseller_named_by(row):
            reseller = by_ref.get(row.get("file_partner_ref"))
            return reseller or by_name.get(normalise_name(row.get("file_partner_name")))

        return reseller_named_by

    def _ppu_subscription_domain(self):
        domain = [("company_id", "=", self.company_id.id)]
        if self.partner_id:
            domain.append(
                ("partner_id", "child_of", self.partner_id.commercial_partner_id.id)
            )
        return domain

    def _ppu_match_rows(self, rows):
        """:returns: for each row (subscription, match method, error reason)."""
        Subscription = self.env["sophos.ppu.subscription"]
        subscriptions = Subscription.search(self._ppu_subscription_domain())
        # Prefetch what matching and pricing read, in a few queries.
        subscriptions.mapped("end_customer_id.name")
        subscriptions.mapped("partner_id.commercial_partner_id")
        subscriptions.mapped("pricelist_id.currency_id")
        by_identifier = defaultdict(lambda: Subscription)
        by_name = defaultdict(lambda: Subscription)
        for subscription in subscriptions:
            if subscription.end_user_identifier:
                key = normalise_identifier(subscription.end_user_identifier)
                by_identifier[key] |= subscription
            by_name[normalise_name(subscription.end_customer_id.name)] |= subscription
        manual = Subscription.browse(
            {
                row["subscription_id"]
                for row in rows
                if row.get("match_method") == "manual"
            }
        ).exists()

        def pick(candidates):
            # Prefer the active subscriptions; a closed one is reported as such.
            active = candidates.filtered(lambda s: s.state == "active")
            return active if active else candidates

        matches = []
        learnt = defaultdict(set)  # subscription -> identifiers met by name/hand
        for row in rows:
            if row.get("parse_error"):
                matches.append((Subscription, False, False))
                continue
            identifier = normalise_identifier(row.get("end_user_identifier"))
            if (
                row.get("match_method") == "manual"
                and row["subscription_id"] in manual.ids
            ):
                subscription = manual.browse(row["subscription_id"])
                if identifier and not subscription.end_user_identifier:
                    learnt[subscription].add(row["end_user_identifier"].strip())
                matches.append((subscription, "manual", False))
                continue
            if identifier and identifier in by_identifier:
                candidates, method = pick(by_identifier[identifier]), "identifier"
            else:
                name = normalise_name(row.get("end_customer_name"))
                candidates = pick(
                    by_name[name].filtered(lambda s: not s.end_user_identifier)
                    if name
                    else Subscription
                )
                method = "name"
            if not candidates:
                matches.append(
                    (
                        Subscription,
                        False,
                        self.env._(
                            "No subscription has End User Identifier %(identifier)s "
                            "or end customer %(customer)s.",
                            identifier=row.get("end_user_identifier") or "-",
                            customer=row.get("end_customer_name") or "-",
                        ),
                    )
                )
            elif len(candidates) > 1:
                matches.append(
                    (
                        Subscription,
                        False,
                        self.env._(
                            "Several subscriptions match (%(subscriptions)s): pick "
                            "the right one.",
                            subscriptions=", ".join(candidates.mapped("display_name")),
                        ),
                    )
                )
            else:
                if method == "name" and identifier:
                    learnt[candidates].add(row["end_user_identifier"].strip())
                matches.append((candidates, method, False))
        self._ppu_record_identifiers(rows, matches, learnt)
        return matches

    def _ppu_record_identifiers(self, rows, matches, learnt):
        """Record the End User Identifier of subscriptions matched by name, so
        that next month matches them directly. Left to ops instead: a name met
        with two different identifiers in the file, and an identifier that
        another reseller's subscription holds."""
        Subscription = self.env["sophos.ppu.subscription"]
        refused = {}  # subscription -> (reason, the match methods it undoes)
        for subscription, identifiers in learnt.items():
            identifier = next(iter(identifiers))
            if len({normalise_identifier(i) for i in identifiers}) > 1:
                reason = self.env._(
                    "End customer %(customer)s appears with several End User "
                    "Identifiers: pick the subscription by hand.",
                    customer=subscription.end_customer_id.name,
                )
                refused[subscription] = (reason, ("name",))
            elif Subscription._ppu_identifier_holders(
                identifier, subscription.partner_id, subscription.company_id
            ):
                reason = self.env._(
                    "End User Identifier %(identifier)s belongs to a subscription "
                    "of another reseller.",
                    identifier=identifier,
                )
                refused[subscription] = (reason, ("name", "manual"))
            else:
                subscription.end_user_identifier = identifier
        for index, (subscription, method, _reason) in enumerate(matches):
            reason, methods = refused.get(subscription, (None, ()))
            if method in methods:
                matches[index] = (subscription.browse(), False, reason)

    def _ppu_pricer(self):
        """A function (subscription, row) -> (unit price, rule, error reason)
        evaluating the subscription's pricelist with the row's prices, cached
        per (pricelist, MSRP, cost, currency, min. quantity bracket): within a
        bracket no rule's min. quantity condition changes, so the result
        cannot differ."""
        product_digits = self.env["decimal.precision"].precision_get("Product Price")
        thresholds = sorted(
            {
                min_quantity
                for [min_quantity] in self.env["product.pricelist.item"]
                .sudo()
                ._read_group([("min_quantity", ">", 0)], ["min_quantity"])
            }
        )
        date = self.period_end_date
        company_currency = self.company_id.currency_id
        cache = {}

        def price_of(subscription, row):
            pricelist = subscription.pricelist_id
            quantity = abs(row["quantity"])
            currency_id = row.get("file_currency_id") or company_currency.id
            key = (
                pricelist.id,
                subscription.product_id.id,
                row["unit_msrp"],
                row["unit_cost"],
                currency_id,
                bisect_right(thresholds, quantity),
            )
            if key not in cache:
                price, rule = pricelist._ppu_compute_price_rule(
                    subscription.product_id,
                    quantity,
                    row["unit_msrp"],
                    row["unit_cost"],
                    self.env["res.currency"].browse(currency_id),
                    date,
                )
                reason = (
                    False
                    if rule
                    else self.env._(
                        "Pricelist %(pricelist)s has no rule for %(product)s.",
                        pricelist=pricelist.name,
                        product=subscription.product_id.name,
                    )
                )
                cache[key] = (
                    float_round(price, precision_digits=product_digits),
                    rule,
                    reason,
                )
            return cache[key]

        return price_of

    def _ppu_mark_duplicates(self, rows, results):
        """Mark duplicate the billable rows whose consumption key is billed
        already (by any batch: the rows checked are never billed ones), or
        that an earlier row of this file carries."""
        keys = {
            row["consumption_key"]
            for row, result in zip(rows, results, strict=True)
            if result["state"] == "ok" and row.get("consumption_key")
        }
        billed = {}
        Line = self.env["sophos.ppu.import.line"]
        for some_keys in split_every(LINE_BATCH, list(keys)):
            for line in Line.search_fetch(
                [
                    ("company_id", "=", self.company_id.id),
                    ("billed", "=", True),
                    ("consumption_key", "in", list(some_keys)),
                ],
                ["consumption_key", "import_id"],
            ):
                billed[line.consumption_key] = line.import_id
        seen = {}
        for row, result in zip(rows, results, strict=True):
            key = row.get("consumption_key")
            if result["state"] != "ok" or not key:
                continue
            if key in billed:
                result.update(
                    state="duplicate",
                    duplicate_import_id=billed[key].id,
                    message=self.env._(
                        "Already billed by import %(batch)s.",
                        batch=billed[key].name,
                    ),
                )
            elif key in seen:
                result.update(
                    state="duplicate",
                    duplicate_import_id=self.id,
                    message=(
                        self.env._(
                            "Repeats row %(row)s exactly: confirm it if Sophos "
                            "bills this consumption twice.",
                            row=row["repeat_of_row"],
                        )
                        if row.get("repeat_of_row")
                        else self.env._(
                            "Same consumption as row %(row)s of this file.",
                            row=seen[key],
                        )
                    ),
                )
            else:
                seen[key] = row["row_number"]

    # ------------------------------------------------------------------
    # Invoices
    # ------------------------------------------------------------------

    def action_create_invoices(self):
        """Create the draft invoices of a checked batch, all or nothing."""
        self.ensure_one()
        self.check_access("write")
        if self.state != "checked":
            raise UserError(
                self.env._("Check the import before creating its invoices.")
            )
        # Whatever changed since the last check (another batch billed the
        # month, a pricelist rule moved) is taken into account now.
        rows = self._ppu_recheck()
        errors = sum(row["state"] == "error" for row in rows)
        if errors and not self.env.context.get("ppu_leave_errors"):
            raise UserError(
                self.env._(
                    "%(count)s rows of import %(name)s are in error. Fix them and "
                    "check again, or choose 'Invoice valid lines, leave errors'.",
                    count=errors,
                    name=self.name,
                )
            )
        try:
            with self.env.cr.savepoint():
                invoices = self._ppu_create_invoices(rows)
        except Exception as error:  # noqa: BLE001 - all or nothing, say why
            _logger.info(
                "Invoicing of %s rolled back: %s", self.name, error, exc_info=True
            )
            reason = self.env._(
                "No invoice was created: %(error)s", error=self._ppu_error_text(error)
            )
            self._ppu_write({"invoice_error": reason})
            self.message_post(body=reason)
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {"type": "danger", "sticky": True, "message": reason},
            }
        self._ppu_write({"state": "invoiced", "invoice_error": False})
        self._ppu_notify_summary()
        return self.action_view_invoices(invoices)

    def _ppu_error_text(self, error):
        if getattr(error, "pgcode", None) == "23505":  # unique_violation
            return self.env._(
                "some rows were billed by another import meanwhile; check the "
                "import again."
            )
        return str(getattr(error, "args", [error])[0] if error.args else error)

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

    def action_view_lines(self, state=None):
        """The batch's rows, only those in ``state`` ('ok', 'error',
        'duplicate') when given: what the batch's counts open."""
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
        action = self.env["ir.actions.actions"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", invoices.ids)]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        if len(invoices) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = invoices.id
        return action

    # ------------------------------------------------------------------
    # Cancel
    # ------------------------------------------------------------------

    def action_cancel(self):
        """Drop the batch's draft invoices and free its consumption keys."""
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
            # Ops may drop the drafts they made (as they may create them).
            batch.invoice_ids.sudo().unlink()
            batch.line_ids.filtered("billed")._ppu_write({"billed": False})
            batch._ppu_write({"state": "cancelled"})
        return True

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

    def _ppu_error_report_rows(self):
        """The rows with issues: the screens' columns (under the rows list's
        names), then one column per column of the file with the cells as
        read. Dates stay dates, empty cells stay empty."""
        lines = self.line_ids.filtered(lambda line: line.state != "ok")
        Line = self.env["sophos.ppu.import.line"]
        columns = [
            "row_number",
            "end_user_identifier",
            "end_customer_name",
            "state",
            "message",
            "partner_id",
            "product_description",
            "start_date",
            "end_date",
            "quantity",
            "unit_msrp",
            "unit_cost",
            "file_currency_id",
        ]
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

    @api.model
    def _ppu_import_file(self, file_bytes, filename, period_date, partner=None):
        """Create a batch from a consumption file, its lines checked.

        :raises UserError: when the core rejects the file (nothing is created)
        """
        try:
            result = read_consumption_file(
                file_bytes, filename=filename, limits=self._ppu_limits()
            )
        except ConsumptionFileError as error:
            raise UserError(
                self.env._(
                    "%(file)s cannot be imported: %(reason)s",
                    file=filename,
                    reason=error.message,
                )
            ) from error
        company = self.env.company
        attachment = self.env["ir.attachment"].create(
            {"name": filename, "raw": file_bytes, "res_model": self._name}
        )
        with trusted():
            batch = self.create(
                {
                    "company_id": company.id,
                    "period_date": period_date,
                    "partner_id": partner.id if partner else False,
                    "file_format": result.file_format,
                    "attachment_id": attachment.id,
                }
            )
        attachment.res_id = batch.id
        Line = self.env["sophos.ppu.import.line"]
        rows = Line._ppu_values_from_result(result, company)
        checks = batch._ppu_check_rows(rows)
        vals_list = []
        for row, check in zip(rows, checks, strict=True):
            vals = dict(row, **check)
            vals.update(import_id=batch.id, company_id=company.id)
            vals_list.append(vals)
        for some_vals in split_every(LINE_BATCH, vals_list):
            Line._ppu_create(list(some_vals))
            self.env.flush_all()
            self.env.invalidate_all()
        batch._ppu_write({"state": "checked"})
        batch._ppu_notify_summary()
        return batch
