# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A sale order that holds PPU lines is the order of one end customer.

Confirming it notifies the operations team once and opens (or reuses) one
``sophos.ppu.subscription`` per PPU line. The reseller receives Odoo's standard
confirmation e-mail whether the order is confirmed in the shop or from the
backend (where Odoo alone would send nothing).
"""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize
from odoo.tools.sql import escape_psql

from odoo.addons.sophos_ppu.core.billing import normalise_identifier
from odoo.addons.sophos_ppu.core.values import clean_text

#: Longest value accepted for each text field of the end-customer form.
END_CUSTOMER_MAX_LENGTHS = {
    "company_name": 128,
    "contact_name": 128,
    "email": 254,
    "phone": 32,
    "end_user_identifier": 64,
}


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
    ppu_refused_identifier = fields.Char(
        string="Refused End User Identifier",
        copy=False,
        readonly=True,
        help="The last End User Identifier refused at checkout because another "
        "reseller holds it; operations were told once.",
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

    @api.model
    def _ppu_clean_end_customer_values(self, values):
        """The end-customer form ``values`` as stored: every field one line of
        text without control characters (see ``clean_text``)."""
        return {
            name: clean_text(values.get(name))
            for name in (*END_CUSTOMER_MAX_LENGTHS, "country_id", "end_customer_id")
        }

    def _ppu_known_end_customers(self):
        """The end customers this order's reseller (its commercial partner)
        already ordered for in this company, most recent first: those of its
        confirmed PPU orders and of its subscriptions. As superuser: the
        reseller reads neither model; never another reseller's.

        :returns: ``res.partner`` recordset
        """
        orders, subscriptions = self._ppu_reseller_history()
        return (orders.ppu_end_customer_id | subscriptions.end_customer_id).exists()

    def _ppu_reseller_history(self):
        """The confirmed PPU orders (newest first) and the subscriptions
        (newest first) of this order's reseller in this company, as superuser."""
        self.ensure_one()
        reseller = self.partner_id.commercial_partner_id
        company_domain = [
            ("partner_id", "child_of", reseller.id),
            ("company_id", "=", self.company_id.id),
        ]
        orders = self.sudo().search(
            [
                *company_domain,
                ("state", "=", "sale"),
                ("ppu_end_customer_id", "!=", False),
            ],
            order="date_order desc, id desc",
        )
        subscriptions = (
            self.env["sophos.ppu.subscription"]
            .sudo()
            .search(company_domain, order="id desc")
        )
        return orders, subscriptions

    def _ppu_known_end_customer_values(self):
        """For the checkout dropdown: per known end customer, the values of
        the form as last ordered (contact, country, End User Identifier)."""
        orders, subscriptions = self._ppu_reseller_history()
        result = []
        for partner in (
            orders.ppu_end_customer_id | subscriptions.end_customer_id
        ).exists():
            last_order = orders.filtered(
                lambda order, partner=partner: order.ppu_end_customer_id == partner
            )[:1]
            identifiers = subscriptions.filtered(
                lambda sub, partner=partner: sub.end_customer_id == partner
            ).mapped("end_user_identifier")
            result.append(
                {
                    "id": partner.id,
                    "company_name": partner.name,
                    "contact_name": last_order.ppu_contact_name or "",
                    "email": last_order.ppu_contact_email or partner.email or "",
                    "phone": last_order.ppu_contact_phone or partner.phone or "",
                    "country_id": str(
                        (last_order.ppu_country_id or partner.country_id).id or ""
                    ),
                    "end_user_identifier": next(filter(None, identifiers), "")
                    or last_order.ppu_end_user_identifier
                    or "",
                }
            )
        return result

    def _ppu_chosen_end_customer(self, end_customer_id):
        """The known end customer of a form value; empty for none, and for an
        id that is not one of this reseller's (whatever the browser sent)."""
        try:
            partner_id = int(end_customer_id)
        except (TypeError, ValueError):
            return self.env["res.partner"]
        known = self._ppu_known_end_customers()
        return known.filtered(lambda p: p.id == partner_id)

    def _ppu_end_customer_errors(self, values):
        """Check the end-customer form ``values`` (dict of str), cleaned as
        they would be stored. An End User Identifier that another reseller
        holds is refused and operations are told (once per identifier).

        :returns: {field name: message}, empty when the values are valid
        """
        self.ensure_one()
        _ = self.env._
        values = self._ppu_clean_end_customer_values(values)
        errors = {}
        if values["end_customer_id"]:
            chosen = self._ppu_chosen_end_customer(values["end_customer_id"])
            if not chosen:
                errors["end_customer_id"] = _(
                    "Choose the end customer from the list, or New end customer."
                )
            else:
                values["company_name"] = chosen.name
        if not values["company_name"]:
            errors["company_name"] = _("Enter the end customer's company name.")
        if not values["contact_name"]:
            errors["contact_name"] = _("Enter the name of a contact person.")
        if not values["email"]:
            errors["email"] = _("Enter the contact's e-mail address.")
        labels = {
            "company_name": _("The company name"),
            "contact_name": _("The contact name"),
            "email": _("The e-mail address"),
            "phone": _("The phone number"),
            "end_user_identifier": _("The End User Identifier"),
        }
        for name, max_length in END_CUSTOMER_MAX_LENGTHS.items():
            if len(values[name]) > max_length:
                errors[name] = _(
                    "%(field)s is too long: %(max)s characters at most.",
                    field=labels[name],
                    max=max_length,
                )
        if "email" not in errors and not _is_valid_email(values["email"]):
            errors["email"] = _(
                "%(email)s is not a valid e-mail address.", email=values["email"]
            )
        if values["country_id"] and not self._ppu_country(values["country_id"]):
            errors["country_id"] = _("Choose the country from the list.")
        identifier = values["end_user_identifier"]
        if "end_user_identifier" not in errors and (
            holders := self._ppu_identifier_holders(identifier)
        ):
            errors["end_user_identifier"] = self._ppu_identifier_taken_message()
            self._ppu_notify_identifier_refused(
                identifier, holders, values["company_name"]
            )
        return errors

    def _ppu_country(self, country_id):
        """The country of a form value, empty for a missing, malformed or
        unknown id (the form's value is whatever the browser sent)."""
        try:
            country_id = int(country_id)
        except (TypeError, ValueError):
            country_id = 0
        if not 0 < country_id < 2**31:
            return self.env["res.country"]
        return self.env["res.country"].browse(country_id).exists()

    def _ppu_set_end_customer(self, values):
        """Record the end customer of this order from the checkout form
        (values checked by ``_ppu_end_customer_errors``).

        The end customer company is reused when this reseller already has a
        subscription for a company of that name (or that End User
        Identifier); otherwise a new company contact is created.
        """
        self.ensure_one()
        values = self._ppu_clean_end_customer_values(values)
        name = values["company_name"]
        identifier = values["end_user_identifier"]
        if self._ppu_identifier_holders(identifier):
            raise UserError(self._ppu_identifier_taken_message())
        country = self._ppu_country(values["country_id"])
        if values["end_customer_id"]:
            end_customer = self._ppu_chosen_end_customer(values["end_customer_id"])
            if not end_customer:
                raise UserError(self.env._("This end customer is not one of yours."))
        else:
            end_customer = self._ppu_find_end_customer(name, identifier)
        if not end_customer:
            end_customer = self.env["res.partner"].create(
                {
                    "name": name,
                    "is_company": True,
                    "email": values["email"],
                    "phone": values["phone"] or False,
                    "country_id": country.id,
                    "company_id": self.company_id.id,
                }
            )
        self.write(
            {
                "ppu_end_customer_id": end_customer.id,
                "ppu_contact_name": values["contact_name"],
                "ppu_contact_email": values["email"],
                "ppu_contact_phone": values["phone"] or False,
                "ppu_country_id": country.id,
                "ppu_end_user_identifier": identifier or False,
            }
        )

    def _ppu_continued_subscription_notices(self):
        """What the reseller reads before confirming: for each PPU line whose
        end customer already has an active subscription of its service, that
        the order continues it and creates none (as ops are told later)."""
        self.ensure_one()
        lines = self.order_line._ppu_filter().filtered(
            lambda line: not line.ppu_subscription_id
        )
        active = lines._ppu_active_subscriptions()
        return [
            self.env._(
                "%(customer)s already has an active %(service)s subscription: "
                "this order continues it, no new subscription is created.",
                customer=self.ppu_end_customer_id.name,
                service=line.product_id.name,
            )
            for line in lines
            if line._ppu_subscription_key() in active
        ]

    def _ppu_find_end_customer(self, name, identifier):
        """This reseller's end customer named ``name`` exactly (case aside) or
        holding ``identifier``; ``%`` and ``_`` in them are plain characters."""
        current = self.ppu_end_customer_id
        if current and current.name.casefold() == name.casefold():
            return current
        domain = [
            ("partner_id", "=", self.partner_id.commercial_partner_id.id),
            ("company_id", "=", self.company_id.id),
        ]
        match = [("end_customer_id.name", "=ilike", escape_psql(name))]
        if identifier:
            match = [
                "|",
                ("end_user_identifier", "=ilike", escape_psql(identifier)),
                *match,
            ]
        subscription = self.env["sophos.ppu.subscription"].search(
            domain + match, limit=1
        )
        return subscription.end_customer_id

    # --- End User Identifier: one reseller's -------------------------------

    def _ppu_identifier_holders(self, identifier=None):
        """The active subscriptions of another reseller holding ``identifier``
        (default: this order's), or that an earlier consumption file ties it
        to (its end customer's, not recorded yet), as superuser: never show
        them to the reseller."""
        self.ensure_one()
        if identifier is None:
            identifier = self.ppu_end_user_identifier
        return self.env["sophos.ppu.subscription"]._ppu_identifier_claimants(
            identifier, self.partner_id, self.company_id
        )

    def _ppu_identifier_taken_message(self):
        return self.env._(
            "This End User Identifier is already registered with another "
            "reseller. Contact us if this end customer moved to you."
        )

    def _ppu_notify_identifier_refused(self, identifier, holders, customer_name):
        """Tell operations, on the order's chatter (internal note) and by
        e-mail, that the reseller typed for ``customer_name`` an identifier
        that another reseller holds; once per order and identifier, however
        often the form is sent."""
        self.ensure_one()
        if normalise_identifier(self.ppu_refused_identifier) == normalise_identifier(
            identifier
        ):
            return
        self.ppu_refused_identifier = identifier
        holders = holders.sudo()
        self.message_post(
            body=self.env._(
                "Checkout refused End User Identifier %(identifier)s for end "
                "customer %(customer)s: it is held by the active subscription "
                "%(subscriptions)s of %(resellers)s. Contact %(reseller)s if "
                "this end customer moved.",
                identifier=identifier,
                customer=customer_name or "-",
                subscriptions=", ".join(holders.mapped("display_name")),
                resellers=", ".join(
                    holders.partner_id.commercial_partner_id.mapped("display_name")
                ),
                reseller=self.partner_id.commercial_partner_id.display_name,
            ),
            subject=self.env._(
                "PPU order %(order)s: End User Identifier of another reseller",
                order=self.name,
            ),
            subtype_xmlid="mail.mt_note",
            partner_ids=self.company_id.ppu_ops_partner_ids.ids,
        )

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
            # Returned only: website_sale shows it once, where the cart was
            # updated (a shop_warning too would repeat it in the cart).
            new_qty = 1
            warning = self.env._(
                "%(product)s is ordered for one end customer per order: "
                "place a separate order for each of your end customers.",
                product=product.name,
            )
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
        elif self._ppu_identifier_holders():
            error = self._ppu_identifier_confirmation_error()
        return error

    def _ppu_identifier_confirmation_error(self):
        return self.env._(
            "Order %(order)s cannot be confirmed: %(reason)s",
            order=self.name,
            reason=self._ppu_identifier_taken_message(),
        )

    def _get_confirmation_template(self):
        """The reseller's confirmation of a PPU order names the end customer
        and says how the service is billed, instead of a zero payment."""
        if self.ppu_has_lines:
            return self.env.ref("sophos_ppu.mail_template_ppu_order_confirmation")
        return super()._get_confirmation_template()

    def action_confirm(self):
        res = super().action_confirm()
        if not self.env.context.get("send_email"):
            self.filtered("ppu_has_lines")._send_order_confirmation_mail()
        return res

    def _action_confirm(self):
        # The identifier may have been taken since the checkout form.
        for order in self.filtered("ppu_has_lines"):
            if order._ppu_identifier_holders():
                raise UserError(order._ppu_identifier_confirmation_error())
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
