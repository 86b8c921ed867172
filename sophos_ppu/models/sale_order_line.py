# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    ppu_subscription_id = fields.Many2one(
        "sophos.ppu.subscription",
        string="PPU Subscription",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The subscription this line opened, or the active one it continued.",
    )

    def _ppu_filter(self):
        return self.filtered(lambda line: line.product_id.ppu_ok)

    def _ppu_reuses_subscription(self):
        """Whether this line continued a subscription opened by another order."""
        self.ensure_one()
        return bool(self.ppu_subscription_id) and (
            self.ppu_subscription_id.sale_line_id != self
        )

    def _ppu_subscription_key(self):
        """What a subscription is the one of: reseller (commercial partner),
        end customer, product and company."""
        self.ensure_one()
        order = self.order_id
        return (
            order.partner_id.commercial_partner_id.id,
            order.ppu_end_customer_id.id,
            self.product_id.id,
            order.company_id.id,
        )

    def _ppu_active_subscriptions(self):
        """The active subscriptions of these lines' resellers, end customers
        and products, by ``_ppu_subscription_key``; as superuser (resellers do
        not read subscriptions)."""
        existing = (
            self.env["sophos.ppu.subscription"]
            .sudo()
            .search(
                [
                    ("state", "=", "active"),
                    (
                        "partner_id",
                        "in",
                        self.order_id.partner_id.commercial_partner_id.ids,
                    ),
                    ("end_customer_id", "in", self.order_id.ppu_end_customer_id.ids),
                    ("product_id", "in", self.product_id.ids),
                    ("company_id", "in", self.company_id.ids),
                ]
            )
        )
        return {
            (
                sub.partner_id.id,
                sub.end_customer_id.id,
                sub.product_id.id,
                sub.company_id.id,
            ): sub
            for sub in existing
        }

    def _ppu_open_subscriptions(self):
        """Link each PPU line to the active subscription of its reseller, end
        customer and product, creating the missing ones."""
        lines = self._ppu_filter().filtered(lambda line: not line.ppu_subscription_id)
        if not lines:
            return
        Subscription = self.env["sophos.ppu.subscription"].sudo()
        active = lines._ppu_active_subscriptions()
        for line in lines:
            order = line.order_id
            key = line._ppu_subscription_key()
            subscription = active.get(key)
            if subscription:
                if (
                    order.ppu_end_user_identifier
                    and not subscription.end_user_identifier
                ):
                    subscription.end_user_identifier = order.ppu_end_user_identifier
            else:
                subscription = Subscription.create(line._ppu_subscription_values())
                active[key] = subscription
            line.ppu_subscription_id = subscription

    def _ppu_subscription_values(self):
        self.ensure_one()
        order = self.order_id
        return {
            "partner_id": order.partner_id.commercial_partner_id.id,
            "end_customer_id": order.ppu_end_customer_id.id,
            "end_user_identifier": order.ppu_end_user_identifier or False,
            "product_id": self.product_id.id,
            "sale_line_id": self.id,
            "pricelist_id": order.pricelist_id.id,
            "company_id": order.company_id.id,
            "state": "active",
        }
