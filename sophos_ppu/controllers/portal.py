# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Resellers' pay-per-use subscriptions and consumption in the portal.

A reseller is a portal user whose commercial partner (the reseller company)
is the ``partner_id`` of subscriptions, directly or through one of its
contacts, as Odoo's own portal rules compare partners.

Who sees what, and why it is done this way:

- **Subscriptions** are searched with the user's own rights: the portal
  access right and record rule of ``sophos.ppu.subscription`` (reseller
  ``child_of`` the user's commercial partner) and the multi-company rule.
  The routes add the same ownership domain, so that an internal user who
  opens ``/my/ppu`` sees the subscriptions of its own company as a reseller
  (none) rather than every reseller's. A foreign or unknown id answers 404,
  whichever it is, so ids cannot be probed.
- **Consumption** (``sophos.ppu.import.line``) is read with ``sudo()``
  after explicit filtering, in one place (``_ppu_consumption_domain``):
  billed rows of the user's reseller, on a *posted* customer invoice or
  credit note of that reseller, in the user's companies. Portal users get
  no access right on the model: a row also holds what a reseller must never
  read (the distributor's cost and the MSRP, the pricelist rule, the raw
  file row, its batch with the batch's name and file), and an access right
  would open all of it to RPC for the reseller's own rows; hiding those
  fields with field groups would rewrite the import model. Only the values
  built by ``_ppu_row_values`` leave this controller.
"""

import re
from collections import defaultdict
from datetime import date

from werkzeug.exceptions import NotFound

from odoo.exceptions import AccessError, MissingError
from odoo.http import request, route
from odoo.tools import format_date, formatLang

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.addons.sophos_ppu.core.statement import (
    Money,
    month_over_month,
    previous_months,
)
from odoo.addons.sophos_ppu.core.values import clean_text

MONTH_RE = re.compile(r"(\d{4})-(\d{2})")
#: Longest reason accepted in the close request form.
CLOSE_REASON_MAX_LENGTH = 2000
#: Months side by side in the month-over-month comparison of /my/ppu.
COMPARED_MONTHS = 3
#: The per-end-customer statement's formats: .xlsx and PDF.
END_CUSTOMER_FORMATS = ("xlsx", "pdf")


def month_period(month):
    """The first day of ``YYYY-MM``, None for anything else."""
    match = MONTH_RE.fullmatch(month or "")
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        return None
    return date(int(match[1]), int(match[2]), 1)


def currency_totals(rows_values):
    """The subtotals of ``rows_values`` (``_ppu_row_values``) per currency,
    each rounded to it: [(amount, currency)] sorted by currency code."""
    totals = defaultdict(float)
    for values in rows_values:
        totals[values["currency"]] += values["price_subtotal"]
    return [
        (currency.round(amount), currency)
        for currency, amount in sorted(totals.items(), key=lambda item: item[0].name)
    ]


def currency_money(currency):
    """How the statement files write amounts of ``currency``."""
    return Money(
        code=currency.name or "",
        symbol=currency.symbol or currency.name or "",
        before=currency.position == "before",
        digits=currency.decimal_places,
    )


class PpuCustomerPortal(CustomerPortal):
    # ------------------------------------------------------------------
    # Who sees what
    # ------------------------------------------------------------------

    def _ppu_reseller(self):
        return request.env.user.commercial_partner_id

    def _ppu_subscriptions_domain(self):
        return [("partner_id", "child_of", self._ppu_reseller().id)]

    def _ppu_consumption_domain(self):
        reseller = self._ppu_reseller()
        return [
            ("billed", "=", True),
            ("partner_id", "=", reseller.id),
            ("company_id", "in", request.env.companies.ids),
            (
                "invoice_line_ids",
                "any",
                [
                    ("parent_state", "=", "posted"),
                    ("move_id.move_type", "in", ("out_invoice", "out_refund")),
                    ("move_id.commercial_partner_id", "=", reseller.id),
                ],
            ),
        ]

    def _ppu_consumption_sudo(self, domain=()):
        """The reseller's visible consumption rows matching ``domain``."""
        return (
            request.env["sophos.ppu.import.line"]
            .sudo()
            .search(self._ppu_consumption_domain() + list(domain))
        )

    def _ppu_invoice_line(self, row):
        """The posted invoice line of the reseller that bills ``row``."""
        reseller = self._ppu_reseller()
        return row.invoice_line_ids.filtered(
            lambda line: line.parent_state == "posted"
            and line.move_id.commercial_partner_id == reseller
        )[:1]

    def _ppu_subscription_check_access(self, subscription_id):
        """The reseller's own subscription, as superuser; 404 otherwise."""
        try:
            subscription_sudo = self._document_check_access(
                "sophos.ppu.subscription", subscription_id
            )
        except (AccessError, MissingError) as error:
            raise NotFound() from error
        if subscription_sudo.partner_id.commercial_partner_id != self._ppu_reseller():
            raise NotFound()
        return subscription_sudo

    # ------------------------------------------------------------------
    # Values
    # ------------------------------------------------------------------

    def _ppu_month_values(self, period):
        month = period.strftime("%Y-%m")
        return {
            "period": period,
            "month": month,
            "label": format_date(request.env, period, date_format="MMMM y"),
            "statement_urls": {
                extension: f"/my/ppu/statement/{month}.{extension}"
                for extension in ("xlsx", "csv")
            },
        }

    def _ppu_row_values(self, row, invoice_urls):
        """What the reseller may read of one consumption row."""
        move = self._ppu_invoice_line(row).move_id
        if move not in invoice_urls:
            invoice_urls[move] = move.get_portal_url()
        subscription = row.subscription_id
        return {
            "period": row.period_date,
            "end_customer": subscription.end_customer_id.name or "",
            "end_user_identifier": row.end_user_identifier
            or subscription.end_user_identifier
            or "",
            "service": row.product_description or subscription.product_id.name or "",
            "sku": row.sku or "",
            "start_date": row.start_date,
            "end_date": row.end_date,
            "quantity": row.quantity,
            "price_unit": row.price_unit,
            "price_subtotal": row.currency_id.round(row.price_subtotal),
            "currency": row.currency_id,
            "invoice_name": move.name or "",
            "invoice_url": invoice_urls[move],
        }

    def _ppu_rows_values(self, rows):
        """Row values ordered by month (newest first), end customer, service,
        dates and row."""
        rows = rows.sorted(
            lambda row: (
                -row.period_date.toordinal(),
                row.subscription_id.end_customer_id.name or "",
                row.product_description or "",
                row.start_date or date.min,
                row.end_date or date.min,
                row.row_number,
            )
        )
        invoice_urls = {}
        return [self._ppu_row_values(row, invoice_urls) for row in rows]

    def _ppu_months(self, rows):
        """The consumption of ``rows`` month by month, newest first:
        [{month values..., "rows": [row values], "totals": [(amount,
        currency)]}]."""
        months = {}
        for values in self._ppu_rows_values(rows):
            period = values["period"]
            if period not in months:
                months[period] = dict(self._ppu_month_values(period), rows=[])
            months[period]["rows"].append(values)
        for month in months.values():
            month["totals"] = currency_totals(month["rows"])
        return list(months.values())

    def _ppu_last_billed(self, subscriptions):
        """Per subscription id, its last billed month and that month's
        consumption: {id: {"label", "month", "amounts": [(amount,
        currency)]}}."""
        groups = (
            request.env["sophos.ppu.import.line"]
            .sudo()
            ._read_group(
                self._ppu_consumption_domain()
                + [("subscription_id", "in", subscriptions.ids)],
                ["subscription_id", "import_id", "currency_id"],
                ["price_subtotal:sum"],
            )
        )
        totals = defaultdict(lambda: defaultdict(float))
        for subscription, batch, currency, amount in groups:
            totals[subscription.id][(batch.period_date, currency)] += amount
        last_billed = {}
        for subscription_id, amounts in totals.items():
            period = max(period for period, _currency in amounts)
            last_billed[subscription_id] = dict(
                self._ppu_month_values(period),
                amounts=[
                    (currency.round(amount), currency)
                    for (month, currency), amount in sorted(
                        amounts.items(), key=lambda item: item[0][1].name
                    )
                    if month == period
                ],
            )
        return last_billed

    def _ppu_statement_months(self):
        """The months the reseller has visible consumption in, newest first."""
        batches = (
            request.env["sophos.ppu.import.line"]
            .sudo()
            ._read_group(self._ppu_consumption_domain(), ["import_id"])
        )
        periods = {batch.period_date for (batch,) in batches}
        return [
            self._ppu_month_values(period) for period in sorted(periods, reverse=True)
        ]

    def _ppu_contact(self, subscription_sudo):
        """The end customer's contact given at order time, field by field
        falling back to the end customer itself."""
        order = subscription_sudo.sale_line_id.order_id
        customer = subscription_sudo.end_customer_id
        return {
            "name": order.ppu_contact_name or customer.name or "",
            "email": order.ppu_contact_email or customer.email or "",
            "phone": order.ppu_contact_phone or customer.phone or "",
            "country": (order.ppu_country_id or customer.country_id).name or "",
        }

    # ------------------------------------------------------------------
    # /my
    # ------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "ppu_subscription_count" in counters:
            Subscription = request.env["sophos.ppu.subscription"]
            values["ppu_subscription_count"] = (
                Subscription.search_count(self._ppu_subscriptions_domain())
                if Subscription.has_access("read")
                else 0
            )
        return values

    def _ppu_searchbar_sortings(self):
        return {
            "end_customer": {
                "label": request.env._("End Customer"),
                "order": "end_customer_id, id",
            },
            "since": {
                "label": request.env._("Since"),
                "order": "date_start desc, id desc",
            },
            "state": {
                "label": request.env._("Status"),
                "order": "state, end_customer_id, id",
            },
        }

    def _ppu_searchbar_filters(self):
        return {
            "all": {"label": request.env._("All"), "domain": []},
            "active": {
                "label": request.env._("Active"),
                "domain": [("state", "=", "active")],
            },
            "closed": {
                "label": request.env._("Closed"),
                "domain": [("state", "=", "closed")],
            },
        }

    def _ppu_searchbar_inputs(self):
        return {
            "all": {"input": "all", "label": request.env._("Search in All")},
            "end_customer": {
                "input": "end_customer",
                "label": request.env._("Search in End Customer"),
            },
            "end_user_identifier": {
                "input": "end_user_identifier",
                "label": request.env._("Search in End User Identifier"),
            },
        }

    def _ppu_search_domain(self, search_in, search):
        """Subscriptions whose end customer or End User Identifier (or either,
        for 'all') contains ``search``."""
        if not search:
            return []
        # End customers are not the reseller's contacts: the portal user's
        # rules would hide them from the search; their names are matched as
        # superuser, among the reseller's own subscriptions only.
        end_customers = (
            request.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            ._search([("name", "ilike", search)])
        )
        by_customer = [("end_customer_id", "in", end_customers)]
        by_identifier = [("end_user_identifier", "ilike", search)]
        if search_in == "end_customer":
            return by_customer
        if search_in == "end_user_identifier":
            return by_identifier
        return ["|"] + by_customer + by_identifier

    def _ppu_month_over_month(self, subscriptions, statement_months):
        """The consumption of the end customers of ``subscriptions`` in the
        last COMPARED_MONTHS months up to the reseller's last billed one (the
        first of ``statement_months``, ``_ppu_statement_months``):
        {"months": [month values], "lines": [{"end_customer", "currency",
        "amounts", "change", "change_text"}]}, or None without consumption."""
        if not statement_months or not subscriptions:
            return None
        periods = previous_months(statement_months[0]["period"], COMPARED_MONTHS)
        groups = (
            request.env["sophos.ppu.import.line"]
            .sudo()
            ._read_group(
                self._ppu_consumption_domain()
                + [
                    ("subscription_id", "in", subscriptions.ids),
                    ("period_date", "in", periods),
                ],
                ["subscription_id", "period_date:month", "currency_id"],
                ["price_subtotal:sum"],
            )
        )
        currencies = {}
        entries = []
        for subscription, month, currency, amount in groups:
            money = currency_money(currency)
            currencies[money] = currency
            entries.append(
                (
                    subscription.end_customer_id.name or "",
                    money,
                    month.replace(day=1),
                    amount,
                )
            )
        lines = month_over_month(entries, periods)
        for line in lines:
            line["currency"] = currencies[line["currency"]]
            line["amounts"] = [float(amount) for amount in line["amounts"]]
            change = line["change"]
            line["change_text"] = (
                ""
                if change is None
                else ("+" if change > 0 else "")
                + formatLang(request.env, float(change), digits=1)
                + "\u00a0%"
            )
        return {
            "months": [self._ppu_month_values(period) for period in periods],
            "lines": lines,
        }

    @route(
        ["/my/ppu", "/my/ppu/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_ppu_subscriptions(
        self, page=1, sortby=None, filterby=None, search_in="all", search=None, **kw
    ):
        Subscription = request.env["sophos.ppu.subscription"]
        searchbar_sortings = self._ppu_searchbar_sortings()
        searchbar_filters = self._ppu_searchbar_filters()
        searchbar_inputs = self._ppu_searchbar_inputs()
        if sortby not in searchbar_sortings:
            sortby = "end_customer"
        if filterby not in searchbar_filters:
            filterby = "all"
        if search_in not in searchbar_inputs:
            search_in = "all"
        search = (search or "").strip()
        domain = (
            self._ppu_subscriptions_domain()
            + searchbar_filters[filterby]["domain"]
            + self._ppu_search_domain(search_in, search)
        )
        readable = Subscription.has_access("read")
        pager = portal_pager(
            url="/my/ppu",
            url_args={
                "sortby": sortby,
                "filterby": filterby,
                "search_in": search_in,
                "search": search,
            },
            total=Subscription.search_count(domain) if readable else 0,
            page=page,
            step=self._items_per_page,
        )
        subscriptions = (
            Subscription.search(
                domain,
                order=searchbar_sortings[sortby]["order"],
                limit=self._items_per_page,
                offset=pager["offset"],
            )
            if readable
            else Subscription
        )
        statement_months = self._ppu_statement_months()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ppu_subscription",
                # Read as superuser what the search above allowed: the end
                # customers are not the reseller's contacts.
                "subscriptions": subscriptions.sudo(),
                "last_billed": self._ppu_last_billed(subscriptions),
                "month_over_month": self._ppu_month_over_month(
                    Subscription.search(domain) if readable else Subscription,
                    statement_months,
                ),
                "statement_months": statement_months,
                "csv_decimal_comma": self._ppu_decimal_point() == ",",
                "pager": pager,
                "default_url": "/my/ppu",
                "searchbar_sortings": searchbar_sortings,
                "sortby": sortby,
                "searchbar_filters": searchbar_filters,
                "filterby": filterby,
                "searchbar_inputs": searchbar_inputs,
                "search_in": search_in,
                "search": search,
            }
        )
        return request.render("sophos_ppu.portal_my_ppu_subscriptions", values)

    @route(
        "/my/ppu/<int:subscription_id>",
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_ppu_subscription(self, subscription_id, close_error=None, **kw):
        subscription_sudo = self._ppu_subscription_check_access(subscription_id)
        rows = self._ppu_consumption_sudo(
            [("subscription_id", "=", subscription_sudo.id)]
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ppu_subscription",
                "ppu_subscription": subscription_sudo,
                "contact": self._ppu_contact(subscription_sudo),
                "months": [
                    dict(
                        month,
                        end_customer_urls=self._ppu_end_customer_urls(
                            subscription_sudo, month["month"]
                        ),
                    )
                    for month in self._ppu_months(rows)
                ],
                "csv_decimal_comma": self._ppu_decimal_point() == ",",
                "close_error": close_error
                if close_error in ("missing", "too_long")
                else None,
                "close_reason_max_length": CLOSE_REASON_MAX_LENGTH,
            }
        )
        return request.render("sophos_ppu.portal_my_ppu_subscription", values)

    @route(
        "/my/ppu/<int:subscription_id>/close_request",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def portal_my_ppu_close_request(self, subscription_id, reason="", **kw):
        """Ask ops to close an active subscription (once until they answer)."""
        subscription_sudo = self._ppu_subscription_check_access(subscription_id)
        url = f"/my/ppu/{subscription_sudo.id}"
        if (
            subscription_sudo.state != "active"
            or subscription_sudo.close_requested_date
        ):
            return request.redirect(url)
        reason = clean_text(reason, multiline=True)
        if not reason or len(reason) > CLOSE_REASON_MAX_LENGTH:
            error = "too_long" if reason else "missing"
            return request.redirect(f"{url}?close_error={error}#ppu_close_request")
        subscription_sudo._ppu_request_close(reason, request.env.user.partner_id)
        return request.redirect(f"{url}#ppu_close_request")

    def _ppu_end_customer_urls(self, subscription_sudo, month):
        return {
            extension: f"/my/ppu/{subscription_sudo.id}/statement/{month}.{extension}"
            for extension in END_CUSTOMER_FORMATS
        }
