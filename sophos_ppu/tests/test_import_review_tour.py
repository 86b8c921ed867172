# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.tests import HttpCase, tagged

from .common_import import PpuImportCommon


@tagged("post_install", "-at_install")
class TestImportReviewTour(PpuImportCommon, HttpCase):
    def test_ops_review_a_batch_correct_a_row_and_invoice(self):
        admin = self.env.ref("base.user_admin")
        admin.write(
            {
                "company_ids": [Command.link(self.company.id)],
                "company_id": self.company.id,
                "groups_id": [
                    Command.link(self.env.ref("sophos_ppu.group_ppu_operations").id),
                    Command.link(self.env.ref("account.group_account_manager").id),
                ],
            }
        )
        batch = self.import_rows(
            [
                self.row("EU-discount", quantity=5),
                self.row("EU-unknown"),
                self.row("EU-markup", quantity="many", customer="Helios BV"),
            ]
        )
        batch.action_check()
        self.assertEqual(batch.error_count, 2)
        self.start_tour(
            f"/odoo/action-sophos_ppu.sophos_ppu_import_action/{batch.id}",
            "sophos_ppu_ops_review_tour",
            login="admin",
        )
        corrected = batch.line_ids.filtered(lambda line: line.row_number == 4)
        self.assertRecordValues(
            corrected,
            [{"parse_error": False, "state": "ok", "quantity": 10.0, "billed": True}],
        )
        self.assertEqual(batch.state, "invoiced")
        self.assertEqual(
            batch.line_ids.filtered(lambda line: line.state == "error").mapped(
                "end_user_identifier"
            ),
            ["EU-unknown"],
        )
