# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""18.0.1.3.0

Background work runs as OCA queue_job units (channel ``root.sophos_ppu``)
instead of the addon's scheduled actions, which are removed here:
"Sophos PPU: post invoices" (``ir_cron_ppu_post_invoices``) and "Sophos PPU:
run consumption imports and invoicing" (``ir_cron_ppu_import_jobs``). Both
were ``noupdate``, which a module update never deletes.

Invoices that the removed posting action had not posted yet wait in no job:
they are drafts again (their mark ``ppu_posting_data`` is cleared, its user
with it) and say so in their chatter, so that the accountant confirms them
again and the jobs post them as that accountant.

Batches the removed import action was working on run again as jobs, as who
started them: an import still storing its rows from its file (the rows it
had stored go first), one that had stored them all checked again, an
invoicing of the rows not billed yet (the invoices it had made stay).
"""

from openupgradelib import openupgrade

REMOVED_CRONS = (
    "sophos_ppu.ir_cron_ppu_post_invoices",
    "sophos_ppu.ir_cron_ppu_import_jobs",
)


@openupgrade.migrate()
def migrate(env, version):
    openupgrade.delete_records_safely_by_xml_id(env, REMOVED_CRONS)
    resume_batches(env)
    free_posting_queue(env)


def resume_batches(env):
    for batch in env["sophos.ppu.import"].search(
        [("state", "in", ("importing", "invoicing"))]
    ):
        user = batch.job_user_id if batch.job_user_id.active else env.user
        batch = batch.with_user(user).with_company(batch.company_id)
        if batch.state == "invoicing":
            batch._ppu_start_invoicing(batch.job_leave_errors)
        elif batch.job_step in ("read", "create"):  # rows not all stored
            batch.line_ids._ppu_unlink()
            batch._ppu_drop_staged_rows()
            batch._ppu_start("import", inline=False)
        else:  # every row stored: checked again
            batch._ppu_drop_staged_rows()
            batch._ppu_start("check", inline=False)


def free_posting_queue(env):
    waiting = env["account.move"].search([("ppu_posting_data", "!=", False)])
    if not waiting:
        return
    waiting._ppu_set_posting_data(False)
    for move in waiting:
        move.message_post(
            body=env._(
                "This invoice was waiting to be posted in the background when "
                "Sophos PPU was upgraded: confirm it again to post it."
            )
        )
