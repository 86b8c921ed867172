# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _send_mail(self, move, mail_template, **kwargs):
        # The statement keeps the light layout headed with the document's
        # name ("Your Invoice", "Your Credit Note"), as the reseller knows it.
        # Its title names the month in the reader's language too: the
        # invoice's reference was written once, in the language of whoever
        # created the month's invoices.
        sender = self
        if mail_template and mail_template == move._ppu_statement_template():
            sender = self.with_context(ppu_statement_layout=True)
            lang = mail_template._render_lang(move.ids)[move.id]
            kwargs.setdefault("record_name", move._ppu_statement_title(lang))
        return super(AccountMoveSend, sender)._send_mail(move, mail_template, **kwargs)

    @api.model
    def _get_mail_layout(self):
        if self.env.context.get("ppu_statement_layout"):
            return "mail.mail_notification_light"
        return super()._get_mail_layout()
