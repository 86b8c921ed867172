/** @odoo-module **/
// The add-to-cart notification of a pay-per-use line says how it is billed
// instead of "$ 0.00" (the note comes from the server's notification info).

import { patch } from "@web/core/utils/patch";
import { AddToCartNotification } from "@website_sale/js/notification/add_to_cart_notification/add_to_cart_notification";

AddToCartNotification.props.lines.element.shape.ppu_billing_note = {
    type: String,
    optional: true,
};

patch(AddToCartNotification.prototype, {
    getFormattedPrice(line) {
        return line.ppu_billing_note || super.getFormattedPrice(line);
    },
});
