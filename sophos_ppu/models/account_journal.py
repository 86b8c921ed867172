# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.tools import SQL


class AccountJournal(models.Model):
    _inherit = "account.journal"

    def _ppu_lock_numbering(self):
        """Odoo numbers a journal's entries without gaps, from the last one
        posted, without a lock: a posting unit holds its journals. One
        finding a journal held (another confirmation's units) fails to lock
        it at once, and queue_job runs it again a few seconds later, in a
        fresh transaction that sees what the other posted (waiting here
        would keep a snapshot from before, and the same numbers)."""
        if self:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM account_journal WHERE id IN %s ORDER BY id "
                    "FOR NO KEY UPDATE NOWAIT",
                    tuple(self.ids),
                ),
                log_exceptions=False,
            )
