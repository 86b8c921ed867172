# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

from ..models import account_move_post


class ValidateAccountMove(models.TransientModel):
    _inherit = "validate.account.move"

    def validate_move(self):
        """Post the selection, its PPU invoices in the background when they
        hold more than ``PPU_POST_INLINE_LINES`` lines."""
        ppu = self.move_ids._ppu_statement_moves().filtered(
            lambda move: move.state == "draft"
        )
        if ppu._ppu_lines_count() <= account_move_post.PPU_POST_INLINE_LINES:
            return super().validate_move()
        # What Odoo's validate_move does for the whole selection first.
        if self.ignore_abnormal_amount:
            self.abnormal_amount_partner_ids.ignore_abnormal_invoice_amount = True
        if self.ignore_abnormal_date:
            self.abnormal_date_partner_ids.ignore_abnormal_invoice_date = True
        if self.force_post:
            ppu.filtered(lambda move: move.auto_post != "no").auto_post = "no"
        ppu._ppu_queue_posting(soft=not self.force_post)
        self.move_ids -= ppu
        if self.move_ids:
            result = super().validate_move()
            if result.get("type") != "ir.actions.act_window_close":
                return result
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("Posting invoices"),
                "message": self.env._(
                    "%(count)s invoices are being posted in the background; you "
                    "will be notified when they are. Their statements are sent "
                    "to the resellers after.",
                    count=len(ppu),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
