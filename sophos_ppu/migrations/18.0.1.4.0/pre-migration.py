# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""18.0.1.4.0: the month close's columns on the consumption rows.

Created here, empty, so that the module update does not compute them for
every row of every month at once (all the rows in memory); the
post-migration fills them import by import.
"""

from openupgradelib import openupgrade

#: The new stored columns of sophos_ppu_import_line and their SQL types.
COLUMNS = {
    "cost_subtotal": "numeric",
    "cost_subtotal_company": "numeric",
    "margin_company": "numeric",
    "margin_percent": "numeric",
    "below_cost": "boolean",
    "billed_quantity": "numeric",
    "billed_subtotal_company": "numeric",
    "close_status": "varchar",
    "end_user_key": "varchar",
}


@openupgrade.migrate()
def migrate(env, version):
    for column, sql_type in COLUMNS.items():
        openupgrade.logged_query(
            env.cr,
            f"ALTER TABLE sophos_ppu_import_line "
            f"ADD COLUMN IF NOT EXISTS {column} {sql_type}",
        )
