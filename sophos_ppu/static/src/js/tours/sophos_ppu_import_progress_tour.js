/** @odoo-module **/
// Ops watch a batch import in the background: the form follows its step, its
// counts and its end, and the list its state, without being reloaded. The test
// (tests/test_import_progress.py) moves the batch on through a test-only
// route, as a background job would, once the form listens.

import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

const HOOK = "/sophos_ppu_test/import_progress";

async function untilListening() {
    for (let attempt = 0; attempt < 100; attempt++) {
        if (await rpc(`${HOOK}/listening`)) {
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("The batch form never listened to the progress channel");
}

registry.category("web_tour.tours").add("sophos_ppu_import_progress_tour", {
    steps: () => [
        {
            content: "The batch is being imported: it reads the file",
            trigger: ".o_form_view .alert-info [name=job_step]:contains(Reading the file)",
        },
        {
            content: "A background job checks and stores the first rows",
            trigger: ".o_form_view .alert-info [name=progress_total]",
            run: async () => {
                await untilListening();
                await rpc(`${HOOK}/advance`, { stage: "rows" });
            },
        },
        {
            content: "The form shows the new step and counts by itself",
            trigger:
                ".o_form_view .alert-info:has([name=job_step]:contains(Checking and storing the rows)):has([name=progress_done]:contains(3)):has([name=progress_total]:contains(4)):has([name=progress] .o_progressbar_value:contains(75))",
        },
        {
            content: "The last background job ends the run",
            trigger: ".o_form_view .alert-info",
            run: async () => {
                await rpc(`${HOOK}/advance`, { stage: "end" });
            },
        },
        {
            content: "The form shows the batch checked, its progress gone",
            trigger:
                ".o_form_view:not(:has(.alert-info [name=job_step])) .o_statusbar_status button.o_arrow_button_current:contains(Checked)",
        },
        {
            content: "Back to the list of batches",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Consumption Imports)",
            run: "click",
        },
        {
            content: "The batch is listed, checked; it is invoiced meanwhile",
            trigger: ".o_list_view .o_data_row td[name=state]:contains(Checked)",
            run: async () => {
                await untilListening();
                await rpc(`${HOOK}/advance`, { stage: "invoiced" });
            },
        },
        {
            content: "The list shows it invoiced by itself",
            trigger: ".o_list_view .o_data_row td[name=state]:contains(Invoiced)",
        },
    ],
});
