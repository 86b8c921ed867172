# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""18.0.1.1.0

Keys. A Sophos correction (negative quantity) is billed under a key of its
own, the consumption key followed by its quantity (see
``sophos_ppu.core.billing.consumption_key``). Keys of consumptions (positive
or zero quantity) do not change, so what was billed before the upgrade stays
billed once: uploading the same file again finds its rows billed.
Corrections already billed keep being billed once under their new key; those
that 18.0.1.0.0 refused as "same consumption" can now be billed by checking
their batch again or uploading their file.

E-mails. The templates of ``REFRESHED_FILES`` changed (the ops order e-mail
falls back to the end customer's own e-mail and phone; the ops import summary
and the reseller statement say more). They are
``noupdate``, which a module update never rewrites: they are loaded again
here, replacing any change made to them in the database.
"""

from openupgradelib import openupgrade

REFRESHED_FILES = ("data/mail_template_order.xml", "data/mail_template_import.xml")


@openupgrade.migrate()
def migrate(env, version):
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
    for filename in REFRESHED_FILES:
        openupgrade.load_data(env, "sophos_ppu", filename)
