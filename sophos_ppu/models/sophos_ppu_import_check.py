# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Checking a batch's rows: match each to a subscription, price it with the
subscription's pricelist fed with the file's prices, and look for rows
billed already or repeated in the file.

Checking works on plain dicts (the import checks the rows before creating
the lines; a re-check reads the lines, checks them and writes what
changed), with subscriptions, pricelist results and billed keys fetched once
per call, so that the cost per row stays a few dict look-ups.
"""

from bisect import bisect_right
from collections import defaultdict

from odoo import models
from odoo.tools import float_round, split_every

from odoo.addons.sophos_ppu.core.billing import normalise_identifier, normalise_name

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
#: Consumption keys looked up per query.
KEY_BATCH = 5000


class SophosPpuImport(models.Model):
    _inherit = "sophos.ppu.import"

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
        for some_keys in split_every(KEY_BATCH, list(keys)):
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
