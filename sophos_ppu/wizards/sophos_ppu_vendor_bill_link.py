# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from markupsafe import Markup, escape

from odoo import api, fields, models


class SophosPpuVendorBillLink(models.TransientModel):
    """Link the bill an accountant entered from Sophos's invoice to the
    import of the same file, to compare them."""

    _name = "sophos.ppu.vendor.bill.link"
    _description = "Link Sophos's Bill to a Consumption Import"

    import_id = fields.Many2one("sophos.ppu.import", required=True, readonly=True)
    company_id = fields.Many2one(related="import_id.company_id")
    vendor_id = fields.Many2one(related="company_id.ppu_vendor_id")
    bill_ids = fields.Many2many(
        "account.move",
        string="Bills",
        required=True,
        domain="[('company_id', '=', company_id),"
        " ('move_type', 'in', ('in_invoice', 'in_refund')),"
        " ('state', '!=', 'cancel'),"
        " ('ppu_cost_import_id', '=', False),"
        " ('commercial_partner_id', '=?', vendor_id)]",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        self.env["sophos.ppu.import"]._ppu_check_vendor_bill_rights()
        return values

    def action_link(self):
        """As the accountant: who may not write the bills cannot link them."""
        self.ensure_one()
        batch = self.import_id
        batch._ppu_check_vendor_bill_rights()
        self.bill_ids.write({"ppu_cost_import_id": batch.id})
        batch.sudo().message_post(
            body=escape(self.env._("Sophos's bill %(bills)s linked by %(user)s."))
            % {
                "bills": Markup(", ").join(
                    bill._get_html_link() for bill in self.bill_ids
                ),
                "user": self.env.user.name,
            }
        )
        return {"type": "ir.actions.act_window_close"}
