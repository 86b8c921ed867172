# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import Counter

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    ppu_subscription_count = fields.Integer(
        string="PPU Subscriptions",
        compute="_compute_ppu_subscription_count",
        groups="sales_team.group_sale_salesman",
    )

    def _ppu_subscription_domain(self):
        """Subscriptions of these partners' companies, as reseller or as end
        customer."""
        companies = self.commercial_partner_id.ids
        return [
            "|",
            ("partner_id", "child_of", companies),
            ("end_customer_id", "child_of", companies),
        ]

    def _compute_ppu_subscription_count(self):
        subscriptions = self.env["sophos.ppu.subscription"].search(
            self._ppu_subscription_domain()
        )
        counts = Counter()
        for subscription in subscriptions:
            for company in (
                subscription.partner_id.commercial_partner_id
                | subscription.end_customer_id.commercial_partner_id
            ):
                counts[company.id] += 1
        for partner in self:
            partner.ppu_subscription_count = counts[partner.commercial_partner_id.id]

    def action_view_ppu_subscriptions(self):
        self.ensure_one()
        subscriptions = self.env["sophos.ppu.subscription"].search(
            self._ppu_subscription_domain()
        )
        return subscriptions._ppu_action_open()
