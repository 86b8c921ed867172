# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _is_add_to_cart_allowed(self):
        """Only logged-in resellers order pay-per-use services."""
        if self.ppu_ok and self.env.user._is_public():
            return False
        return super()._is_add_to_cart_allowed()
