# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv.expression import OR
from odoo.tools import format_date, plaintext2html
from odoo.tools.sql import escape_psql

from odoo.addons.sophos_ppu.core.billing import normalise_identifier, normalise_name

#: The latest consumption rows of an identifier looked at, at checkout.
ROWS_LOOKED_AT = 50


class SophosPpuSubscription(models.Model):
    """One end customer's PPU service for one reseller: what monthly billing
    matches consumption rows to. Nothing is provisioned from it."""

    _name = "sophos.ppu.subscription"
    _description = "Sophos PPU Subscription"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "partner_id, end_customer_id, id"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True, readonly=False)
    partner_id = fields.Many2one(
        "res.partner",
        string="Reseller",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    end_customer_id = fields.Many2one(
        "res.partner",
        string="End Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    end_user_identifier = fields.Char(
        string="End User Identifier",
        index=True,
        tracking=True,
        help="Sophos End User Identifier (column H of the consumption file). "
        "Recorded automatically the first time a row is matched by name.",
    )
    end_user_key = fields.Char(
        compute="_compute_end_user_key",
        store=True,
        index=True,
        help="The End User Identifier stripped and case-folded: what "
        "identifiers are compared by.",
    )
    product_id = fields.Many2one(
        "product.product",
        string="Service",
        required=True,
        domain=[("ppu_ok", "=", True)],
        check_company=True,
    )
    sale_line_id = fields.Many2one(
        "sale.order.line", string="Order Line", index="btree_not_null", copy=False
    )
    sale_order_id = fields.Many2one(related="sale_line_id.order_id", string="Order")
    pricelist_id = fields.Many2one(
        "product.pricelist",
        string="Pricelist",
        required=True,
        tracking=True,
        check_company=True,
        help="The reseller's pricelist: its rules turn the file's Unit MSRP and "
        "Unit Price into the price billed.",
    )
    currency_id = fields.Many2one(related="pricelist_id.currency_id", store=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    state = fields.Selection(
        [("active", "Active"), ("closed", "Closed")],
        default="active",
        required=True,
        tracking=True,
    )
    import_line_ids = fields.One2many(
        "sophos.ppu.import.line", "subscription_id", string="Consumption"
    )
    import_line_count = fields.Integer(
        string="Consumption Rows", compute="_compute_ppu_stats"
    )
    invoice_count = fields.Integer(string="Invoices", compute="_compute_ppu_stats")
    last_billed_month = fields.Char(
        string="Last Billed Month",
        compute="_compute_ppu_stats",
        help="Billing month of the latest import that billed this subscription.",
    )
    date_start = fields.Date(
        string="Since",
        compute="_compute_date_start",
        store=True,
        help="Date of the order that opened the subscription (its creation "
        "date when no order opened it).",
    )
    # A reseller's request, from the portal, that ops close the subscription.
    close_requested_date = fields.Datetime(
        string="Close Requested On", readonly=True, copy=False
    )
    close_requested_by_id = fields.Many2one(
        "res.partner", string="Close Requested By", readonly=True, copy=False
    )
    close_request_reason = fields.Text(
        string="Reason for Closing", readonly=True, copy=False
    )
    display_state = fields.Selection(
        [
            ("active", "Active"),
            ("close_requested", "Close requested"),
            ("closed", "Closed"),
        ],
        string="Status",
        compute="_compute_display_state",
        help="Active, closed, or active with the reseller's request to close it "
        "waiting for operations.",
    )

    @api.depends("end_customer_id.name", "product_id.name")
    def _compute_name(self):
        for subscription in self:
            subscription.name = " - ".join(
                filter(
                    None,
                    [subscription.end_customer_id.name, subscription.product_id.name],
                )
            )

    @api.depends("state", "close_requested_date")
    def _compute_display_state(self):
        for subscription in self:
            subscription.display_state = (
                "close_requested"
                if subscription.state == "active" and subscription.close_requested_date
                else subscription.state
            )

    def _compute_ppu_stats(self):
        rows, billed, invoices = {}, {}, {}
        if self.ids:
            Line = self.env["sophos.ppu.import.line"]
            for subscription, count in Line._read_group(
                [("subscription_id", "in", self.ids)], ["subscription_id"], ["__count"]
            ):
                rows[subscription.id] = count
            for subscription, month in Line._read_group(
                [("subscription_id", "in", self.ids), ("billed", "=", True)],
                ["subscription_id"],
                ["period_date:max"],
            ):
                billed[subscription.id] = month
            # Counting only (ops may not read every invoice line); the button
            # opens the invoices with the user's own rights.
            for subscription, moves in (
                self.env["account.move.line"]
                .sudo()
                ._read_group(
                    [
                        ("ppu_subscription_id", "in", self.ids),
                        ("move_id.move_type", "in", ("out_invoice", "out_refund")),
                        ("company_id", "in", self.env.companies.ids),
                    ],
                    ["ppu_subscription_id"],
                    ["move_id:count_distinct"],
                )
            ):
                invoices[subscription.id] = moves
        for subscription in self:
            subscription.import_line_count = rows.get(subscription.id, 0)
            month = billed.get(subscription.id)
            subscription.last_billed_month = month and format_date(
                self.env, month, date_format="MMMM y"
            )
            subscription.invoice_count = invoices.get(subscription.id, 0)

    def action_view_import_lines(self):
        """The subscription's consumption rows, every month."""
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "sophos_ppu.sophos_ppu_import_line_action"
        )
        action["display_name"] = self.display_name
        action["domain"] = [("subscription_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_view_invoices(self):
        """The invoices and credit notes that bill this subscription."""
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("line_ids.ppu_subscription_id", "=", self.id),
        ]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        return action

    @api.depends("end_user_identifier")
    def _compute_end_user_key(self):
        for subscription in self:
            subscription.end_user_key = (
                normalise_identifier(subscription.end_user_identifier) or False
            )

    @api.depends("sale_line_id.order_id.date_order")
    def _compute_date_start(self):
        for subscription in self:
            since = subscription.sale_line_id.order_id.date_order
            subscription.date_start = fields.Date.to_date(
                since or subscription.create_date or fields.Datetime.now()
            )

    @api.constrains("end_user_identifier", "partner_id", "state", "company_id")
    def _check_end_user_identifier_one_reseller(self):
        """An End User Identifier belongs to one reseller: no two resellers
        hold it on active subscriptions of the same company."""
        for subscription in self.filtered(lambda sub: sub.state == "active"):
            if subscription._ppu_identifier_holders(
                subscription.end_user_identifier,
                subscription.partner_id,
                subscription.company_id,
            ):
                raise ValidationError(
                    self.env._(
                        "End User Identifier %(identifier)s is already held by "
                        "an active subscription of another reseller: close "
                        "that subscription first if the end customer moved.",
                        identifier=subscription.end_user_identifier.strip(),
                    )
                )

    @api.model
    def _ppu_identifier_holders(self, identifier, reseller, company):
        """The active subscriptions of ``company`` that hold ``identifier``
        (compared stripped and case-insensitively) for a reseller other than
        ``reseller`` (compared by commercial partner).

        Runs as superuser: a reseller cannot read another reseller's
        subscriptions, yet its checkout must be refused. Callers use the
        result to refuse and to tell ops, never show it to the reseller.
        """
        key = normalise_identifier(identifier)
        if not key:
            return self.browse()
        return self.sudo().search(
            [
                *self._ppu_other_resellers_domain(reseller, company),
                ("end_user_key", "=", key),
            ]
        )

    @api.model
    def _ppu_other_resellers_domain(self, reseller, company):
        """The active subscriptions of ``company`` of a reseller other than
        ``reseller`` (compared by commercial partner)."""
        return [
            ("company_id", "=", company.id),
            ("state", "=", "active"),
            (
                "partner_id.commercial_partner_id",
                "!=",
                reseller.commercial_partner_id.id,
            ),
        ]

    @api.model
    def _ppu_identifier_claimants(self, identifier, reseller, company):
        """What checkout refuses ``identifier`` for, in one query: its
        ``_ppu_identifier_holders``, and the active subscriptions of another
        reseller than ``reseller`` that consumption files tie it to (the
        subscription a row with that identifier billed or matched, or the one
        of the end customer the row names). As superuser, like
        ``_ppu_identifier_holders``."""
        key = normalise_identifier(identifier)
        if not key:
            return self.browse()
        rows = (
            self.env["sophos.ppu.import.line"]
            .sudo()
            .search_fetch(
                [("company_id", "=", company.id), ("end_user_key", "=", key)],
                ["subscription_id", "end_customer_name"],
                limit=ROWS_LOOKED_AT,
                order="id desc",
            )
        )
        names = {
            name.strip(): normalise_name(name)
            for name in rows.mapped("end_customer_name")
            if name and name.strip()
        }
        others = self.sudo().search(
            [
                *self._ppu_other_resellers_domain(reseller, company),
                *OR(
                    [
                        [("end_user_key", "=", key)],
                        [("id", "in", rows.subscription_id.ids)],
                        *(
                            [("end_customer_id.name", "=ilike", escape_psql(name))]
                            for name in names
                        ),
                    ]
                ),
            ]
        )
        # =ilike finds the candidates; names then compare as the import's do.
        return others.filtered(
            lambda sub: sub.end_user_key == key
            or sub in rows.subscription_id
            or normalise_name(sub.end_customer_id.name) in names.values()
        )

    def action_close(self):
        closing = self.filtered(lambda sub: sub.state == "active")
        closing.state = "closed"
        # The reseller who asked learns that it is done.
        closing.filtered("close_requested_date")._ppu_tell_reseller(
            "sophos_ppu.mail_template_ppu_close_done_reseller"
        )

    def action_reopen(self):
        closed = self.filtered(lambda sub: sub.state == "closed")
        closed.state = "active"
        closed._ppu_clear_close_request()

    def action_dismiss_close_request(self):
        """Ops keep the subscription active: the reseller may ask again."""
        self.check_access("write")
        requested = self.filtered("close_requested_date")
        requested._ppu_tell_reseller(
            "sophos_ppu.mail_template_ppu_close_dismissed_reseller"
        )
        for subscription in requested:
            subscription.message_post(
                body=self.env._(
                    "Close request of %(partner)s dismissed by %(user)s: the "
                    "subscription stays active.",
                    partner=subscription.close_requested_by_id.display_name,
                    user=self.env.user.name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        self._ppu_clear_close_request()

    def _ppu_close_request_contacts(self):
        """Who hears from ops about this subscription's close request: the
        reseller's contact who asked and the one who ordered it, those with
        an e-mail address."""
        self.ensure_one()
        return (self.close_requested_by_id | self.partner_id).filtered("email")

    def _ppu_tell_reseller(self, template_xmlid):
        """E-mail each contact of the reseller (``_ppu_close_request_contacts``)
        the template's news of the close request, in the contact's own
        language, and say so on the chatter."""
        template = self.env.ref(template_xmlid).sudo()
        for subscription in self:
            contacts = subscription._ppu_close_request_contacts()
            for contact in contacts:
                template.with_context(
                    ppu_recipient_lang=contact.lang, ppu_recipient_name=contact.name
                ).send_mail(
                    subscription.id,
                    email_values={"recipient_ids": [Command.set(contact.ids)]},
                )
            if contacts:
                subscription.message_post(
                    body=self.env._(
                        "E-mail sent to the reseller: %(names)s.",
                        names=", ".join(contacts.mapped("name")),
                    ),
                    subtype_xmlid="mail.mt_note",
                )

    def _ppu_clear_close_request(self):
        self.filtered("close_requested_date").write(
            {
                "close_requested_date": False,
                "close_requested_by_id": False,
                "close_request_reason": False,
            }
        )

    def _ppu_request_close(self, reason, requester):
        """Record that ``requester`` (a contact of the reseller, from the
        portal) asks ops to close this active subscription for ``reason``;
        e-mail the ops recipients and leave a note on the chatter.

        The portal calls it as superuser after its own access check: resellers
        have no write access to subscriptions. Ops close the subscription
        themselves (``action_close``)."""
        self.ensure_one()
        self.write(
            {
                "close_requested_date": fields.Datetime.now(),
                "close_requested_by_id": requester.id,
                "close_request_reason": reason,
            }
        )
        recipients = self.company_id.ppu_ops_partner_ids
        if recipients:
            self.env.ref("sophos_ppu.mail_template_ppu_close_request_ops").send_mail(
                self.id
            )
            sent = self.env._(
                "E-mail sent to operations: %(names)s.",
                names=", ".join(recipients.mapped("display_name")),
            )
        else:
            sent = self.env._(
                "No e-mail was sent to operations: no recipient is set in "
                "Settings > Sales > Sophos Pay-Per-Use."
            )
        header = self.env._(
            "%(partner)s asked from the portal to close this subscription.",
            partner=requester.display_name,
        )
        self.message_post(
            body=Markup("<p>%s</p>%s<p>%s</p>")
            % (header, plaintext2html(reason), sent),
            author_id=requester.id,
            subtype_xmlid="mail.mt_note",
        )

    def _ppu_action_open(self):
        """Window action showing these subscriptions (form when only one)."""
        action = self.env["ir.actions.actions"]._for_xml_id(
            "sophos_ppu.sophos_ppu_subscription_action"
        )
        if len(self) == 1:
            action.update(view_mode="form", views=[(False, "form")], res_id=self.id)
        else:
            action["domain"] = [("id", "in", self.ids)]
        return action
