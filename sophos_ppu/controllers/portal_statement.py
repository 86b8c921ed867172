# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The reseller's statements from the portal: the month's, of all its end
customers (.csv, .xlsx), and one end customer's (.xlsx, PDF), for the
reseller to bill it. They hold only what ``_ppu_row_values`` lets out of
the consumption (see ``portal.py``): never the distributor's cost."""

from werkzeug.exceptions import NotFound

from odoo.http import request, route
from odoo.tools import format_date, formatLang

from odoo.addons.sophos_ppu.core.statement import (
    AMOUNT,
    DATE,
    PRICE,
    QUANTITY,
    Column,
    file_slug,
    statement_csv,
    statement_xlsx,
)

from .import_report import TABLE_FORMATS, file_response
from .portal import (
    END_CUSTOMER_FORMATS,
    PpuCustomerPortal,
    currency_money,
    currency_totals,
    month_period,
)

END_CUSTOMER_REPORT = "sophos_ppu.action_report_ppu_end_customer_statement"
#: Statement columns of the month's statement only, and of one end
#: customer's only (see ``_ppu_statement_columns``).
MONTH_STATEMENT_ONLY = {"month", "end_customer", "end_user_identifier", "invoice_name"}
END_CUSTOMER_STATEMENT_ONLY = {"sku"}


class PpuStatementPortal(PpuCustomerPortal):
    """The statement downloads of the reseller portal."""

    # ------------------------------------------------------------------
    # Monthly statement
    # ------------------------------------------------------------------

    def _ppu_statement_columns(self, end_customer=False):
        """The columns of the month's statement, or of one end customer's
        (``end_customer``: what the reseller bills it for, per service)."""
        _ = request.env._
        columns = [
            Column("month", _("Month")),
            Column("end_customer", _("End Customer")),
            Column("end_user_identifier", _("End User Identifier")),
            Column("service", _("Service")),
            Column("sku", _("SKU")),
            Column("start_date", _("Start Date"), DATE),
            Column("end_date", _("End Date"), DATE),
            Column("quantity", _("Quantity"), QUANTITY),
            Column("price_unit", _("Unit Price"), PRICE),
            Column("subtotal", _("Subtotal"), AMOUNT),
            Column("currency_code", _("Currency")),
            Column("invoice_name", _("Invoice")),
        ]
        left_out = MONTH_STATEMENT_ONLY if end_customer else END_CUSTOMER_STATEMENT_ONLY
        return [column for column in columns if column.key not in left_out]

    def _ppu_statement_rows(self, rows):
        """The statement rows of ``rows``: what the reseller may read of
        them (``_ppu_row_values``) as plain values for the file builders."""
        return [
            dict(
                values,
                month=values["period"].strftime("%Y-%m"),
                subtotal=values["price_subtotal"],
                currency=currency_money(values["currency"]),
                currency_code=values["currency"].name or "",
            )
            for values in self._ppu_rows_values(rows)
        ]

    def _ppu_decimal_point(self):
        """The decimal separator of the language the portal is shown in."""
        lang = request.env["res.lang"]._get_data(code=request.env.lang or "en_US")
        return lang.decimal_point or "."

    def _ppu_statement_file(self, rows, extension, title, end_customer=False):
        """The statement of ``rows`` as .csv or .xlsx bytes."""
        columns = self._ppu_statement_columns(end_customer=end_customer)
        table = self._ppu_statement_rows(rows)
        if extension == "csv":
            return statement_csv(columns, table, self._ppu_decimal_point())
        _ = request.env._
        return statement_xlsx(
            columns,
            table,
            sheet_title=title,
            total_label=_("Total"),
            group_key=None if end_customer else "end_customer",
            group_total_label=_("Total end customer"),
        )

    @route(
        "/my/ppu/statement/<string:month>.<string:extension>",
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def portal_my_ppu_statement(self, month, extension, **kw):
        """The month's consumption of all the reseller's end customers, as
        the reseller was invoiced for it (posted invoices only); cells a
        spreadsheet would run as formulas are neutralised."""
        period = month_period(month)
        if extension not in TABLE_FORMATS or not period:
            raise NotFound()
        rows = self._ppu_consumption_sudo([("period_date", "=", period)])
        if not rows:
            raise NotFound()
        month = period.strftime("%Y-%m")
        return file_response(
            self._ppu_statement_file(rows, extension, month),
            TABLE_FORMATS[extension][1],
            f"sophos-consumption-{month}.{extension}",
        )

    # ------------------------------------------------------------------
    # One end customer's statement
    # ------------------------------------------------------------------

    def _ppu_end_customer_report_values(self, subscription_sudo, period, rows):
        """What the PDF shows, as text formatted in the reader's language."""
        env = request.env
        rows_values = self._ppu_rows_values(rows)
        lines = []
        for values in rows_values:
            currency = values["currency"]
            lines.append(
                {
                    "service": values["service"],
                    "sku": values["sku"],
                    "start_date": format_date(env, values["start_date"]),
                    "end_date": format_date(env, values["end_date"]),
                    "quantity": formatLang(
                        env, values["quantity"], dp="Product Unit of Measure"
                    ),
                    "price_unit": formatLang(
                        env,
                        values["price_unit"],
                        dp="Product Price",
                        currency_obj=currency,
                    ),
                    "subtotal": formatLang(
                        env, values["price_subtotal"], currency_obj=currency
                    ),
                }
            )
        return {
            "reseller": self._ppu_reseller().name or "",
            "end_customer": subscription_sudo.end_customer_id.name or "",
            "month": format_date(env, period, date_format="MMMM y"),
            "lines": lines,
            "totals": [
                formatLang(env, amount, currency_obj=currency)
                for amount, currency in currency_totals(rows_values)
            ],
        }

    @route(
        "/my/ppu/<int:subscription_id>/statement/<string:month>.<string:extension>",
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def portal_my_ppu_end_customer_statement(
        self, subscription_id, month, extension, **kw
    ):
        """The month's consumption of the end customer of one of the
        reseller's subscriptions (all its services), for the reseller to
        bill it: service, SKU, dates, quantity, the reseller's unit price and
        subtotal, as .xlsx or PDF."""
        subscription_sudo = self._ppu_subscription_check_access(subscription_id)
        period = month_period(month)
        if extension not in END_CUSTOMER_FORMATS or not period:
            raise NotFound()
        rows = self._ppu_consumption_sudo(
            [
                ("period_date", "=", period),
                (
                    "subscription_id.end_customer_id",
                    "=",
                    subscription_sudo.end_customer_id.id,
                ),
            ]
        )
        if not rows:
            raise NotFound()
        month = period.strftime("%Y-%m")
        end_customer = subscription_sudo.end_customer_id.name or ""
        filename = f"sophos-consumption-{month}-{file_slug(end_customer)}.{extension}"
        if extension == "xlsx":
            return file_response(
                self._ppu_statement_file(rows, extension, month, end_customer=True),
                TABLE_FORMATS[extension][1],
                filename,
            )
        # The report reads only the values built here: the rows stay unread
        # by the template, and so do their costs.
        statement = self._ppu_end_customer_report_values(
            subscription_sudo, period, rows
        )
        pdf, _report_type = (
            request.env["ir.actions.report"]
            .sudo()
            .with_context(lang=request.env.lang)
            ._render_qweb_pdf(
                END_CUSTOMER_REPORT,
                res_ids=subscription_sudo.ids,
                data={"statement": statement},
            )
        )
        return file_response(pdf, "application/pdf", filename)
