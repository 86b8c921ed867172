# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The checkout steps of a cart holding a pay-per-use service.

website_sale's progress bar reads Review Order > Delivery > Payment. A PPU
cart gets an "End customer" step before the confirmation; when nothing is
delivered, the "Delivery" step is left out (its page, the reseller's own
billing address, only shows while it is incomplete), and when nothing is paid
the last step is "Confirm".
"""

from odoo import models
from odoo.http import request
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

#: website_sale's address pages (the step list is rendered from either).
ADDRESS_PATHS = ("/shop/checkout", "/shop/address")


class Website(models.Model):
    _inherit = "website"

    def _get_checkout_step_list(self):
        steps = super()._get_checkout_step_list()
        order_sudo = self._ppu_checkout_order()
        if not order_sudo.ppu_has_lines:
            return steps
        return self._ppu_checkout_step_list(steps, order_sudo)

    def _ppu_checkout_order(self):
        """The cart the steps are rendered for (none outside a request)."""
        if not request or not getattr(request, "website", None):
            return self.env["sale.order"]
        return self.sale_get_order() or self.env["sale.order"]

    def _ppu_checkout_step_list(self, steps, order_sudo):
        """``steps`` of website_sale with the End customer step inserted
        before the extra-info/payment step."""
        by_xmlid = {xmlids[0]: values for xmlids, values in steps}
        delivered = order_sudo._has_deliverable_products()
        paid = bool(order_sudo.amount_total)
        address_step = (
            ["website_sale.checkout", "website_sale.address"],
            {
                **by_xmlid["website_sale.checkout"],
                "main_button_href": "/shop/ppu_end_customer",
            },
        )
        if not delivered:
            address_step[1]["name"] = _lt("Billing address")
        end_customer_step = (
            ["sophos_ppu.ppu_end_customer"],
            {
                "name": _lt("End customer"),
                "current_href": "/shop/ppu_end_customer",
                "main_button": _lt("Continue"),
                "main_button_href": "/shop/confirm_order",
                "back_button": _lt("Back to delivery")
                if delivered
                else _lt("Back to cart"),
                "back_button_href": "/shop/checkout" if delivered else "/shop/cart",
            },
        )
        result = [(["website_sale.cart"], by_xmlid["website_sale.cart"])]
        if delivered or (request and request.httprequest.path in ADDRESS_PATHS):
            result.append(address_step)
        result.append(end_customer_step)
        back_to_end_customer = {
            "back_button": _lt("Back to end customer"),
            "back_button_href": "/shop/ppu_end_customer",
        }
        for xmlids, values in steps:
            if xmlids[0] in ("website_sale.cart", "website_sale.checkout"):
                continue
            values = {**values, **back_to_end_customer}
            if xmlids[0] == "website_sale.payment" and not paid:
                values["name"] = _lt("Confirm")
            result.append((xmlids, values))
        return result
