# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shop checkout for pay-per-use services.

A cart holding a PPU product may only be checked out by a logged-in reseller
and goes through one extra page, ``/shop/ppu_end_customer``, between the
address step and the (zero-amount) confirmation: the end customer the
service is for.
"""

from odoo.http import request, route

from odoo.addons.sophos_ppu.models.sale_order import END_CUSTOMER_MAX_LENGTHS
from odoo.addons.website_sale.controllers.main import WebsiteSale


class PpuWebsiteSale(WebsiteSale):
    def _check_cart(self, order_sudo):
        if redirection := super()._check_cart(order_sudo):
            return redirection
        if order_sudo.ppu_has_lines and request.env.user._is_public():
            return request.redirect("/web/login?redirect=/shop/checkout")

    def _ppu_end_customer_redirection(self):
        """Send a valid PPU cart without end customer to the end-customer page
        (an invalid cart is left to website_sale's own redirections)."""
        order_sudo = request.website.sale_get_order()
        if (
            not self._check_cart_and_addresses(order_sudo)
            and order_sudo.ppu_has_lines
            and not order_sudo.ppu_end_customer_id
        ):
            return request.redirect("/shop/ppu_end_customer")

    @route()
    def shop_confirm_order(self, **post):
        return self._ppu_end_customer_redirection() or super().shop_confirm_order(
            **post
        )

    @route()
    def shop_payment(self, **post):
        return self._ppu_end_customer_redirection() or super().shop_payment(**post)

    def _get_shop_payment_errors(self, order):
        errors = super()._get_shop_payment_errors(order)
        if order.ppu_has_lines and not order.ppu_end_customer_id:
            errors.append(
                (
                    request.env._("Who is this service for?"),
                    request.env._(
                        "Enter the end customer of the pay-per-use service "
                        "before confirming the order."
                    ),
                )
            )
        elif order.ppu_has_lines and order._ppu_identifier_holders():
            errors.append(
                (
                    request.env._("End User Identifier already registered"),
                    order._ppu_identifier_taken_message(),
                )
            )
        return errors

    @route(
        "/shop/ppu_end_customer",
        type="http",
        methods=["GET", "POST"],
        auth="public",
        website=True,
        sitemap=False,
    )
    def shop_ppu_end_customer(self, **post):
        order_sudo = request.website.sale_get_order()
        if redirection := self._check_cart_and_addresses(order_sudo):
            return redirection
        if not order_sudo.ppu_has_lines:
            return request.redirect("/shop/confirm_order")

        request.session["sale_last_order_id"] = order_sudo.id
        errors = {}
        if request.httprequest.method == "POST":
            values = order_sudo._ppu_clean_end_customer_values(post)
            errors = order_sudo._ppu_end_customer_errors(values)
            if not errors:
                order_sudo._ppu_set_end_customer(values)
                return request.redirect("/shop/confirm_order")
        else:
            values = self._ppu_end_customer_form_values(order_sudo)
        return request.render(
            "sophos_ppu.ppu_end_customer",
            {
                "website_sale_order": order_sudo,
                "order": order_sudo,
                "known_end_customers": order_sudo._ppu_known_end_customer_values(),
                "values": values,
                "errors": errors,
                "countries": request.env["res.country"].sudo().search([]),
                "max_lengths": END_CUSTOMER_MAX_LENGTHS,
            },
        )

    @route()
    def shop_payment_validate(self, sale_order_id=None, **post):
        """A free PPU order lands on website_sale's confirmation page (with
        its end customer), not on the portal order of a $0.00 sale."""
        order_sudo = request.website.sale_get_order() if sale_order_id is None else None
        response = super().shop_payment_validate(sale_order_id=sale_order_id, **post)
        if (
            order_sudo
            and order_sudo.ppu_has_lines
            and order_sudo.state == "sale"
            and not order_sudo.amount_total
            and not order_sudo.get_portal_last_transaction()
        ):
            request.session["sale_last_order_id"] = order_sudo.id
            return request.redirect("/shop/confirmation")
        return response

    def _get_additional_notification_information(self, line):
        """The add-to-cart notification says how a PPU line is billed
        instead of showing its 0.00 (see ppu_cart_notification.js)."""
        info = super()._get_additional_notification_information(line)
        if line.product_id.ppu_ok:
            info["ppu_billing_note"] = request.env._("Billed monthly on consumption")
        return info

    def _ppu_end_customer_form_values(self, order_sudo):
        return {
            "end_customer_id": str(order_sudo.ppu_end_customer_id.id or "")
            if order_sudo.ppu_end_customer_id in order_sudo._ppu_known_end_customers()
            else "",
            "company_name": order_sudo.ppu_end_customer_id.name or "",
            "contact_name": order_sudo.ppu_contact_name or "",
            "email": order_sudo.ppu_contact_email or "",
            "phone": order_sudo.ppu_contact_phone or "",
            "country_id": str(order_sudo.ppu_country_id.id or ""),
            "end_user_identifier": order_sudo.ppu_end_user_identifier or "",
        }
