/** @odoo-module **/
// A reseller follows its end customers' PPU consumption in the portal.

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("sophos_ppu_portal_tour", {
    url: "/my",
    steps: () => [
        {
            content: "The portal home shows the entry once its counter is loaded; open it",
            trigger: "a[href='/my/ppu']:contains(Pay-per-use subscriptions)",
            run: "click",
        },
        {
            content: "The list shows the last billed month of the subscription",
            trigger: ".ppu_subscription_row:has(a:contains(Customer discount)) .ppu_last_month:contains(October 2026)",
        },
        {
            content: "The month's statement can be downloaded from the list",
            trigger: "#ppu_statements a[href='/my/ppu/statement/2026-10.xlsx']",
        },
        {
            content: "Each end customer's last months are compared",
            trigger: "#ppu_month_over_month .ppu_mom_line[data-end_customer='Customer discount']",
        },
        {
            content: "Search an end customer",
            trigger: ".o_portal_search_panel input[name='search']",
            run: "edit Customer disc",
        },
        {
            content: "Run the search",
            trigger: ".o_portal_search_panel button[type='submit']",
            run: "click",
        },
        {
            content: "The search is kept and its subscription listed",
            trigger: ".o_portal_search_panel input[name='search'][value='Customer disc']",
        },
        {
            content: "Open the subscription",
            trigger: ".ppu_subscription_row a:contains(Customer discount)",
            run: "click",
        },
        {
            content: "The breadcrumbs lead back to the list",
            trigger: ".o_portal_submenu a[href='/my/ppu']",
        },
        {
            content: "The consumption of October is shown with its invoice",
            trigger: ".ppu_month[data-month='2026-10'] .ppu_consumption_row a.ppu_invoice_link[href*='/my/invoices/']",
        },
        {
            content: "The month's statement can be downloaded from the subscription",
            trigger:
                ".ppu_month[data-month='2026-10'] a.ppu_statement_xlsx[href='/my/ppu/statement/2026-10.xlsx']",
        },
        {
            content: "The end customer's own statement can be downloaded",
            trigger:
                ".ppu_month[data-month='2026-10'] a.ppu_end_customer_xlsx[href$='/statement/2026-10.xlsx']",
        },
        {
            content: "And as CSV",
            trigger:
                ".ppu_month[data-month='2026-10'] a.ppu_statement_csv[href='/my/ppu/statement/2026-10.csv']",
        },
        {
            content: "The reseller may ask to close the subscription",
            trigger: "#ppu_close_request button:contains(Request to close)",
        },
    ],
});
