# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Live progress of a batch: the open form and list follow its background
work through Odoo's bus.

Both ends of one channel, kept together:

- the background jobs call :meth:`SophosPpuImport._ppu_send_progress`
  after each unit of work and when a run starts, ends or fails; it queues,
  per company, a bus notification that names the batches by id and says
  nothing else. ``bus.bus`` sends it when the job's transaction commits, so
  a view never reloads before what it is told about can be read;
- a view of the batches open in the browser asks for the channel by its
  name (:data:`PROGRESS_CHANNEL`) while it is open
  (``static/src/js/ppu_import_progress.js``) and re-reads the batches it
  shows through the ORM, with the user's access rights. The websocket turns
  that name into the channels of the user's companies only for an internal
  user who may read the batches (:meth:`IrWebsocket._build_bus_channel_list`);
  anyone else gets nothing for it.

The company channels are ``(res.company, PROGRESS_CHANNEL)`` pairs: a
browser can only ask for strings, never for a record's channel, so it
cannot reach one without the check.
"""

from odoo import models

#: The name views ask for, and the notification type they listen to.
PROGRESS_CHANNEL = "sophos_ppu.import_progress"


class SophosPpuImport(models.Model):
    _inherit = "sophos.ppu.import"

    def _ppu_send_progress(self):
        """Tell the open views of these batches that they changed: one bus
        notification per company, ``{"ids": [...]}``, sent when the current
        transaction commits (none if it rolls back). Sent once per
        transaction for the same batches."""
        sent = self.env.cr.precommit.data.setdefault("sophos_ppu.progress_sent", set())
        for company, batches in self.grouped("company_id").items():
            key = (company.id, tuple(batches.ids))
            if key in sent:
                continue
            sent.add(key)
            self.env["bus.bus"]._sendone(
                (company, PROGRESS_CHANNEL), PROGRESS_CHANNEL, {"ids": batches.ids}
            )


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        if PROGRESS_CHANNEL in channels:
            channels = [channel for channel in channels if channel != PROGRESS_CHANNEL]
            channels += self._ppu_progress_channels()
        return super()._build_bus_channel_list(channels)

    def _ppu_progress_channels(self):
        """The batches' progress channels the current user may listen to:
        those of the user's companies, for an internal user who may read the
        batches; none for anyone else (portal, public, other internal
        users)."""
        user = self.env.user
        if not user._is_internal() or not self.env["sophos.ppu.import"].has_access(
            "read"
        ):
            return []
        return [(company, PROGRESS_CHANNEL) for company in user.company_ids]
