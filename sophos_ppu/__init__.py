# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Sophos pay-per-use addon.

``sophos_ppu.core`` is plain Python (no Odoo) and is also imported on its own by
the offline checker and the pytest suite; the Odoo layer is only loaded when
Odoo imports this package as an addon.
"""

if __name__.startswith("odoo.addons."):
    from . import controllers
    from . import models
    from . import wizards
