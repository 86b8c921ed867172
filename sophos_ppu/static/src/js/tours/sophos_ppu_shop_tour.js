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
            content: "One unit per order: no quantity stepper",
            trigger: "#product_details:not(:has(.css_quantity)):not(:has(input[name=add_qty]))",
        },
        {
            content: "Shipping times are not promised for a service",
            trigger: "#o_product_terms_and_share:not(:contains(Shipping)) #ppu_terms",
        },
        {
            content: "Add to cart",
            trigger: "#product_details #add_to_cart",
            run: "click",
        },
        {
            content: "The notification says how it is billed, not $ 0.00",
            trigger: ".toast-body:contains(Billed monthly on consumption):not(:contains(0.00))",
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
            content: "One unit, without - / + buttons",
            trigger:
                ".o_cart_product:has(a:contains(Sophos CyberSecurity)):not(:has(.js_add_cart_json)) [name=website_sale_cart_line_quantity] span:contains(1)",
        },
        {
            content: "The cart explains the zero total",
            trigger: "#ppu_cart_total_note:contains(invoiced every month)",
        },
        tourUtils.goToCheckout(),
        {
            content: "Checkout asks for the end customer, a step of the checkout",
            trigger: ".o_wizard .o_wizard_step_active:contains(End customer)",
        },
        {
            content: "Nothing is delivered or paid: no such steps",
            trigger: ".o_wizard:not(:contains(Delivery)):not(:contains(Payment)):contains(Confirm)",
        },
        {
            content: "The order summary is beside the form",
            trigger: "#o_wsale_total_accordion:contains(Order summary)",
        },
        {
            content: "A first order: no end customers to choose from yet",
            trigger: "form#ppu_end_customer_form:not(:has(select[name=end_customer_id]))",
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
            content: "The last step is Confirm",
            trigger: ".o_wizard .o_wizard_step_active:contains(Confirm)",
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
            content: "The reseller lands on the shop's confirmation",
            trigger: "#ppu_confirmation:contains(Thank you for your order)",
        },
        {
            content: "It names the end customer",
            trigger: "#ppu_end_customer_on_confirmation:contains(Globex Corporation)",
        },
        {
            content: "No empty payment information",
            trigger: "body:not(:contains(Payment Information))",
        },
        {
            content: "No payment status bar: nothing was paid",
            trigger: "body:not(:has(.oe_website_sale_tx_status .card))",
        },
    ],
});
