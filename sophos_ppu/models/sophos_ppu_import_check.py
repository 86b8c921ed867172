# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Checking a batch's rows: match each to a subscription, price it with the
subscription's pricelist fed with the file's prices, and look for rows
billed already or repeated in the file.

The decisions are the core's (``sophos_ppu.core.checking``, plain Python);
this layer gathers their facts once per call (subscriptions, resellers named
by the file, prices from Odoo's pricelist engine, billed keys), and words
the core's issues in the user's language.

Checking works chunk by chunk, in row order (``_ppu_check_rows``): the
in-file duplicates of a chunk take the rows of the batch stored before it
into account, so that checking a file chunk by chunk gives exactly what one
pass over the whole file gives. End User Identifiers learnt by name or by
hand are recorded once the whole batch is checked
(``_ppu_learn_identifiers``), so that a chunk never matches differently
because of an earlier one.
"""

from bisect import bisect_right
from collections import defaultdict

from odoo import api, models
from odoo.tools import float_round, split_every

from odoo.addons.sophos_ppu.core.billing import (
    consumption_key,
    normalise_identifier,
    normalise_name,
)
from odoo.addons.sophos_ppu.core.checking import (
    DUPLICATE,
    ERROR,
    OK,
    STATE_FIELDS,
    Billed,
    Checker,
    SubscriptionFacts,
    decide_identifiers,
    duplicate_keys,
    mark_duplicates,
)
from odoo.addons.sophos_ppu.core.row import LINE_FIELDS, consumption_source

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
    "issue",
    "message",
    "duplicate_import_id",
    "corrected_line_id",
)
#: Fields of a line the checks read: the row's values and what the line
#: keeps of its checks.
ROW_FIELDS = LINE_FIELDS + STATE_FIELDS
#: A checked row: what the checks read and what they compute.
CHECKED_FIELDS = tuple(dict.fromkeys(ROW_FIELDS + CHECK_FIELDS))
#: Consumption keys or row ids looked up per query.
KEY_BATCH = 5000
#: What read() gives for an empty column, by field type (else False).
EMPTY_VALUES = {"float": 0.0, "monetary": 0.0, "integer": 0}


class SophosPpuImport(models.Model):
    _inherit = "sophos.ppu.import"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    def _ppu_recheck(self, after_row=0, limit=None):
        """Check again the rows not billed yet whose row number is above
        ``after_row``, in row order, at most ``limit`` of them (all when
        None); write what changed and return them as plain dicts, each
        updated with its check results.

        Identifiers are not learnt here: once the last rows are checked, the
        caller calls ``_ppu_learn_identifiers``."""
        self.ensure_one()
        Line = self.env["sophos.ppu.import.line"]
        domain = [("import_id", "=", self.id), ("billed", "=", False)]
        if after_row:
            domain.append(("row_number", ">", after_row))
        lines = Line.search(domain, order="row_number, id", limit=limit)
        if not lines:
            return []
        # Rows that could not be read and that ops corrected are read again.
        Line.search(
            [
                ("id", "in", lines.ids),
                ("parse_error", "=", True),
                ("corrected", "=", True),
            ]
        )._ppu_revalidate()
        rows = self._ppu_read_rows(lines)
        self._ppu_write_results(rows, self._ppu_check_rows(rows))
        return rows

    def _ppu_read_rows(self, lines):
        """The CHECKED_FIELDS of ``lines`` with their ``id``, as
        ``read(load=None)`` gives them, in row order, in one query (the rows'
        access rules apply)."""
        Line = self.env["sophos.ppu.import.line"]
        query = Line._search([("id", "in", lines.ids)], order="row_number, id")
        fnames = ["id", *CHECKED_FIELDS]
        empty = [EMPTY_VALUES.get(Line._fields[fname].type, False) for fname in fnames]
        return [
            {
                fname: default if value is None else value
                for fname, value, default in zip(fnames, values, empty, strict=True)
            }
            for values in self.env.execute_query(
                query.select(
                    *(Line._field_to_sql(query.table, fname, query) for fname in fnames)
                )
            )
        ]

    def _ppu_write_results(self, rows, results):
        """Write the results of checked rows (dicts with their ``id``) where
        they changed, one write per distinct set of values, and update the
        dicts."""
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
        Line = self.env["sophos.ppu.import.line"]
        for changed, ids in updates.items():
            Line.browse(ids)._ppu_write(dict(changed))

    def _ppu_check_rows(self, rows):
        """Check one chunk of rows and return, for each, the values of
        CHECK_FIELDS.

        ``rows`` are dicts with the ROW_FIELDS of a line (many2ones as ids),
        in row order, with their ``id`` when the lines exist. Checked chunk
        by chunk in row order, a file gets exactly the results of one pass
        over all its rows: a row repeats the rows of its chunk before it and
        the rows of the batch stored checked ok before the chunk. Records
        nothing (see ``_ppu_learn_identifiers``)."""
        self.ensure_one()
        if not rows:
            return []
        checker = self._ppu_checker(rows)
        checks = checker.check(rows)
        keys = duplicate_keys(rows, checks)
        checks = mark_duplicates(
            rows,
            checks,
            billed=self._ppu_billed_keys(keys),
            earlier=self._ppu_earlier_keys(keys, rows),
        )
        text_of = self._ppu_issue_texts()
        rounding = {}  # currency id -> its rounding, as res.currency.round does
        results = []
        for row, check in zip(rows, checks, strict=True):
            subscription = check.subscription
            # A correction of a billing: credited as billed, to whom.
            billing = check.credits or subscription
            result = {
                "subscription_id": subscription.id if subscription else False,
                "match_method": check.match_method or False,
                "partner_id": (billing and billing.reseller_id) or False,
                "pricelist_item_id": check.rule_id or False,
                "currency_id": (billing and billing.currency_id) or False,
                "price_unit": check.price_unit,
                "price_subtotal": 0.0,
                "state": check.state,
                "issue": check.issue.code if check.issue else False,
                "message": text_of(check.issue) if check.issue else False,
                "duplicate_import_id": check.billed_by
                or (check.state == DUPLICATE and self.id),
                "corrected_line_id": check.credits.row_id if check.credits else False,
            }
            if check.rule_id or check.credits:
                currency_id = result["currency_id"]
                if currency_id not in rounding:
                    rounding[currency_id] = (
                        self.env["res.currency"].browse(currency_id).rounding
                    )
                result["price_subtotal"] = float_round(
                    check.price_unit * row["quantity"],
                    precision_rounding=rounding[currency_id],
                )
            results.append(result)
        return results

    def _ppu_learn_identifiers(self, rows=None):
        """Record on subscriptions the End User Identifier of the rows
        matched by end-customer name or by hand, so that next month matches
        them directly; once the whole batch is checked.

        Left to ops instead, the rows in error: a subscription met with
        several identifiers (its rows matched by name), an identifier that
        another reseller's active subscription holds (its rows matched by
        name or by hand).

        :param rows: dicts of ``_ppu_recheck`` to update with what changed
        :returns: {line id: values written} for the lines it changed
        """
        self.ensure_one()
        Line = self.env["sophos.ppu.import.line"]
        lines = Line.search_fetch(
            [
                ("import_id", "=", self.id),
                ("billed", "=", False),
                ("match_method", "in", ("name", "manual")),
                ("subscription_id.end_user_identifier", "=", False),
            ],
            ["end_user_identifier", "subscription_id", "match_method", "state"],
            order="row_number, id",
        )
        if not lines:
            return {}
        Subscription = self.env["sophos.ppu.subscription"]
        facts = {
            fact.id: fact
            for fact in self._ppu_subscription_facts(
                [("id", "in", lines.subscription_id.ids)]
            )
        }
        decision = decide_identifiers(
            (
                (
                    facts[line.subscription_id.id],
                    line.end_user_identifier,
                    line.match_method,
                )
                for line in lines
            ),
            self._ppu_identifier_held_elsewhere(),
        )
        changes = self._ppu_refuse_identifiers(lines, decision)
        for subscription_id, identifier in decision.record.items():
            Subscription.browse(subscription_id).end_user_identifier = identifier
        if rows and changes:
            for row in rows:
                if row["id"] in changes:
                    row.update(changes[row["id"]])
        return changes

    def _ppu_identifier_held_elsewhere(self):
        """A function (subscription facts, identifier) -> whether another
        reseller's active subscription holds the identifier; the identifiers
        held are read once, at the first question."""
        Subscription = self.env["sophos.ppu.subscription"]
        held = []

        def held_elsewhere(subscription, identifier):
            if not held:
                held.append(self._ppu_held_identifiers())
            if normalise_identifier(identifier) not in held[0]:
                return False  # no active subscription holds it: nobody else
            record = Subscription.browse(subscription.id)
            return bool(
                Subscription._ppu_identifier_holders(
                    identifier, record.partner_id, record.company_id
                )
            )

        return held_elsewhere

    def _ppu_refuse_identifiers(self, lines, decision):
        """Put in error the rows whose identifier the decision leaves to ops.

        :returns: {line id: values written}, the rows checked again since
            included (a refused row no longer repeats another)
        """
        if not decision.refused:
            return {}
        Line = self.env["sophos.ppu.import.line"]
        text_of = self._ppu_issue_texts()
        refused = defaultdict(list)  # (code, message) -> line ids
        were_ok = []  # refused rows that were checked ok
        for line in lines:
            issue = decision.issue_for(line.subscription_id.id, line.match_method)
            if issue:
                refused[issue.code, text_of(issue)].append(line.id)
                if line.state == OK:
                    were_ok.append(line.id)
        changes = {}
        for (code, message), ids in refused.items():
            values = dict.fromkeys(CHECK_FIELDS, False)
            values.update(price_unit=0.0, price_subtotal=0.0, state=ERROR)
            values.update(issue=code, message=message)
            Line.browse(ids)._ppu_write(values)
            changes.update(dict.fromkeys(ids, values))
        # Before recording: the rows checked again match as in one pass.
        changes.update(self._ppu_recheck_repeats_of(Line.browse(were_ok)))
        return changes

    def _ppu_held_identifiers(self):
        """The End User Identifiers (normalised) that active subscriptions of
        the batch's company hold, whoever may read them: only these can be
        another reseller's (``_ppu_identifier_holders`` says whose)."""
        Subscription = self.env["sophos.ppu.subscription"].sudo()
        query = Subscription._search(
            [
                ("company_id", "=", self.company_id.id),
                ("state", "=", "active"),
                ("end_user_identifier", "!=", False),
            ],
            order="id",
        )
        column = Subscription._field_to_sql(query.table, "end_user_identifier", query)
        return {
            normalise_identifier(identifier)
            for [identifier] in self.env.execute_query(query.select(column))
        }

    def _ppu_recheck_repeats_of(self, lines):
        """Check again the rows that ``lines`` (no longer ok) made duplicates
        of the same consumption in the file: the first of them is billable
        now. :returns: {line id: values} of the rows checked again."""
        keys = {key for key in lines.mapped("consumption_key") if key}
        if not keys:
            return {}
        Line = self.env["sophos.ppu.import.line"]
        repeats = Line.search(
            [
                ("import_id", "=", self.id),
                ("billed", "=", False),
                ("state", "=", DUPLICATE),
                ("duplicate_import_id", "=", self.id),
                ("consumption_key", "in", list(keys)),
            ],
            order="row_number, id",
        )
        if not repeats:
            return {}
        rows = self._ppu_read_rows(repeats)
        results = self._ppu_check_rows(rows)
        self._ppu_write_results(rows, results)
        return {row["id"]: result for row, result in zip(rows, results, strict=True)}

    # ------------------------------------------------------------------
    # Facts
    # ------------------------------------------------------------------

    def _ppu_checker(self, rows):
        """The core's checker of ``rows``, fed with this batch's facts."""
        facts = self._ppu_subscription_facts(self._ppu_subscription_domain())
        known = {fact.id for fact in facts}
        picked = {
            row["subscription_id"]
            for row in rows
            if row.get("match_method") == "manual" and row.get("subscription_id")
        }
        # Ops may pick a subscription the batch's domain leaves out.
        extra = (
            self._ppu_subscription_facts([("id", "in", list(picked - known))])
            if picked - known
            else []
        )
        checker = Checker(
            facts,
            period_start=self.period_date,
            period_end=self.period_end_date,
            reseller_named=self._ppu_file_resellers(rows),
            manual=[fact for fact in facts + extra if fact.id in picked],
            billed_of=self._ppu_billings_corrected(rows),
        )
        checker.price_of = self._ppu_pricer(checker.matched(rows))
        return checker

    @api.model
    def _ppu_subscription_facts(self, domain):
        """The core's facts of the subscriptions of ``domain``, in their
        order, in one query (the subscriptions' access rules apply)."""
        Subscription = self.env["sophos.ppu.subscription"]
        Partner = self.env["res.partner"]
        query = Subscription._search(domain)
        alias = query.table
        customer = query.left_join(
            alias, "end_customer_id", "res_partner", "id", "ppu_customer"
        )
        reseller = query.left_join(
            alias, "partner_id", "res_partner", "id", "ppu_reseller"
        )
        columns = [
            Subscription._field_to_sql(alias, fname, query)
            for fname in ("id", "end_user_identifier", "state")
        ]
        columns += [
            Partner._field_to_sql(customer, "name", query),
            Partner._field_to_sql(reseller, "commercial_partner_id", query),
        ]
        columns += [
            Subscription._field_to_sql(alias, fname, query)
            for fname in ("pricelist_id", "product_id", "currency_id")
        ]
        return [
            SubscriptionFacts(
                id=id_,
                identifier=identifier or None,
                customer=customer_name or None,
                state=state,
                reseller_id=reseller_id,
                pricelist_id=pricelist_id,
                product_id=product_id,
                currency_id=currency_id,
            )
            for (
                id_,
                identifier,
                state,
                customer_name,
                reseller_id,
                pricelist_id,
                product_id,
                currency_id,
            ) in self.env.execute_query(query.select(*columns))
        ]

    def _ppu_billings_corrected(self, rows):
        """A function row -> the :class:`Billed` consumption that the
        correction ``row`` credits (the billed row with the key of the same
        end user, service and dates, and its invoice line), or None.

        The price, currency and reseller are those of the invoice line that
        billed it (an accountant may have changed the draft), else the
        row's."""

        def corrected_key(row):
            # Without its quantity, a correction's key is that of the
            # consumption it corrects.
            return consumption_key(*consumption_source(row)[:-1])

        keys = {
            corrected_key(row)
            for row in rows
            if row.get("quantity", 0) < 0 and not row.get("parse_error")
        }
        billed = {}
        Line = self.env["sophos.ppu.import.line"]
        for some_keys in split_every(KEY_BATCH, list(keys)):
            for line in Line.sudo().search_fetch(
                [
                    ("company_id", "=", self.company_id.id),
                    ("billed", "=", True),
                    ("consumption_key", "in", list(some_keys)),
                ],
                [
                    "consumption_key",
                    "price_unit",
                    "currency_id",
                    "partner_id",
                    "pricelist_item_id",
                    "row_number",
                    "import_id",
                ],
            ):
                invoice_line = line.invoice_line_ids[:1]
                billed[line.consumption_key] = Billed(
                    row_id=line.id,
                    price_unit=invoice_line.price_unit
                    if invoice_line
                    else line.price_unit,
                    currency_id=(invoice_line.currency_id or line.currency_id).id,
                    reseller_id=(
                        invoice_line.move_id.commercial_partner_id or line.partner_id
                    ).id,
                    rule_id=line.pricelist_item_id.id or None,
                )

        def billed_of(row):
            return billed.get(corrected_key(row))

        return billed_of

    def _ppu_subscription_domain(self):
        domain = [("company_id", "=", self.company_id.id)]
        if self.partner_id:
            domain.append(
                ("partner_id", "child_of", self.partner_id.commercial_partner_id.id)
            )
        return domain

    def _ppu_file_resellers(self, rows):
        """A function row -> the id of the reseller the file names on that
        row (its Partner ID column against the partners' Reference, else its
        Partner Name), or None when the file names none that Odoo knows.
        None instead of a function when the rows name no reseller."""
        Partner = self.env["res.partner"].with_context(active_test=False)
        refs = {row.get("file_partner_ref") for row in rows} - {None, False}
        names = {row.get("file_partner_name") for row in rows} - {None, False}
        if not refs and not names:
            return None
        by_ref, by_name = {}, {}
        if refs:
            for partner in Partner.search([("ref", "in", list(refs))]):
                by_ref.setdefault(partner.ref, partner.commercial_partner_id.id)
        if names:
            for partner in Partner.search(
                [("name", "in", list(names)), ("is_company", "=", True)]
            ):
                by_name.setdefault(normalise_name(partner.name), partner.id)

        def reseller_named_by(row):
            reseller = by_ref.get(row.get("file_partner_ref"))
            return reseller or by_name.get(normalise_name(row.get("file_partner_name")))

        return reseller_named_by

    def _ppu_pricer(self, subscriptions):
        """A function (subscription facts, row) -> (unit price, rule id)
        evaluating the subscription's pricelist with Odoo's pricelist engine
        fed with the row's prices, once per (pricelist, MSRP, cost, currency,
        min. quantity bracket): within a bracket no rule's min. quantity
        condition changes, so the result cannot differ. The rules that may
        apply are looked up beforehand, at once, for the pricelists of
        ``subscriptions`` (others are looked up when asked)."""
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
        company_currency_id = self.company_id.currency_id.id
        pairs = {
            (fact.pricelist_id, fact.product_id)
            for fact in subscriptions
            if fact.pricelist_id and fact.product_id
        }
        Pricelist = self.env["product.pricelist"]
        # What the engine reads of the pricelists, in one query.
        Pricelist.browse({pricelist_id for pricelist_id, _product in pairs}).fetch(
            ["currency_id", "company_id"]
        )
        Pricelist = Pricelist.with_context(
            ppu_applicable_rules=Pricelist._ppu_applicable_rules(pairs, date)
        )
        Product, Currency = self.env["product.product"], self.env["res.currency"]
        cache = {}

        def price_of(subscription, row):
            quantity = abs(row["quantity"])
            key = (
                subscription.pricelist_id,
                subscription.product_id,
                row["unit_msrp"],
                row["unit_cost"],
                row.get("file_currency_id") or company_currency_id,
                bisect_right(thresholds, quantity),
            )
            if key not in cache:
                price, rule = Pricelist.browse(key[0])._ppu_compute_price_rule(
                    Product.browse(key[1]),
                    quantity,
                    row["unit_msrp"],
                    row["unit_cost"],
                    Currency.browse(key[4]),
                    date,
                )
                cache[key] = (
                    float_round(price, precision_digits=product_digits),
                    rule.id,
                )
            return cache[key]

        return price_of

    def _ppu_billed_keys(self, keys):
        """{consumption key: id of the batch that billed it} among ``keys``,
        over the company's billed rows."""
        billed = {}
        Line = self.env["sophos.ppu.import.line"]
        for some_keys in split_every(KEY_BATCH, list(keys)):
            for key, batch in Line._read_group(
                [
                    ("company_id", "=", self.company_id.id),
                    ("billed", "=", True),
                    ("consumption_key", "in", list(some_keys)),
                ],
                ["consumption_key", "import_id"],
            ):
                billed[key] = batch.id
        return billed

    def _ppu_earlier_keys(self, keys, rows):
        """{consumption key: first row number} among ``keys`` of this batch's
        rows stored checked ok before ``rows`` (the rows of earlier chunks)."""
        earlier = {}
        if not keys or not self.id:
            return earlier
        Line = self.env["sophos.ppu.import.line"]
        if not Line.search_count([("import_id", "=", self.id)], limit=1):
            return earlier  # the first chunk of an import
        # Found through the keys' index: never a scan of the batch's rows.
        before = [
            ("import_id", "=", self.id),
            ("state", "=", OK),
            ("row_number", "<", min(row["row_number"] for row in rows)),
        ]
        for some_keys in split_every(KEY_BATCH, list(keys)):
            for key, row_number in Line._read_group(
                [*before, ("consumption_key", "in", list(some_keys))],
                ["consumption_key"],
                ["row_number:min"],
            ):
                earlier[key] = row_number
        return earlier
