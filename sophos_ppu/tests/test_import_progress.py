# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Live progress of a batch: what the background jobs send on the bus, who
may receive it, and a batch form that follows it without being reloaded."""

import json
from datetime import date

try:
    import websocket as ws_client
except ImportError:  # WebsocketCase skips the class without it
    ws_client = None

from odoo import http
from odoo.http import request
from odoo.tests import new_test_user, tagged

from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable, json_dump
from odoo.addons.bus.tests.common import WebsocketCase
from odoo.addons.sophos_ppu.models.sophos_ppu_import_progress import PROGRESS_CHANNEL
from odoo.addons.sophos_ppu.tools.billing_guard import trusted
from odoo.addons.web.controllers.home import Home

HOOK = "/sophos_ppu_test/import_progress"


@tagged("post_install", "-at_install")
class TestImportProgress(WebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.other_company = cls.env["res.company"].create({"name": "PPU Elsewhere"})
        for login, groups in (
            ("ppu_progress_ops", "sophos_ppu.group_ppu_operations"),
            ("ppu_progress_internal", "base.group_user"),
            ("ppu_progress_portal", "base.group_portal"),
        ):
            new_test_user(cls.env, login=login, groups=groups)

    def _batch(self, company=None, **vals):
        attachment = self.env["ir.attachment"].create(
            {"name": "sophos_usage.csv", "raw": b"Start Date\n"}
        )
        with trusted():  # as the import wizard makes it
            return self.env["sophos.ppu.import"].create(
                {
                    "period_date": date(2026, 9, 1),
                    "attachment_id": attachment.id,
                    "company_id": (company or self.company).id,
                    **vals,
                }
            )

    def _new_bus_messages(self, last_id):
        self.env.cr.precommit.run()  # what the commit does: bus.bus rows
        return self.env["bus.bus"].search([("id", ">", last_id)], order="id")

    def _channel(self, company):
        return json_dump(
            channel_with_db(self.env.cr.dbname, (company, PROGRESS_CHANNEL))
        )

    # ------------------------------------------------------------------
    # What is sent
    # ------------------------------------------------------------------

    def test_progress_names_the_batches_by_id_on_their_company_channel(self):
        here = self._batch() | self._batch()
        elsewhere = self._batch(self.other_company)
        self.env.cr.precommit.run()
        last_id = self.env["bus.bus"]._bus_last_id()

        (here | elsewhere)._ppu_send_progress()
        (here | elsewhere)._ppu_send_progress()  # the same transaction: once

        messages = self._new_bus_messages(last_id)
        self.assertEqual(
            [(m.channel, json.loads(m.message)) for m in messages],
            [
                (
                    self._channel(self.company),
                    {"type": PROGRESS_CHANNEL, "payload": {"ids": here.ids}},
                ),
                (
                    self._channel(self.other_company),
                    {"type": PROGRESS_CHANNEL, "payload": {"ids": elsewhere.ids}},
                ),
            ],
        )

    def test_progress_is_sent_only_when_the_transaction_commits(self):
        batch = self._batch()
        self.env.cr.precommit.run()
        last_id = self.env["bus.bus"]._bus_last_id()

        batch._ppu_send_progress()
        self.env.cr.precommit.clear()  # what a rollback does

        self.assertFalse(self._new_bus_messages(last_id))

    # ------------------------------------------------------------------
    # Who receives it
    # ------------------------------------------------------------------

    def _progress_received_by(self, login, batch, timeout=1):
        """The progress notifications the browser of ``login`` (password
        the same) gets when ``batch`` is sent, having asked for the channel
        (one user at a time: a new login in the test ends the previous
        session)."""
        session = self.authenticate(login, login)
        websocket = self.websocket_connect(cookie=f"session_id={session.sid}")
        self.env.cr.precommit.run()
        last_id = self.env["bus.bus"]._bus_last_id()
        self.subscribe(websocket, [PROGRESS_CHANNEL], last_id)

        batch._ppu_send_progress()
        self.trigger_notification_dispatching([(batch.company_id, PROGRESS_CHANNEL)])

        websocket.settimeout(timeout)
        received = []
        try:
            while True:
                for notification in json.loads(websocket.recv()):
                    if notification["message"]["type"] == PROGRESS_CHANNEL:
                        received.append(notification["message"]["payload"])
        except ws_client.WebSocketTimeoutException:
            return received
        finally:
            websocket.close()

    def test_only_internal_users_who_read_batches_receive_progress(self):
        batch = self._batch(state="importing", job_step="read")
        self.assertEqual(
            self._progress_received_by("ppu_progress_ops", batch, timeout=3),
            [{"ids": batch.ids}],
        )
        self.assertEqual(self._progress_received_by("ppu_progress_internal", batch), [])
        self.assertEqual(self._progress_received_by("ppu_progress_portal", batch), [])

    def test_users_do_not_receive_progress_of_other_companies(self):
        batch = self._batch(self.other_company, state="importing", job_step="read")
        self.assertEqual(self._progress_received_by("ppu_progress_ops", batch), [])

    # ------------------------------------------------------------------
    # The form follows
    # ------------------------------------------------------------------

    def _install_hook(self, batch):
        """Test-only routes the tour calls: whether the form listens yet, and
        moving the batch on as a background job would, then committing (the
        test cursor drops post-commit hooks: run them as a commit would)."""
        test = self

        def listening(controller):
            channel = (batch.company_id, PROGRESS_CHANNEL)
            key = hashable(channel_with_db(test.env.cr.dbname, channel))
            return bool(dispatch._channels_to_ws.get(key))

        def advance(controller, stage):
            record = request.env["sophos.ppu.import"].browse(batch.id)
            if stage == "rows":
                # job_done is the engine's count of rows done (progress_done
                # computes from it); progress_done itself where it is stored.
                done = "job_done" if "job_done" in record._fields else "progress_done"
                record._ppu_write({"job_step": "create", done: 3, "progress_total": 4})
            elif stage == "end":
                record._ppu_write({"state": "checked", "job_step": False})
            else:
                record._ppu_write({"state": "invoiced"})
            record._ppu_send_progress()
            request.env.cr.precommit.run()
            request.env.cr.postcommit.run()
            return True

        for name, func, path in (
            ("ppu_progress_listening", listening, f"{HOOK}/listening"),
            ("ppu_progress_advance", advance, f"{HOOK}/advance"),
        ):
            func.routing_type = "json"
            setattr(Home, name, http.route(path, type="json", auth="user")(func))
            self.addCleanup(delattr, Home, name)
        self.env.registry.clear_cache("routing")
        self.addCleanup(self.env.registry.clear_cache, "routing")

    def test_batch_form_and_list_follow_its_progress_without_reload(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("sophos_ppu.group_ppu_operations"))
        batch = self._batch(
            state="importing", job_step="read", progress_total=0, job_user_id=admin.id
        )
        self._install_hook(batch)

        self.start_tour(
            f"/odoo/action-sophos_ppu.sophos_ppu_import_action/{batch.id}",
            "sophos_ppu_import_progress_tour",
            login="admin",
        )

        batch.invalidate_recordset()
        self.assertEqual(batch.state, "invoiced")
