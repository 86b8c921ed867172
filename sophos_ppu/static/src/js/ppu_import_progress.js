/** @odoo-module **/
// Live progress of the consumption imports: while a batch form or the list of
// batches is open, it listens on the bus channel of the batches' progress
// (models/sophos_ppu_import_progress.py) and re-reads what it shows when a
// notification names it. The notification carries only the batches' ids: the
// view re-reads them through the ORM, with the user's access rights.
// Reloads are coalesced: one at once, then at most one per second, the last
// one always made; a form with unsaved changes (or a list with a selection)
// is left alone until the user is done with it.

import { onMounted, onWillUnmount } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { FormController } from "@web/views/form/form_controller";
import { formView } from "@web/views/form/form_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

/** The channel the views ask for, and the type of its notifications. */
export const PROGRESS_CHANNEL = "sophos_ppu.import_progress";
/** At most one reload per this many milliseconds. */
export const RELOAD_INTERVAL = 1000;

// Views of one tab listening now: the channel is the tab's while one is open.
let listeners = 0;

/**
 * Reload a view of the batches when the bus says some of them changed.
 *
 * @param {Object} params
 * @param {(ids: number[]) => boolean} params.concerns whether a notification
 *      naming these batches concerns what the view shows
 * @param {() => Promise<boolean>} params.canReload false while the user works
 *      on what a reload would throw away
 * @param {() => Promise<void>} params.reload
 */
export function usePpuImportProgress({ concerns, canReload, reload }) {
    const busService = useService("bus_service");
    let pending = false;
    let running = false;
    let timer = null;
    let lastReload = 0;
    let alive = true;

    function schedule() {
        if (timer || running || !alive) {
            return;
        }
        const wait = Math.max(0, lastReload + RELOAD_INTERVAL - Date.now());
        timer = browser.setTimeout(flush, wait);
    }

    async function flush() {
        timer = null;
        if (!pending || !alive) {
            return;
        }
        running = true;
        try {
            if (await canReload()) {
                pending = false;
                await reload();
            }
        } finally {
            running = false;
            lastReload = Date.now();
        }
        if (pending) {
            // Told again during the reload, or the user was busy: later.
            schedule();
        }
    }

    function onProgress(payload) {
        if (!alive || !concerns(payload.ids || [])) {
            return;
        }
        pending = true;
        schedule();
    }

    onMounted(() => {
        busService.subscribe(PROGRESS_CHANNEL, onProgress);
        if (listeners++ === 0) {
            busService.addChannel(PROGRESS_CHANNEL);
        }
    });
    onWillUnmount(() => {
        alive = false;
        browser.clearTimeout(timer);
        busService.unsubscribe(PROGRESS_CHANNEL, onProgress);
        if (--listeners === 0) {
            busService.deleteChannel(PROGRESS_CHANNEL);
        }
    });
}

export class PpuImportFormController extends FormController {
    setup() {
        super.setup();
        usePpuImportProgress({
            concerns: (ids) => ids.includes(this.model.root.resId),
            canReload: async () => !(await this.model.root.isDirty()),
            reload: () => this.model.root.load(),
        });
    }
}

export class PpuImportListController extends ListController {
    setup() {
        super.setup();
        // Any batch: one that starts, ends or fails may enter or leave the
        // filtered list, or sit in a folded group.
        usePpuImportProgress({
            concerns: () => true,
            canReload: async () =>
                !this.model.root.editedRecord && !this.model.root.selection.length,
            reload: () => this.model.root.load(),
        });
    }
}

registry.category("views").add("sophos_ppu_import_form", {
    ...formView,
    Controller: PpuImportFormController,
});

registry.category("views").add("sophos_ppu_import_list", {
    ...listView,
    Controller: PpuImportListController,
});
