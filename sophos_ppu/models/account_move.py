# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import float_is_zero, formatLang

from .billing_guard import refuse_untrusted

#: Internal users who deal with the import; portal resellers never see it.
PPU_STAFF = "sophos_ppu.group_ppu_operations,account.group_account_invoice"


class AccountMove(models.Model):
    _inherit = "account.move"

    ppu_import_id = fields.Many2one(
        "sophos.ppu.import",
        string="PPU Consumption Import",
        index="btree_not_null",
        readonly=True,
        copy=False,
        check_company=True,
        groups=PPU_STAFF,
    )
    ppu_import_attachment_id = fields.Many2one(
        related="ppu_import_id.attachment_id",
        string="Consumption File",
        groups=PPU_STAFF,
    )

    @api.model_create_multi
    def create(self, vals_list):
        # Only the import links an invoice to the consumption it bills.
        refuse_untrusted(
            self, {"ppu_import_id"} & {name for vals in vals_list for name in vals}
        )
        return super().create(vals_list)

    def action_ppu_download_file(self):
        """The consumption file the invoice was created from."""
        self.ensure_one()
        return self.ppu_import_id.action_download_file()

    def write(self, vals):
        refuse_untrusted(self, {"ppu_import_id"} & set(vals))
        if vals == {"is_manually_modified": False} and self.env.context.get(
            "ppu_create_invoices"
        ):
            # account.move.create() ends by resetting this flag on the moves it
            # has just created and synchronised. Nothing depends on the flag,
            # so synchronising their lines once more (snapshots of every line
            # before and after) finds nothing to do: skip it, as Odoo does
            # with the same context key where it knows the lines are in sync.
            # The balance of the moves is still checked by create().
            return super(AccountMove, self.with_context(skip_invoice_sync=True)).write(
                vals
            )
        return super().write(vals)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted.filtered(
            lambda move: move.ppu_import_id and move.is_sale_document()
        )._ppu_send_statement()
        return posted

    def _ppu_send_statement(self):
        """Mail the reseller its consumption statement with the invoice PDF,
        posted on the invoice as Odoo's "Send" does: the light layout headed
        with the document's own name ("Your Invoice", "Your Credit Note")."""
        template = self.env.ref(
            "sophos_ppu.mail_template_ppu_invoice_reseller", raise_if_not_found=False
        )
        if not template:
            return
        for move in self:
            lang = template._render_lang(move.ids)[move.id]
            move.with_context(
                model_description=move.with_context(lang=lang).type_name
            ).message_post_with_source(
                template,
                email_layout_xmlid="mail.mail_notification_light",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                force_send=False,  # the mail queue sends it, as send_mail did
            )

    def _ppu_quantity_text(self, quantity):
        """A quantity as people write it: in the reader's language, with the
        decimals it has (51, 2.5) up to the unit of measure's precision."""
        digits = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        used = next(
            places
            for places in range(digits + 1)
            if float_is_zero(
                quantity - round(quantity, places), precision_digits=digits
            )
        )
        return formatLang(self.env, quantity, digits=used)

    def _ppu_portal_urls(self):
        """Where the reseller sees this invoice and its PPU subscriptions."""
        self.ensure_one()
        base = self.get_base_url()
        return {"invoice": base + self.get_portal_url(), "ppu": base + "/my/ppu"}

    def _ppu_statement(self):
        """Per end customer, its services: [{"end_customer", "lines": [aml],
        "amount"}] ordered by end customer, for the reseller's e-mail."""
        self.ensure_one()
        groups = defaultdict(lambda: self.env["account.move.line"])
        for line in self.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        ):
            customer = line.ppu_subscription_id.end_customer_id
            groups[customer] |= line
        return [
            {
                "end_customer": customer.name or "",
                "lines": lines,
                "amount": sum(lines.mapped("price_subtotal")),
            }
            for customer, lines in sorted(groups.items(), key=lambda g: g[0].name or "")
        ]

    def unlink(self):
        """A deleted draft bills nothing: its rows are freed for the batch to
        invoice again, and the batch says so."""
        import_lines = self.line_ids.ppu_import_line_id
        deleted = [
            (move.ppu_import_id, move._ppu_label())
            for move in self.sudo()
            if move.ppu_import_id
        ]
        result = super().unlink()
        # Accountants only read import rows: deleting the draft decides here.
        import_lines.sudo().exists().filtered("billed")._ppu_write({"billed": False})
        for batch, label in deleted:
            if batch.state == "invoiced":
                batch._ppu_write({"state": "checked"})
            batch.message_post(
                body=self.env._(
                    "%(invoice)s was deleted by %(user)s: its rows are no longer "
                    "billed. Create the invoices again to bill them.",
                    invoice=label,
                    user=self.env.user.name,
                )
            )
        return result

    def button_cancel(self):
        result = super().button_cancel()
        for move in self.sudo().filtered("ppu_import_id"):
            move.ppu_import_id.message_post(
                body=self.env._(
                    "%(invoice)s was cancelled by %(user)s. Its rows stay billed, "
                    "so that resetting it to draft cannot bill them twice; delete "
                    "it to free them.",
                    invoice=move._ppu_label(),
                    user=self.env.user.name,
                )
            )
        return result

    def _ppu_label(self):
        return f"{self.display_name} ({self.partner_id.display_name})"
