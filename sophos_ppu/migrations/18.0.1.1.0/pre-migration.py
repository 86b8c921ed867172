# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""18.0.1.1.0: the ops order e-mail falls back to the end customer's own
e-mail and phone; the ops import summary and the reseller statement
say more. Their templates are ``noupdate``: let this update rewrite them
(post-migration sets it back)."""

from openupgradelib import openupgrade

REFRESHED = [
    "mail_template_ppu_order_ops",
    "mail_template_ppu_import_summary_ops",
    "mail_template_ppu_invoice_reseller",
]


@openupgrade.migrate()
def migrate(env, version):
    openupgrade.set_xml_ids_noupdate_value(env, "sophos_ppu", REFRESHED, False)
