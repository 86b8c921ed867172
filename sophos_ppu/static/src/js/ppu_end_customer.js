/** @odoo-module **/
// Checkout, End customer step: choosing one of the reseller's end customers
// fills the form with what it last ordered for it; "New end customer" empties it.

import publicWidget from "@web/legacy/js/public/public_widget";

const FIELDS = ["company_name", "contact_name", "email", "phone", "country_id", "end_user_identifier"];

publicWidget.registry.PpuEndCustomerForm = publicWidget.Widget.extend({
    selector: "form#ppu_end_customer_form",
    events: {
        "change select[name=end_customer_id]": "_onChangeEndCustomer",
    },

    _onChangeEndCustomer(ev) {
        const option = ev.currentTarget.selectedOptions[0];
        const isNew = !ev.currentTarget.value;
        for (const name of FIELDS) {
            const input = this.el.querySelector(`[name=${name}]`);
            if (input) {
                input.value = isNew ? "" : option.dataset[name] || "";
                input.classList.remove("is-invalid");
            }
        }
        this.el.querySelector("[name=company_name]").readOnly = !isNew;
    },
});
