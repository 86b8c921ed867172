# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""18.0.1.1.0: a Sophos correction (negative quantity) is billed under a key
of its own, the consumption key followed by its quantity (see
``sophos_ppu.core.billing.consumption_key``).

Keys of consumptions (positive or zero quantity) do not change, so what was
billed before the upgrade stays billed once: uploading the same file again
finds its rows billed. Corrections already billed keep being billed once
under their new key; those that 18.0.1.0.0 refused as "same consumption"
can now be billed by checking their batch again or uploading their file.
"""

from openupgradelib import openupgrade


@openupgrade.migrate()
def migrate(env, version):
    # The pre-migration let the update rewrite these e-mail templates.
    openupgrade.set_xml_ids_noupdate_value(
        env,
        "sophos_ppu",
        [
            "mail_template_ppu_order_ops",
            "mail_template_ppu_import_summary_ops",
            "mail_template_ppu_invoice_reseller",
        ],
        True,
    )
    openupgrade.logged_query(
        env.cr,
        """
        UPDATE sophos_ppu_import_line
           SET consumption_key = consumption_key || '|'
                                 || trim_scale(quantity::numeric)::text
         WHERE quantity < 0
           AND consumption_key IS NOT NULL
        """,
    )
