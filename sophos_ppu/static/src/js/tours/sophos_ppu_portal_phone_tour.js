/** @odoo-module **/
// A reseller follows its end customers' PPU consumption on a phone (390 px):
// below the md breakpoint every list is a stack of cards, nothing is cut.

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("sophos_ppu_portal_phone_tour", {
    url: "/my/ppu",
    steps: () => [
        {
            content: "The subscriptions' table is hidden on a phone",
            trigger: "table.ppu_subscription_table.d-none.d-md-table:not(:visible)",
        },
        {
            content: "Each subscription is a card with its last billed month and amount",
            trigger:
                ".ppu_subscription_cards.d-md-none .ppu_subscription_card:has(a:contains(Customer discount)) .ppu_last_month:contains(October 2026)",
        },
        {
            content: "The whole status shows, not cut",
            trigger:
                ".ppu_subscription_card:has(a:contains(Customer discount)) .badge:contains(Active)",
        },
        {
            content: "Month over month is a card per end customer",
            trigger: ".ppu_mom_cards .ppu_mom_card:contains(Customer discount) .ppu_mom_amount:contains(45.00)",
        },
        {
            content: "and its table is hidden",
            trigger: "table.ppu_mom_table:not(:visible)",
        },
        {
            content: "Open the subscription from its card",
            trigger: ".ppu_subscription_card a:contains(Customer discount)",
            run: "click",
        },
        {
            content: "The consumption's table is hidden on a phone",
            trigger: ".ppu_month[data-month='2026-10'] table.ppu_consumption_table:not(:visible)",
        },
        {
            content: "Each consumption row is a card with its amount and invoice",
            trigger:
                ".ppu_month[data-month='2026-10'] .ppu_consumption_card:contains(Sophos Intercept X Advanced):contains(45.00) a.ppu_invoice_link",
        },
        {
            content: "The end customer's statement can be downloaded as PDF",
            trigger: ".ppu_month[data-month='2026-10'] a.ppu_end_customer_pdf[href$='/statement/2026-10.pdf']",
        },
    ],
});
