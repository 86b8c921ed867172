/** @odoo-module **/
// A portal reseller orders the Sophos PPU service for one end customer.

import { registry } from "@web/core/registry";
import * as tourUtils from "@website_sale/js/tours/tour_utils";

registry.category("web_tour.tours").add("sophos_ppu_shop_tour", {
    url: "/shop",
    steps: () => [
        {
            content: "The shop card says how the service is billed",
            trigger: ".oe_product_cart:has(a:contains(Sophos CyberSecurity)) .ppu_billing_note",
        },
        {
            content: "Open the product",
            trigger: ".oe_product_cart a:contains(Sophos CyberSecurity)",
            run: "click",
        },
        {
            content: "The product page says it is billed on consumption",
            trigger: "#product_details #ppu_billing_note:contains(Billed monthly on consumption)",
        },
        {
            content: "No price and no struck-through price are shown",
            trigger:
                "#product_details:not(:has(.oe_price:visible)):not(:has(.oe_default_price:visible))",
        },
        {
            content: "Add to cart",
            trigger: "#product_details #add_to_cart",
            run: "click",
        },
        tourUtils.goToCart(),
        {
            content: "The cart line says how it is billed",
            trigger:
                ".o_cart_product:has(a:contains(Sophos CyberSecurity)) [name=ppu_cart_line_billing]",
        },
        {
            content: "The cart line shows no price",
            trigger: "#cart_products:not(:has([name=website_sale_cart_line_price]))",
        },
        {
            content: "Try to order it twice (for a second end customer)",
            trigger: ".o_cart_product:has(a:contains(Sophos CyberSecurity)) a.js_add_cart_json[title='Add one']",
            run: "click",
        },
        {
            content: "The cart says one order is for one end customer",
            trigger: "#data_warning:contains(one end customer per order)",
        },
        {
            content: "The quantity stays 1",
            trigger: ".o_cart_product input.js_quantity[value='1']",
        },
        {
            content: "The cart explains the zero total",
            trigger: "#ppu_cart_total_note:contains(invoiced every month)",
        },
        tourUtils.goToCheckout(),
        {
            content: "Checkout asks for the end customer",
            trigger: "form#ppu_end_customer_form",
        },
        {
            trigger: "input[name=company_name]",
            run: "edit Globex Corporation",
        },
        {
            trigger: "input[name=contact_name]",
            run: "edit Hank Scorpio",
        },
        {
            content: "Type a bad e-mail",
            trigger: "input[name=email]",
            run: "edit hank@globex",
        },
        {
            trigger: "input[name=phone]",
            run: "edit +1 555 0199",
        },
        {
            trigger: "select[name=country_id]",
            run: "selectByLabel United States",
        },
        {
            trigger: "input[name=end_user_identifier]",
            run: "edit 8f3c2a10-globex",
        },
        {
            content: "Submit",
            trigger: "button[name=ppu_end_customer_submit]",
            run: "click",
        },
        {
            content: "The e-mail error is shown",
            trigger: "#ppu_end_customer_errors:contains(hank@globex is not a valid e-mail address)",
        },
        {
            content: "What was typed is kept",
            trigger:
                "form#ppu_end_customer_form:has(input[name=company_name][value='Globex Corporation']):has(input[name=contact_name][value='Hank Scorpio']):has(input[name=end_user_identifier][value='8f3c2a10-globex'])",
        },
        {
            content: "The country is kept",
            trigger: "select[name=country_id]:has(option:selected:contains(United States))",
        },
        {
            content: "Correct the e-mail",
            trigger: "input[name=email].is-invalid",
            run: "edit hank@globex.example.com",
        },
        {
            content: "Submit again",
            trigger: "button[name=ppu_end_customer_submit]",
            run: "click",
        },
        {
            content: "The confirmation step recalls the end customer",
            trigger: "#ppu_end_customer_on_payment:contains(Globex Corporation)",
        },
        {
            content: "The order summary shows no price for the service either",
            trigger:
                "td[name=website_sale_cart_summary_line_price]:contains(On consumption):not(:visible)",
        },
        {
            content: "No payment method is asked for a zero total",
            trigger: "body:not(:has(#o_payment_form))",
        },
        {
            content: "Confirm the order without paying",
            trigger:
                "form[name=o_wsale_confirm_order] button[name=o_payment_submit_button]:contains(Confirm Order):not(:disabled)",
            run: "click",
        },
        {
            content: "The reseller lands on its confirmed order",
            trigger: "#portal_sale_content",
        },
        {
            content: "Wait for the order's chatter (its assets load lazily)",
            trigger: "#chatterRoot:shadow .o-mail-Chatter",
        },
    ],
});
