/** @odoo-module **/
// A reseller orders the PPU service again for an end customer it already has:
// it picks "Helios BV" from its end customers instead of retyping it.

import { registry } from "@web/core/registry";
import * as tourUtils from "@website_sale/js/tours/tour_utils";

registry.category("web_tour.tours").add("sophos_ppu_checkout_existing_end_customer_tour", {
    url: "/shop",
    steps: () => [
        {
            content: "Open the product",
            trigger: ".oe_product_cart a:contains(Sophos CyberSecurity)",
            run: "click",
        },
        {
            content: "Add to cart",
            trigger: "#product_details #add_to_cart",
            run: "click",
        },
        tourUtils.goToCart(),
        {
            content: "The progress bar: Review Order, End customer, Confirm",
            trigger:
                ".o_wizard:contains(Review Order):contains(End customer):contains(Confirm):not(:contains(Delivery)):not(:contains(Payment))",
        },
        tourUtils.goToCheckout(),
        {
            content: "The End customer step is the current one",
            trigger: ".o_wizard .o_wizard_step_active:contains(End customer)",
        },
        {
            content: "The order summary is shown",
            trigger: "#o_wsale_total_accordion:contains(Order summary)",
        },
        {
            content: "The reseller's own end customers are offered, not another reseller's",
            trigger:
                "select[name=end_customer_id]:has(option:contains(Helios BV)):not(:has(option:contains(Rival Customer)))",
        },
        {
            content: "Choose Helios BV",
            trigger: "select[name=end_customer_id]",
            run: "selectByLabel Helios BV",
        },
        {
            content: "The form is filled from its last order",
            trigger:
                "form#ppu_end_customer_form:has(input[name=company_name][readonly]):has(input[name=contact_name]:value(Anna de Vries)):has(input[name=end_user_identifier]:value(EU-HELIOS-1))",
        },
        {
            content: "Continue",
            trigger: "button[name=ppu_end_customer_submit]",
            run: "click",
        },
        {
            content: "The confirmation step recalls the end customer",
            trigger: "#ppu_end_customer_on_payment:contains(Helios BV)",
        },
        {
            content: "Confirm the order",
            trigger:
                "form[name=o_wsale_confirm_order] button[name=o_payment_submit_button]:contains(Confirm Order):not(:disabled)",
            run: "click",
        },
        {
            content: "The confirmation page names the end customer",
            trigger: "#ppu_end_customer_on_confirmation .ppu_end_customer_name:contains(Helios BV)",
        },
        {
            content: "No $0.00 payment information",
            trigger: "body:not(:contains(Payment Information))",
        },
    ],
});
