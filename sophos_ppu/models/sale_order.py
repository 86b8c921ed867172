# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A sale order that holds PPU lines is the order of one end customer.

Confirming it notifies the operations team once and opens (or reuses) one
``sophos.ppu.subscription`` per PPU line. The reseller receives Odoo's standard
confirmation e-mail whether the order is confirmed in the shop or from the
backend (where Odoo alone would send nothing).
"""

from odoo import api, fields, models
from odoo.tools import email_normalize


def _is_valid_email(email):
    """One address whose domain has a dot (``jane@acme`` is a typo here)."""
    normalized = email_normalize(email, strict=True)
    return bool(normalized) and "." in normalized.rpartition("@")[2]


class SaleOrder(models.Model):
    _inherit = "sale.order"

    ppu_has_lines = fields.Boolean(
        string="Has Pay-per-use Lines", compute="_compute_ppu_has_lines"
    )
    ppu_end_customer_id = fields.Many2one(
        "res.partner",
        string="End Customer",
        check_company=True,
        tracking=True,
        copy=False,
        help="The reseller's customer who uses the pay-per-use service.",
    )
    ppu_contact_name = fields.Char(string="End Customer Contact", copy=False)
    ppu_contact_email = fields.Char(string="End Customer E-mail", copy=False)
    ppu_contact_phone = fields.Char(string="End Customer Phone", copy=False)
    ppu_country_id = fields.Many2one(
        "res.country", string="End Customer Country", copy=False
    )
    ppu_end_user_identifier = fields.Char(
        string="End User Identifier",
        copy=False,
        help="Optional Sophos End User Identifier of the end customer.",
    )
    ppu_subscription_ids = fields.Many2many(
        "sophos.ppu.subscription",
        compute="_compute_ppu_subscription_ids",
        string="PPU Subscriptions",
        help="Subscriptions opened or continued by this order's PPU lines.",
    )
    ppu_subscription_count = fields.Integer(compute="_compute_ppu_subscription_ids")
    ppu_ops_notified = fields.Boolean(
        string="PPU Operations Notified", copy=False, readonly=True
    )

    @api.depends("order_line.product_id.ppu_ok")
    def _compute_ppu_has_lines(self):
        for order in self:
            order.ppu_has_lines = bool(order.order_line._ppu_filter())

    @api.depends("order_line.ppu_subscription_id")
    def _compute_ppu_subscription_ids(self):
        for order in self:
            order.ppu_subscription_ids = order.order_line.ppu_subscription_id
            order.ppu_subscription_count = len(order.ppu_subscription_ids)

    # --- end customer -------------------------------------------------------

    def _ppu_end_customer_errors(self, values):
        """Check the end-customer form ``values`` (dict of str).

        :returns: {field name: message}, empty when the values are valid
        """
        _ = self.env._
        errors = {}
        if not (values.get("company_name") or "").strip():
            errors["company_name"] = _("Enter the end customer's company name.")
        if not (values.get("contact_name") or "").strip():
            errors["contact_name"] = _("Enter the name of a contact person.")
        email = (values.get("email") or "").strip()
        if not email:
            errors["email"] = _("Enter the contact's e-mail address.")
        elif not _is_valid_email(email):
            errors["email"] = _("%(email)s is not a valid e-mail address.", email=email)
        return errors

    def _ppu_set_end_customer(self, values):
        """Record the end customer of this order from the checkout form.

        The end customer company is reused when this reseller already has a
        subscription for a company of that name (or that End User
        Identifier); otherwise a new company contact is created.
        """
        self.ensure_one()
        name = values["company_name"].strip()
        identifier = (values.get("end_user_identifier") or "").strip()
        country = self.env["res.country"].browse(int(values.get("country_id") or 0))
        end_customer = self._ppu_find_end_customer(name, identifier)
        if not end_customer:
            end_customer = self.env["res.partner"].create(
                {
                    "name": name,
                    "is_company": True,
                    "email": values["email"].strip(),
                    "phone": (values.get("phone") or "").strip() or False,
                    "country_id": country.id,
                    "company_id": self.company_id.id,
                }
            )
        self.write(
            {
                "ppu_end_customer_id": end_customer.id,
                "ppu_contact_name": values["contact_name"].strip(),
                "ppu_contact_email": values["email"].strip(),
                "ppu_contact_phone": (values.get("phone") or "").strip() or False,
                "ppu_country_id": country.id,
                "ppu_end_user_identifier": identifier or False,
            }
        )

    def _ppu_find_end_customer(self, name, identifier):
        current = self.ppu_end_customer_id
        if current and current.name.casefold() == name.casefold():
            return current
        domain = [
            ("partner_id", "=", self.partner_id.commercial_partner_id.id),
            ("company_id", "=", self.company_id.id),
        ]
        match = [("end_customer_id.name", "=ilike", name)]
        if identifier:
            match = ["|", ("end_user_identifier", "=", identifier), *match]
        subscription = self.env["sophos.ppu.subscription"].search(
            domain + match, limit=1
        )
        return subscription.end_customer_id

    @api.onchange("ppu_end_customer_id")
    def _onchange_ppu_end_customer_id(self):
        """Backend: start the contact fields from the end customer's card."""
        end_customer = self.ppu_end_customer_id
        self.ppu_country_id = self.ppu_country_id or end_customer.country_id
        self.ppu_contact_email = self.ppu_contact_email or end_customer.email
        self.ppu_contact_phone = self.ppu_contact_phone or end_customer.phone

    # --- shop cart ----------------------------------------------------------

    def _verify_updated_quantity(self, order_line, product_id, new_qty, **kwargs):
        """One order is for one end customer: a PPU line holds one unit."""
        new_qty, warning = super()._verify_updated_quantity(
            order_line, product_id, new_qty, **kwargs
        )
        product = self.env["product.product"].browse(product_id)
        if product.ppu_ok and new_qty > 1:
            new_qty = 1
            warning = self.env._(
                "%(product)s is ordered for one end customer per order: "
                "place a separate order for each of your end customers.",
                product=product.display_name,
            )
            self.shop_warning = warning
        return new_qty, warning

    # --- confirmation -------------------------------------------------------

    def _confirmation_error_message(self):
        error = super()._confirmation_error_message()
        if error or not self.ppu_has_lines:
            return error
        if not self.ppu_end_customer_id:
            error = self.env._(
                "Order %(order)s sells a pay-per-use service: set its end "
                "customer before confirming it.",
                order=self.name,
            )
        elif not self.pricelist_id:
            error = self.env._(
                "Order %(order)s sells a pay-per-use service: set the "
                "reseller's pricelist, it is what the service is billed with.",
                order=self.name,
            )
        return error

    def action_confirm(self):
        res = super().action_confirm()
        if not self.env.context.get("send_email"):
            self.filtered("ppu_has_lines")._send_order_confirmation_mail()
        return res

    def _action_confirm(self):
        res = super()._action_confirm()
        ppu_orders = self.filtered("ppu_has_lines")
        if ppu_orders:
            ppu_orders.order_line._ppu_open_subscriptions()
            ppu_orders.filtered(lambda o: not o.ppu_ops_notified)._ppu_notify_ops()
        return res

    def _ppu_notify_ops(self):
        """Send the ops e-mail of each order, once."""
        template = self.env.ref("sophos_ppu.mail_template_ppu_order_ops")
        for order in self:
            recipients = order.company_id.ppu_ops_partner_ids
            if not recipients:
                order.message_post(
                    body=self.env._(
                        "The pay-per-use order e-mail could not be sent to "
                        "operations: no recipient is set in Settings > Sales > "
                        "Sophos Pay-Per-Use."
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                continue
            template.send_mail(order.id)
            order.message_post(
                body=self.env._(
                    "Pay-per-use order e-mail sent to operations: %(names)s.",
                    names=", ".join(recipients.mapped("display_name")),
                ),
                subtype_xmlid="mail.mt_note",
            )
        self.ppu_ops_notified = True

    def _ppu_ops_backend_url(self):
        self.ensure_one()
        return f"{self.get_base_url()}/mail/view?model={self._name}&res_id={self.id}"

    # --- smart button -------------------------------------------------------

    def action_view_ppu_subscriptions(self):
        self.ensure_one()
        return self.ppu_subscription_ids._ppu_action_open()
