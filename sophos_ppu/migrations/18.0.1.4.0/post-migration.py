# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""18.0.1.4.0: every consumption row gets its cost, margin, month-close
status and case-folded End User Identifier, computed as the rows compute
them, chunk by chunk.

Rows checked before this version have no reason code (``issue``): their
errors all count as "error" (none as "closed subscription") until their
import is checked again.
"""

from openupgradelib import openupgrade

from odoo.tools import split_every

#: Rows computed per step (bounds memory).
CHUNK = 20000
FIELDS = (
    "cost_subtotal",
    "cost_subtotal_company",
    "margin_company",
    "margin_percent",
    "below_cost",
    "billed_quantity",
    "billed_subtotal_company",
    "close_status",
    "end_user_key",
)


@openupgrade.migrate()
def migrate(env, version):
    Line = env["sophos.ppu.import.line"].sudo()
    env.cr.execute(
        "SELECT id FROM sophos_ppu_import_line WHERE close_status IS NULL ORDER BY id"
    )
    ids = [line_id for [line_id] in env.cr.fetchall()]
    fields = [Line._fields[name] for name in FIELDS]
    for chunk in split_every(CHUNK, ids):
        lines = Line.browse(chunk)
        for field in fields:
            env.add_to_compute(field, lines)
        Line.flush_model()
        env.invalidate_all()
