"""Gevent and the bus, as a logged-in browser tab sees them."""

import contextlib
import json
import threading
import time

from ppu_tools.monitor import process_name
from ppu_tools.rpc import RpcError
from ppu_tools.server import HOST

#: The bus: what the batch views listen to (the addon's
#: models/sophos_ppu_import_progress.py), the notification a run's end sends
#: to who started it, and the check's own notification to ``admin``.
PROGRESS_CHANNEL = "sophos_ppu.import_progress"
RUN_NOTIFICATION = "account_notification"
PING = "sophos_ppu.production_check"
PING_ACTION = "Production check: bus notification to the current user"
PING_CODE = (
    f"env['bus.bus']._sendone(env.user.partner_id, {PING!r}, "
    "{'nonce': env.context.get('ping')})"
)
BUS_TIMEOUT = 5  # seconds for a notification to reach the browser


class BusListener(threading.Thread):
    """A logged-in browser tab's websocket to one server's gevent port: it
    asks for the batch views' channel (the user's partner comes with any
    logged-in session) and keeps each notification with when it came."""

    def __init__(self, server, session_id):
        super().__init__(daemon=True)
        self.server = server
        self.session_id = session_id
        self.notifications = []  # (monotonic time, type, payload)
        self.arrived = threading.Condition()
        self.lost = None  # why the connection ended before stop()
        self.running = True
        self.socket = None

    def connect(self):
        import websocket

        from odoo.addons.bus.websocket import WebsocketConnectionHandler

        # As the browser's websocket worker connects, through the reverse
        # proxy that makes the gevent port the page's own origin.
        origin = f"http://{HOST}:{self.server.gevent_port}"
        version = WebsocketConnectionHandler._VERSION
        self.socket = websocket.create_connection(
            f"ws://{HOST}:{self.server.gevent_port}/websocket?version={version}",
            timeout=BUS_TIMEOUT,
            origin=origin,
            cookie=f"session_id={self.session_id}",
            header=["User-Agent: Mozilla/5.0 (sophos_ppu production check)"],
        )
        subscribe = {"channels": [PROGRESS_CHANNEL], "last": 0}
        self.socket.send(json.dumps({"event_name": "subscribe", "data": subscribe}))
        self.socket.settimeout(1)  # so that stop() is seen within a second
        self.start()

    def run(self):
        import websocket

        while self.running:
            try:
                text = self.socket.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketException, OSError) as error:
                self.lost = f"{type(error).__name__}: {error}"
                break
            if not text:  # a close frame
                if not self.socket.connected:
                    self.lost = "closed by the server"
                    break
                continue
            now = time.monotonic()
            with self.arrived:
                for notification in json.loads(text):
                    message = notification.get("message") or {}
                    self.notifications.append(
                        (now, message.get("type"), message.get("payload"))
                    )
                self.arrived.notify_all()
        with contextlib.suppress(Exception):
            self.socket.close(timeout=1)

    def wait_for(self, kind, payload, timeout):
        """When the notification ``kind`` with ``payload`` came (monotonic
        time), within ``timeout`` seconds; None if it did not."""

        def found():
            return next(
                (
                    when
                    for when, got_kind, got_payload in self.notifications
                    if got_kind == kind and got_payload == payload
                ),
                None,
            )

        with self.arrived:
            self.arrived.wait_for(lambda: found() or self.lost, timeout)
            return found()

    def count(self, kind):
        with self.arrived:
            return sum(1 for _when, got, _payload in self.notifications if got == kind)

    def stop(self):
        self.running = False
        if self.is_alive():
            self.join(timeout=5)


class BusCheck:
    """Whether the bus works under prefork, as ops see it when the batch
    form follows a run: each server's gevent process stays the one that
    started (never respawned), and a notification to the logged-in
    ``admin`` reaches a websocket on each server's gevent port within
    BUS_TIMEOUT seconds, before the month-end and after it."""

    def __init__(self, deployment, client):
        self.deployment = deployment
        self.client = client
        self.listeners = []
        self.pids = {}  # "start" / "end": {server index: [gevent pids]}
        self.pings = []  # (when, server index, seconds or None)
        self.problems = []
        self.action_id = None

    def gevent_pids(self):
        import psutil

        found = {}
        for server in self.deployment.servers:
            try:
                children = psutil.Process(server.process.pid).children()
            except psutil.Error:
                children = []
            pids = []
            for child in children:
                with contextlib.suppress(psutil.Error):
                    if process_name(child.cmdline()) == "gevent":
                        pids.append(child.pid)
            found[server.index] = sorted(pids)
        return found

    def start(self):
        self.pids["start"] = self.gevent_pids()
        session_id = self.client.session.cookies.get("session_id")
        for server in self.deployment.servers:
            listener = BusListener(server, session_id)
            try:
                listener.connect()
            except Exception as error:  # noqa: BLE001 - refused, handshake...
                self.problems.append(
                    f"server {server.index}: no websocket on its gevent port "
                    f"{server.gevent_port}: {type(error).__name__}: {error}"
                )
                continue
            self.listeners.append(listener)
        self.ping("start")

    def ping(self, when):
        """Send ``admin`` a notification (a server action run over
        JSON-RPC, committed before it answers) and wait for it on every
        websocket."""
        if not self.listeners:
            return
        nonce = f"{when}-{time.time_ns()}"
        try:
            if self.action_id is None:
                self.action_id = self.ping_action()
            started = time.monotonic()
            self.client.call(
                "ir.actions.server", "run", [[self.action_id]],
                context={"ping": nonce}, echo=False,
            )  # fmt: skip
        except RpcError as error:
            self.problems.append(f"the notification could not be sent: {error}")
            return
        for listener in self.listeners:
            came = listener.wait_for(PING, {"nonce": nonce}, BUS_TIMEOUT)
            seconds = None if came is None else max(came - started, 0.0)
            self.pings.append((when, listener.server.index, seconds))

    def ping_action(self):
        """The server action that sends the notification (kept in a kept
        database)."""
        ids, _seconds = self.client.call(
            "ir.actions.server", "search", [[["name", "=", PING_ACTION]]],
            limit=1, echo=False,
        )  # fmt: skip
        if ids:
            return ids[0]
        models, _seconds = self.client.call(
            "ir.model", "search", [[["model", "=", "res.users"]]], echo=False
        )
        created, _seconds = self.client.call(
            "ir.actions.server", "create",
            [{"name": PING_ACTION, "model_id": models[0], "state": "code",
              "code": PING_CODE}],
            echo=False,
        )  # fmt: skip
        return created[0] if isinstance(created, list) else created

    def finish(self):
        self.ping("end")
        self.pids["end"] = self.gevent_pids()
        for listener in self.listeners:
            if listener.lost:
                self.problems.append(
                    f"server {listener.server.index}: the websocket was lost "
                    f"during the run: {listener.lost}"
                )
            listener.stop()

    def stop(self):
        for listener in self.listeners:
            listener.stop()
