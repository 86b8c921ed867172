/** @odoo-module **/
// Ops review a batch: the rows in error from the Errors count, the value of a
// row that could not be read corrected on the row, a new check, the invoices.

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("sophos_ppu_ops_review_tour", {
    steps: () => [
        {
            content: "The batch counts its rows in error: open them",
            trigger: ".o_form_view button.oe_stat_button:has(.o_stat_text:contains(Errors))",
            run: "click",
        },
        {
            content: "Only the rows in error are listed",
            trigger: ".o_searchview_facet:contains(Errors)",
        },
        {
            content: "The row that could not be read keeps its end customer: edit its quantity",
            trigger: ".o_data_row:has(td[name=end_customer_name]:contains(Helios BV)) td[name=quantity]",
            run: "click",
        },
        {
            content: "Type the quantity the file should have held",
            trigger: ".o_data_row.o_selected_row td[name=quantity] input",
            run: "edit 10",
        },
        {
            content: "Save the row",
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "Back to the batch",
            trigger: ".o_list_view:not(:has(.o_selected_row)) .o_breadcrumb .breadcrumb-item a:contains(PPU/)",
            run: "click",
        },
        {
            content: "Check the batch again",
            trigger: ".o_form_view button[name=action_check]",
            run: "click",
        },
        {
            content: "One row is left in error: invoice the valid rows",
            trigger:
                ".o_form_view button.oe_stat_button:has(.o_stat_value:contains(1)):has(.o_stat_text:contains(Errors))",
        },
        {
            content: "Invoice the valid rows, leave the error",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_create_invoices]:visible",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The draft invoices open, the corrected row's reseller among them",
            trigger: ".o_list_view .o_data_row:contains(Reseller markup):contains(Draft)",
        },
    ],
});
