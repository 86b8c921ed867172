# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The reason shown on a row for each issue of the core's checks, in the
user's language: one text per issue code, and what it names."""

from odoo import models
from odoo.tools.translate import LazyTranslate

from odoo.addons.sophos_ppu.core.checking import (
    ALREADY_BILLED,
    AMBIGUOUS,
    CLAIMED_IDENTIFIER,
    CLOSED_SUBSCRIPTION,
    CORRECTS_UNBILLED,
    CREDITS_BILLED,
    IDENTIFIER_ELSEWHERE,
    NO_RULE,
    NO_SUBSCRIPTION,
    OTHER_IDENTIFIER,
    OTHER_RESELLER,
    OUTSIDE_PERIOD,
    REPEATS_ROW,
    SAME_CONSUMPTION,
    SEVERAL_IDENTIFIERS,
    UNREADABLE,
    ZERO_QUANTITY,
)

_lt = LazyTranslate(__name__)

#: An issue's text by code; its %(names)s are the issue's params, and what
#: ``SophosPpuImport._ppu_issue_names`` adds for the codes that name records.
ISSUE_TEXTS = {
    NO_SUBSCRIPTION: _lt(
        "No subscription has End User Identifier %(identifier)s "
        "or end customer %(customer)s."
    ),
    OTHER_IDENTIFIER: _lt(
        "End customer %(customer)s has a subscription under another End "
        "User Identifier (%(subscriptions)s), not %(identifier)s: check "
        "the identifier with the reseller, or pick the subscription by "
        "hand."
    ),
    AMBIGUOUS: _lt(
        "Several subscriptions match (%(subscriptions)s): pick the right one."
    ),
    OTHER_RESELLER: _lt(
        "The file bills this row to %(named)s, but End User "
        "Identifier %(identifier)s belongs to a subscription of "
        "another reseller."
    ),
    CLAIMED_IDENTIFIER: _lt(
        "End User Identifier %(identifier)s is on a subscription of "
        "another reseller than %(reseller)s, whose subscription for end "
        "customer %(customer)s has no identifier yet: pick the right "
        "subscription by hand."
    ),
    OUTSIDE_PERIOD: _lt(
        "Service dates %(start)s–%(end)s are outside the billing month %(period)s."
    ),
    CLOSED_SUBSCRIPTION: _lt("Subscription %(subscription)s is closed."),
    NO_RULE: _lt("Pricelist %(pricelist)s has no rule for %(product)s."),
    ZERO_QUANTITY: _lt("Zero quantity: not invoiced."),
    CREDITS_BILLED: _lt(
        "Credits row %(row)s of import %(batch)s (%(invoice)s) at the "
        "price it was billed at."
    ),
    CORRECTS_UNBILLED: _lt(
        "No billed consumption stands behind this correction: priced by "
        "the current pricelist rule."
    ),
    ALREADY_BILLED: _lt("Already billed by import %(batch)s."),
    REPEATS_ROW: _lt(
        "Repeats row %(row)s exactly: confirm it if Sophos "
        "bills this consumption twice."
    ),
    SAME_CONSUMPTION: _lt("Same consumption as row %(row)s of this file."),
    SEVERAL_IDENTIFIERS: _lt(
        "End customer %(customer)s appears with several End User "
        "Identifiers: pick the subscription by hand."
    ),
    IDENTIFIER_ELSEWHERE: _lt(
        "End User Identifier %(identifier)s belongs to a subscription "
        "of another reseller."
    ),
}


class SophosPpuImport(models.Model):
    _inherit = "sophos.ppu.import"

    def _ppu_issue_texts(self):
        """A function issue -> its text in the user's language (the same
        text for the same issue, worded once)."""
        texts = {}

        def text_of(issue):
            key = issue.key()
            if key not in texts:
                texts[key] = self._ppu_issue_text(issue)
            return texts[key]

        return text_of

    def _ppu_issue_text(self, issue):
        """The reason shown on a row for an issue of the core's checks; an
        unreadable row's is the reader's own message."""
        if issue.code == UNREADABLE:
            return issue.params.get("message") or False
        names = {
            name: "-" if value is None or value == "" else value
            for name, value in issue.params.items()
        }
        names.update(self._ppu_issue_names(issue.code, issue.params))
        return self.env._(ISSUE_TEXTS[issue.code]) % names

    def _ppu_issue_names(self, code, params):
        """What an issue's text names beyond its params: records, by name."""
        Subscription = self.env["sophos.ppu.subscription"]
        if code in (OTHER_IDENTIFIER, AMBIGUOUS):
            subscriptions = Subscription.browse(params["subscription_ids"])
            if code == AMBIGUOUS:
                return {
                    "subscriptions": ", ".join(subscriptions.mapped("display_name"))
                }
            subscriptions = subscriptions.sudo()
            return {
                "customer": subscriptions[:1].end_customer_id.display_name,
                "subscriptions": ", ".join(
                    f"{subscription.display_name}: {subscription.end_user_identifier}"
                    for subscription in subscriptions
                ),
            }
        if code == OTHER_RESELLER:
            return {"named": self.env["res.partner"].browse(params["reseller_id"]).name}
        if code == CLAIMED_IDENTIFIER:
            named = Subscription.browse(params["subscription_id"]).sudo()
            return {
                "reseller": named.partner_id.commercial_partner_id.display_name,
                "customer": named.end_customer_id.display_name,
            }
        if code == OUTSIDE_PERIOD:
            return {"period": self._ppu_period_label()}
        if code in (CLOSED_SUBSCRIPTION, NO_RULE):
            subscription = Subscription.browse(params["subscription_id"])
            return {
                "subscription": subscription.display_name,
                "pricelist": subscription.pricelist_id.name,
                "product": subscription.product_id.name,
            }
        if code == CREDITS_BILLED:
            billed = self.env["sophos.ppu.import.line"].sudo().browse(params["row_id"])
            return {
                "row": billed.row_number,
                "batch": billed.import_id.name,
                "invoice": billed.invoice_id.display_name or "-",
            }
        if code == ALREADY_BILLED:
            return {"batch": self.browse(params["batch_id"]).name}
        return {}
