#!/usr/bin/env python3
"""Check the month-end in a production-like Odoo: prefork workers, default limits.

One command, from the repository root (Odoo 18 importable, PostgreSQL server
binaries installed, as for ``scripts/odoo_suite.py``)::

    python3 scripts/production_check.py --rows 30000 [--dir /tmp/ppu-prod]

It starts a throwaway PostgreSQL cluster, installs ``sophos_ppu`` in a fresh
database (a ``--dir`` that holds one already, from this script or from
``scripts/benchmark_import.py``, is reused), creates resellers and
subscriptions and writes the Sophos .xlsx of ``--rows`` rows exactly as the
benchmark does, then serves the database with Odoo as production runs it:
OCA ``queue_job`` loaded server-wide (``--load=base,web,queue_job``) with
``[queue_job] channels = root:N,root.sophos_ppu:N`` (``--capacity``, 2) in
its configuration file, so that the month-end's jobs run in HTTP workers,
``--workers`` (capacity + 1: one free for the web client),
``--max-cron-threads`` cron workers (2) and Odoo's default limits (60 s of
CPU and 120 s of real time per request or cron run, 2 GiB / 2.5 GiB of
virtual memory per worker), e-mails delivered to a local SMTP sink.
``--servers N`` serves the database with N servers behind a round-robin TCP
proxy on loopback, which the job runner (one active) and the client call.
Then it drives the month-end over HTTP JSON-RPC, as the web client does,
logged in as ``admin``:

1. upload: the import wizard's dialog (``onchange``, ``web_save``) and its
   button ``action_import``; then the batch form is read every second until
   the batch leaves ``importing`` (expected ``checked``);
2. "Create invoices" (``action_create_invoices``, with ``ppu_leave_errors``
   when the batch has errors, as the button "Invoice valid lines, leave
   errors"); polled until the batch leaves ``invoicing`` (expected
   ``invoiced``);
3. post: the invoice list's action "Confirm Entries" on all the batch's
   invoices (``account.action_validate_account_move``: its dialog, then
   ``validate_move``), polled until every invoice is posted;
4. statements: polled until the invoices' background sending
   (``account.ir_cron_account_move_send``) and their mails are done, at most
   ``--send-timeout`` seconds (reported, not a failure).

Throughout, a websocket on each server's gevent port, opened with the
session of ``admin`` as the browser's websocket worker opens it, listens to
the bus (``admin``'s partner and the batch views' progress channel): a
notification to ``admin`` (a server action calling ``bus.bus._sendone``)
must reach it within 5 s before the month-end and after it, and each
server's gevent process must be the same from the start to the end (one
pid, serving once, no traceback in the server's output).

It prints every request with its duration, the end-to-end times, the counts,
the server workers' CPU and memory, and what the server log shows (workers
killed at a limit, memory limits reached, tracebacks, queue_job's jobs per
server with their time, CPU and how many ran at once, failed jobs and
retries, the scheduled actions' runs), and the gevent/bus check. It exits 1
when a request takes more than ``--request-limit`` seconds (5) or fails,
when the batch does not reach ``invoiced``, when the posting does not
finish, when a job failed, when the job runner never got ready, when the log
shows a worker killed or a request stopped at a limit, or when the
gevent/bus check fails; 2 when the check cannot run (no Odoo, the server
does not start).

``--scale 1,2,4`` measures the scale-out instead: the month-end from upload
to ``invoiced`` (posted too with ``--post``) once per capacity, on one server
with capacity + 1 HTTP workers, then (``--servers 2``) on two servers
sharing the largest capacity; the database is set up once and its batches
dropped before each; it prints a table of checking rows/s, invoicing lines/s
and their ratio to the first configuration.

The servers and the cluster are stopped at the end, also on Ctrl-C;
``--keep`` leaves the server running until Ctrl-C.
"""

import argparse
import asyncio
import base64
import contextlib
import json
import math
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark_import import (  # noqa: E402
    DB_NAME,
    PERIOD,
    install,
    open_registry,
    setup_data,
    write_file,
)
from odoo_suite import (  # noqa: E402
    ADDON,
    DB_USER,
    JOB_CHANNEL,
    REPO,
    SERVER_WIDE_MODULES,
    Cluster,
    addons_path,
    free_port,
    queue_job_channels,
)

HOST = "127.0.0.1"
LOGIN = PASSWORD = "admin"
WIZARD = "sophos.ppu.import.wizard"
IMPORT = "sophos.ppu.import"
MOVE = "account.move"
VALIDATE = "validate.account.move"
#: What the batch form shows, read at every poll when the model has it.
BATCH_FIELDS = [
    "name",
    "state",
    "job_step",
    "progress_done",
    "progress_total",
    "line_count",
    "ok_count",
    "error_count",
    "duplicate_count",
    "invoice_count",
    "invoice_error",
]
#: Other fields of the batch read at every poll, should the model have them.
BACKGROUND_FIELD = re.compile(r"job|progress|step|chunk|queue|error")
SCALAR_TYPES = {"char", "text", "integer", "float", "selection", "boolean", "datetime"}
HTTP_TIMEOUT = 600  # longer than any limit: Odoo's watchdog answers first
#: Server log: what stops a worker or a request, and what only warns.
KILLS = [
    (
        "worker killed at the real-time limit",
        re.compile(r"\bWorker\w* \(\d+\) timeout after"),
    ),
    (
        "request stopped at the CPU limit",
        # not queue_job's runner process, which starts again at its limit
        re.compile(r"Worker \(\d+\) CPU time limit (?!.*Stop gracefully and recover)"),
    ),
    ("memory allocation failed", re.compile(r"\bMemoryError\b")),
    ("killed", re.compile(r"\bkilled\b", re.IGNORECASE)),
    ("worker exited on an exception", re.compile(r"Exception occurred, exiting")),
]
WARNINGS = [
    (
        "queue_job's runner process restarted at its CPU limit",
        re.compile(r"CPU time limit .*Stop gracefully and recover"),
    ),
    (
        "virtual memory limit reached (worker recycled)",
        re.compile(r"virtual memory limit"),
    ),
    (
        "scheduled action failed",
        re.compile(r"Job .* (failed|timed out)|Exception in cron"),
    ),
]
LOG_LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) (?P<pid>\d+) (?P<level>[A-Z]+) "
    r"(?P<db>\S+) (?P<logger>\S+): (?P<message>.*)$"
)
JOB_DONE = re.compile(
    r"Job '(?P<name>.*)' \((?P<id>\d+)\) done in (?P<seconds>[\d.]+)s"
)
JOB_PROGRESS = re.compile(
    r"Job '(?P<name>.*)' \((?P<id>\d+)\) processed (?P<done>\d+) records, "
    r"(?P<remaining>\d+) records remaining"
)
JOB_EVENT = re.compile(
    r"Job '(?P<name>.*)' \((?P<id>\d+)\) (?P<event>starting|completed)"
)
WORKER_ALIVE = re.compile(r"Worker (?P<kind>Worker\w+) \((?P<pid>\d+)\) alive")
KILLED_PID = re.compile(r"Worker\w* \((\d+)\)")
RUNS_PER_PASS = 10  # Odoo's MAX_BATCH_PER_CRON_JOB
#: queue_job in the server log. Its runner asks a server to run each job
#: with ``GET /queue_job/runjob`` (werkzeug's line ends with Odoo's query
#: count, query time and other time), logs the traceback of a failed job
#: from its controller, and puts a job back in the queue (a retry) when the
#: job was started or sent but no worker holds it (worker killed, request
#: lost).
JOB_REQUEST = re.compile(
    r'"GET /queue_job/runjob\?\S*job_uuid=(?P<uuid>[\w-]+) HTTP/[\d.]+" '
    r"(?P<status>\d+) \S+ (?P<queries>\d+) (?P<sql>[\d.]+) (?P<other>[\d.]+)"
)
JOB_FAILED_LOGGER = "odoo.addons.queue_job.controllers.main"
JOB_REQUEUED = re.compile(r"Re-queued dead job with uuid: (?P<uuid>[\w-]+)")
JOB_REFUSED = re.compile(r"was requested to run job (?P<uuid>[\w-]+), but")
RUNNER_READY = re.compile(r"queue job runner ready for db (?P<db>\S+)")
RUNNER_NOT_STARTED = re.compile(r"jobrunner thread \(in \w+\) NOT started")
#: A gevent process serving (Odoo logs it once started).
GEVENT_SERVING = re.compile(r"Evented Service \(longpolling\) running on")
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


class Failure(Exception):
    """The check cannot go on: it ends with what it has seen."""


# ----------------------------------------------------------------------
# JSON-RPC, as the web client speaks it
# ----------------------------------------------------------------------


class RpcError(Exception):
    pass


class Client:
    """One logged-in browser tab: a session cookie and timed JSON-RPC calls."""

    def __init__(self, base_url, limit):
        import requests

        self.requests = requests
        self.base_url = base_url
        self.limit = limit
        self.session = requests.Session()
        self.context = {}
        self.timings = []  # (label, seconds, error)
        self.sequence = 0

    def post(self, path, params, label=None, echo=True):
        """POST one JSON-RPC call; return (result, seconds). RpcError when
        the server answers an error or drops the connection."""
        label = label or path
        self.sequence += 1
        payload = {"jsonrpc": "2.0", "method": "call", "id": self.sequence}
        payload["params"] = params
        error = None
        started = time.monotonic()
        try:
            response = self.session.post(
                self.base_url + path, json=payload, timeout=HTTP_TIMEOUT
            )
            body = response.json() if response.content else {}
        except (self.requests.RequestException, ValueError) as exc:
            error = f"no answer: {type(exc).__name__}: {exc}"
        else:
            if "error" in body:
                data = body["error"].get("data") or {}
                error = data.get("message") or body["error"].get("message")
                error = f"{data.get('name', 'error')}: {error}"
            elif response.status_code != 200 or "result" not in body:
                error = f"HTTP {response.status_code}"
        seconds = time.monotonic() - started
        self.timings.append((label, seconds, error))
        if echo or error:
            self.echo(label, seconds, error)
        if error:
            raise RpcError(error)
        return body["result"], seconds

    def echo(self, label, seconds, error=None, note=""):
        flag = "  SLOW" if seconds > self.limit else ""
        print(f"  {seconds:7.2f} s  {label}{flag}{note}", flush=True)
        if error:
            print(f"             ERROR {error[:400]}", flush=True)

    def call(self, model, method, args, context=None, echo=True, button=False, **kw):
        route = "call_button" if button else "call_kw"
        params = {
            "model": model,
            "method": method,
            "args": args,
            "kwargs": dict(kw, context=dict(self.context, **(context or {}))),
        }
        label = f"{route} {model}.{method}"
        return self.post(f"/web/dataset/{route}/{model}/{method}", params, label, echo)

    def authenticate(self):
        info, _seconds = self.post(
            "/web/session/authenticate",
            {"db": DB_NAME, "login": LOGIN, "password": PASSWORD},
        )
        if not info.get("uid"):
            raise Failure(f"{LOGIN} could not log in")
        context = dict(info.get("user_context") or {})
        company = (info.get("user_companies") or {}).get("current_company")
        if company:
            context["allowed_company_ids"] = [company]
        self.context = context


# ----------------------------------------------------------------------
# Mail sink and server
# ----------------------------------------------------------------------


class SmtpSink(socketserver.ThreadingTCPServer):
    """Accepts every e-mail Odoo sends and counts it (no TLS, no auth)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__((HOST, 0), SmtpHandler)
        self.messages = 0
        self.lock = threading.Lock()

    @property
    def port(self):
        return self.server_address[1]


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 localhost ESMTP production check sink")
        for line in self.rfile:
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-localhost\r\n250 8BITMIME")
            elif verb == b"DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                for data in self.rfile:
                    if data in (b".\r\n", b".\n"):
                        break
                with self.server.lock:
                    self.server.messages += 1
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                self.reply("250 OK")


def odoo_bin(odoo):
    """How to start Odoo: the prefork server respawns its gevent process as
    ``sys.argv[0]``, which ``python -m odoo`` cannot be."""
    script = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
    if not script.exists():
        script = shutil.which("odoo")
    if not script:
        return [sys.executable, "-m", "odoo"]
    return [sys.executable, str(script)]


def write_config(work_dir, capacity, proxy_port=None):
    """The servers' configuration file: nothing in ``[options]`` (so that
    ~/.odoorc cannot change the limits), queue_job's channels, and where its
    job runner sends the jobs when a proxy is in front of the servers."""
    config = work_dir / "production_check.conf"
    text = f"[options]\n\n[queue_job]\nchannels = {queue_job_channels(capacity)}\n"
    if proxy_port:
        text += f"host = {HOST}\nport = {proxy_port}\n"
    config.write_text(text, encoding="utf-8")
    return config


def start_server(odoo, cluster, args, server, smtp, output):
    """Start one Odoo server (``server``: its port, workers, log file and
    configuration file)."""
    cmd = [
        *odoo_bin(odoo), f"--config={server.config}",
        f"--addons-path={addons_path(odoo)}",
        f"--data-dir={odoo.tools.config['data_dir']}",
        f"--db_host={cluster.socket_dir}", f"--db_port={cluster.port}",
        f"--db_user={DB_USER}", f"--database={DB_NAME}",
        f"--db-filter=^{DB_NAME}$", "--no-database-list",
        f"--http-interface={HOST}", f"--http-port={server.port}",
        f"--gevent-port={server.gevent_port}", f"--load={SERVER_WIDE_MODULES}",
        f"--workers={server.workers}",
        f"--max-cron-threads={args.max_cron_threads}",
        f"--smtp={HOST}", f"--smtp-port={smtp.port}",
        f"--logfile={server.log_file}",
    ]  # fmt: skip
    # Only the configuration file configures queue_job here.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ODOO_QUEUE_JOB_")
    }
    # Its own process group: a terminal's Ctrl-C reaches this script only,
    # which stops the whole server (master, workers, gevent) itself.
    # What does not go to the log (a crashing gevent process) goes to output.
    return subprocess.Popen(
        cmd, cwd=REPO, env=env, start_new_session=True, stdout=output, stderr=output
    )


class Server:
    """One Odoo server of a deployment: its port, log and process."""

    def __init__(self, work_dir, index, workers, config):
        self.index = index  # 1, 2, ...
        self.workers = workers
        self.config = config
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.gevent_port = free_port()  # its websocket (bus)
        suffix = "" if index == 1 else f"-{index}"
        self.log_file = work_dir / f"odoo-server{suffix}.log"
        self.output_file = work_dir / f"odoo-server{suffix}.out"
        self.log_offset = size_of(self.log_file)
        self.output_offset = size_of(self.output_file)
        self.process = None


def size_of(path):
    return path.stat().st_size if path.exists() else 0


class Deployment:
    """Odoo as production runs it: ``servers`` Odoo servers sharing the
    database, each with ``workers`` HTTP workers, queue_job's channel
    capacity ``capacity`` (over all servers: one job runner is active), and
    with several servers a round-robin proxy in front of them, to which the
    job runner and the client send their requests."""

    def __init__(self, odoo, cluster, args, smtp, servers, workers, capacity):
        self.odoo, self.cluster, self.args, self.smtp = odoo, cluster, args, smtp
        self.capacity = capacity
        self.proxy = Proxy() if servers > 1 else None
        work_dir = cluster.directory
        config = write_config(
            work_dir, capacity, self.proxy.port if self.proxy else None
        )
        self.servers = [
            Server(work_dir, index, workers, config) for index in range(1, servers + 1)
        ]
        self.base_url = (
            f"http://{HOST}:{self.proxy.port}"
            if self.proxy
            else self.servers[0].base_url
        )
        self.monitor = None

    def describe(self):
        first = self.servers[0]
        plural = "s" if len(self.servers) > 1 else ""
        return (
            f"{len(self.servers)} server{plural} x {first.workers} workers, "
            f"capacity {self.capacity}"
        )

    def start(self):
        for server in self.servers:
            print(
                f"starting Odoo server {server.index}: {server.workers} HTTP "
                f"workers, {self.args.max_cron_threads} cron workers, default "
                f"limits, queue_job loaded server-wide, on {server.base_url} "
                f"(log {server.log_file})",
                flush=True,
            )
            with open(server.output_file, "ab") as output:
                server.process = start_server(
                    self.odoo, self.cluster, self.args, server, self.smtp, output
                )
        print(
            f"queue_job: channels = {queue_job_channels(self.capacity)} "
            f"({self.servers[0].config}); {self.servers[0].workers} HTTP workers "
            f"per server, at least one more than the jobs it gets at once, so "
            f"that the web client's requests find a free worker",
            flush=True,
        )
        if self.proxy:
            self.proxy.start([server.port for server in self.servers])
            print(
                f"round-robin proxy on {self.base_url} in front of the servers; "
                f"the job runner sends the jobs to it, the client too",
                flush=True,
            )
        self.monitor = Monitor([server.process for server in self.servers])
        self.monitor.start()
        for server in self.servers:
            wait_ready(server.process, server.base_url, server.log_file)
        settle(self.servers, self.logs())

    def logs(self):
        return [(server.log_file, server.log_offset) for server in self.servers]

    def outputs(self):
        return [(server.output_file, server.output_offset) for server in self.servers]

    def masters(self):
        return {server.process.pid: server.index for server in self.servers}

    def stop(self):
        if self.monitor:
            self.monitor.running = False
        for server in self.servers:
            if server.process:
                stop_server(server.process)
        if self.proxy:
            self.proxy.stop()


class Proxy:
    """A round-robin TCP proxy on loopback, the load balancer in front of
    several servers: each connection goes to the next server."""

    def __init__(self):
        self.socket = socket.create_server((HOST, 0))
        self.port = self.socket.getsockname()[1]
        self.connections = []  # per server
        self.loop = None
        self.thread = None

    def start(self, ports):
        self.ports = ports
        self.connections = [0] * len(ports)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self.handle, sock=self.socket), self.loop
        ).result()

    async def handle(self, reader, writer):
        index = sum(self.connections) % len(self.ports)
        self.connections[index] += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                HOST, self.ports[index]
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self.pipe(reader, upstream_writer), self.pipe(upstream_reader, writer)
        )
        for stream in (writer, upstream_writer):
            stream.close()

    @staticmethod
    async def pipe(reader, writer):
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

    def stop(self):
        if self.loop:
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.socket.close()


def stop_server(server):
    if server.poll() is not None:
        return
    # Once gracefully (workers finish their request, up to 120 s), then
    # forced, then killed.
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):  # workers left by the master
        os.killpg(server.pid, signal.SIGKILL)


def wait_ready(server, base_url, log_file, timeout=180):
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise Failure(f"Odoo exited ({server.returncode}):\n{tail(log_file)}")
        try:
            if requests.get(base_url + "/web/health", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    else:
        raise Failure(f"Odoo did not answer in {timeout} s:\n{tail(log_file)}")
    # Every HTTP worker loads the registry on its first request: warm them
    # all up (concurrent requests spread over them), untimed.
    started = time.monotonic()

    def hit(times):
        begin = time.monotonic()
        with contextlib.suppress(requests.RequestException):
            requests.get(f"{base_url}/web/login?db={DB_NAME}", timeout=120)
        times.append(time.monotonic() - begin)

    for _round in range(20):
        times = []
        threads = [threading.Thread(target=hit, args=(times,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if max(times) < 1:
            break
    print(f"server warm in {time.monotonic() - started:.1f} s", flush=True)


def tail(path, lines=30):
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Monitor(threading.Thread):
    """Samples the servers' processes: peak memory and CPU time per pid."""

    def __init__(self, servers):
        super().__init__(daemon=True)
        self.servers = servers
        self.stats = {}  # pid: {"cpu", "rss", "vms", "name"}
        self.samples = defaultdict(list)  # pid: [(epoch, CPU seconds)]
        self.running = True

    def run(self):
        import psutil

        masters = []
        for server in self.servers:
            with contextlib.suppress(psutil.Error):
                masters.append(psutil.Process(server.pid))
        while self.running and any(s.poll() is None for s in self.servers):
            processes = []
            for master in masters:
                with contextlib.suppress(psutil.Error):
                    processes += [master, *master.children(recursive=True)]
            for process in processes:
                try:
                    with process.oneshot():
                        cpu = process.cpu_times()
                        memory = process.memory_info()
                        name = process_name(process.cmdline())
                except psutil.Error:
                    continue
                stat = self.stats.setdefault(
                    process.pid, {"cpu": 0.0, "rss": 0, "vms": 0, "name": name}
                )
                stat["cpu"] = max(stat["cpu"], cpu.user + cpu.system)
                self.samples[process.pid].append((time.time(), stat["cpu"]))
                stat["rss"] = max(stat["rss"], memory.rss)
                stat["vms"] = max(stat["vms"], memory.vms)
            time.sleep(0.5)

    def cpu_between(self, pid, start, end):
        """CPU seconds process ``pid`` spent from ``start`` to ``end`` (epochs),
        to the sampling period; None when it was not sampled then."""
        samples = self.samples.get(pid) or []
        before = [cpu for when, cpu in samples if when <= start]
        after = [cpu for when, cpu in samples if when >= end]
        if not samples or not after:
            return None
        return after[0] - (before[-1] if before else 0.0)


def process_name(cmdline):
    if "gevent" in cmdline[:3]:
        return "gevent"
    program = Path(cmdline[0]).name if cmdline else "?"
    return "odoo" if program.startswith("python") else program


def settle(servers, logs, quiet=10, limit=300):
    """Wait until the scheduled actions due at start (all of them, in a
    fresh database) are done: none running and none started for ``quiet``
    seconds. A server running for months has no such burst."""
    started = time.monotonic()
    running = {}
    last_activity = started
    start = re.compile(r"Job '(.*)' \((\d+)\) starting")
    end = re.compile(r"Job '(.*)' \((\d+)\) (completed|server action #\d+ failed)")
    with contextlib.ExitStack() as stack:
        files = []
        for log_file, offset in logs:
            log = stack.enter_context(
                open(log_file, encoding="utf-8", errors="replace")
            )
            log.seek(offset)
            files.append(log)
        while time.monotonic() - started < limit and all(
            server.process.poll() is None for server in servers
        ):
            for line in [line for log in files for line in log.read().splitlines()]:
                found = start.search(line)
                if found:
                    running[found[2]] = found[1]
                    last_activity = time.monotonic()
                found = end.search(line)
                if found:
                    running.pop(found[2], None)
                    last_activity = time.monotonic()
            if not running and time.monotonic() - last_activity >= quiet:
                print(
                    f"start-up scheduled actions done in "
                    f"{time.monotonic() - started:.0f} s",
                    flush=True,
                )
                return
            time.sleep(1)
    print(
        f"start-up scheduled actions still running after {limit} s: "
        f"{', '.join(running.values())}",
        flush=True,
    )


# ----------------------------------------------------------------------
# Gevent and the bus, as a logged-in browser tab sees them
# ----------------------------------------------------------------------


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


# ----------------------------------------------------------------------
# Database and file
# ----------------------------------------------------------------------


def prepare(odoo, cluster, args, work_dir):
    """Install, create the data (or reset a kept database); return the file."""
    from odoo import SUPERUSER_ID, api

    if not (work_dir / "installed").exists():
        print("installing sophos_ppu and base_import ...", flush=True)
        install(odoo, cluster)
        (work_dir / "installed").touch()
    elif args.update:
        print("updating sophos_ppu ...", flush=True)
        update(odoo, cluster)
    registry = open_registry(odoo, cluster)
    started = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        subscriptions = env["sophos.ppu.subscription"].search_count([])
        if subscriptions:
            reset_batches(env)
            if subscriptions != args.resellers * args.customers:
                print(
                    f"note: the kept database has {subscriptions} subscriptions, "
                    f"not {args.resellers} x {args.customers}",
                    flush=True,
                )
        else:
            setup_data(env, args.resellers, args.customers)
        cr.commit()
        cr.execute("ANALYZE")
    odoo.sql_db.close_all()
    name = f"consumption-{args.rows}-{args.resellers}x{args.customers}.xlsx"
    file_path = work_dir / name
    if not file_path.exists():
        write_file(file_path, args.rows, args.resellers, args.customers)
    print(
        f"setup: {args.resellers} resellers, {args.resellers * args.customers} "
        f"subscriptions, file of {args.rows} rows "
        f"({file_path.stat().st_size / 1e6:.1f} MB) in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return file_path


def update(odoo, cluster):
    """Update the addon of a kept database to the working tree's code."""
    cmd = [
        sys.executable, "-m", "odoo", f"--addons-path={addons_path(odoo)}",
        f"--db_host={cluster.socket_dir}", f"--db_port={cluster.port}",
        f"--db_user={DB_USER}", f"--database={DB_NAME}", "--stop-after-init",
        "--log-level=warn", "-u", ADDON,
    ]  # fmt: skip
    subprocess.run(cmd, check=True)


def reset_batches(env):
    """A kept database: drop the batches (and invoices) of the last run so
    that the same month can be billed again."""
    batches = env["sophos.ppu.import"].search([])
    if not batches:
        return
    posted = batches.invoice_ids.filtered(lambda move: move.state == "posted")
    posted.with_context(force_delete=True).button_draft()
    for batch in batches:
        if batch.state != "cancelled":
            batch.with_context(force_delete=True).action_cancel()
    batches.unlink()
    print(f"kept database: {len(batches)} earlier batches dropped", flush=True)


# ----------------------------------------------------------------------
# The month-end over HTTP
# ----------------------------------------------------------------------


class Run:
    def __init__(self, client, args, file_path, smtp):
        self.client = client
        self.args = args
        self.file_path = file_path
        self.smtp = smtp
        self.failures = []
        self.figures = {}
        self.batch_fields = list(BATCH_FIELDS)

    def fail(self, message):
        self.failures.append(message)
        print(f"FAILURE: {message}", flush=True)

    def fields_of(self, model, wanted):
        fields, _seconds = self.client.call(
            model, "fields_get", [wanted], attributes=["type", "selection"]
        )
        return fields

    def read_batch(self, batch_id, echo=False):
        spec = {name: {} for name in self.batch_fields}
        records, seconds = self.client.call(
            IMPORT, "web_read", [[batch_id]], echo=echo, specification=spec
        )
        if not records:
            raise Failure(f"batch {batch_id} is gone")
        return records[0], seconds

    def poll_batch(self, batch_id, busy, since):
        """Read the batch every second while its state is one of ``busy``
        (and no invoicing failure is reported)."""
        shown = None
        last_shown = 0.0
        deadline = time.monotonic() + self.args.timeout
        while True:
            batch, seconds = self.read_batch(batch_id)
            elapsed = time.monotonic() - since
            progress = describe(batch)
            if (
                progress != shown
                or elapsed - last_shown >= 15
                or seconds > self.client.limit
            ):
                self.client.echo(
                    "call_kw sophos.ppu.import.web_read",
                    seconds,
                    note=f"  [{elapsed:6.1f} s] {progress}",
                )
                shown, last_shown = progress, elapsed
            if batch["state"] not in busy or failed(batch):
                return batch
            if time.monotonic() > deadline:
                self.fail(f"batch still {batch['state']} after {self.args.timeout} s")
                return batch
            time.sleep(1)

    def last_batch_id(self):
        ids, _seconds = self.client.call(
            IMPORT, "search", [[]], order="id desc", limit=1
        )
        return ids[0] if ids else 0

    def upload(self):
        print("\n== upload ==", flush=True)
        fields = self.fields_of(IMPORT, None)
        # The fields the form shows, and whatever the background work adds.
        self.batch_fields = [name for name in BATCH_FIELDS if name in fields] + [
            name
            for name, field in sorted(fields.items())
            if BACKGROUND_FIELD.search(name)
            and name not in BATCH_FIELDS
            and field["type"] in SCALAR_TYPES
        ]
        states = [key for key, _label in fields["state"].get("selection", [])]
        self.states = states
        print(f"batch states: {', '.join(states)}", flush=True)
        missing = sorted(set(BATCH_FIELDS) - set(self.batch_fields))
        if missing:
            print(f"batch fields not (yet) there: {', '.join(missing)}", flush=True)
        before = self.last_batch_id()
        spec = {
            "file": {},
            "filename": {},
            "period_date": {},
            "partner_id": {"fields": {"display_name": {}}},
            "company_id": {"fields": {"display_name": {}}},
            "required_columns": {},
            "existing_batch_warning": {},
        }
        # The dialog opens (defaults), the file and the month are picked.
        self.client.call(WIZARD, "onchange", [[], {}, [], spec])
        data = self.file_path.read_bytes()
        values = {
            "file": base64.b64encode(data).decode(),
            "filename": self.file_path.name,
            "period_date": PERIOD.isoformat(),
        }
        self.client.call(WIZARD, "onchange", [[], values, ["period_date"], spec])
        # "Import": the dialog saves the wizard, then calls its button.
        started = time.monotonic()
        self.figures["started"] = started
        saved, _seconds = self.client.call(
            WIZARD,
            "web_save",
            [[], values],
            context={"bin_size": True},
            specification={"display_name": {}},
        )
        batch_id = None
        try:
            action, _seconds = self.client.call(
                WIZARD, "action_import", [[saved[0]["id"]]], button=True
            )
            batch_id = action.get("res_id")
        except RpcError as error:
            self.fail(f"the upload request failed: {error}")
        if not batch_id:
            latest = self.last_batch_id()
            if latest == before:
                raise Failure("no batch was created")
            batch_id = latest
        print(f"batch id {batch_id}", flush=True)
        # With background work, a draft batch is one waiting for its job.
        busy = {"importing", "draft"} if "importing" in self.states else set()
        batch = self.poll_batch(batch_id, busy, started)
        self.figures["checked"] = time.monotonic() - started
        self.figures["batch_checked"] = batch
        if batch["state"] != "checked":
            raise Failure(f"the batch is {batch['state']} after the upload")
        return batch

    def invoice(self, batch):
        print("\n== create invoices ==", flush=True)
        context = {"ppu_leave_errors": True} if batch.get("error_count") else {}
        started = time.monotonic()
        busy = {"invoicing"}
        try:
            self.client.call(
                IMPORT, "action_create_invoices", [[batch["id"]]],
                context=context, button=True,
            )  # fmt: skip
            if "invoicing" in self.states:
                busy.add("checked")  # queued, its job not started yet
        except RpcError as error:
            self.fail(f"the invoicing request failed: {error}")
        batch = self.poll_batch(batch["id"], busy, started)
        self.figures["invoicing"] = time.monotonic() - started
        self.figures["invoiced"] = time.monotonic() - self.figures["started"]
        self.figures["batch_invoiced"] = batch
        if batch.get("invoice_error"):
            print(f"invoice_error: {batch['invoice_error']}", flush=True)
        if batch["state"] != "invoiced":
            raise Failure(f"the batch is {batch['state']}, not invoiced")
        return batch

    def post(self, batch):
        print("\n== post all drafts (Confirm Entries) ==", flush=True)
        records, _seconds = self.client.call(
            IMPORT, "web_read", [[batch["id"]]], specification={"invoice_ids": {}}
        )
        move_ids = records[0]["invoice_ids"]
        self.figures["invoices"] = len(move_ids)
        if not move_ids:
            raise Failure("the batch has no invoices")
        domain = [["ppu_import_id", "=", batch["id"]]]
        # The invoice list (stat button "Invoices"), then "select all".
        self.client.call(
            MOVE, "web_search_read", [], domain=domain, limit=80, offset=0,
            order="", count_limit=10001,
            specification={
                "name": {}, "partner_id": {"fields": {"display_name": {}}},
                "invoice_date": {}, "amount_total_signed": {}, "state": {},
                "move_type": {},
            },
        )  # fmt: skip
        self.client.call(MOVE, "search", [domain], limit=20000)
        # Action > Confirm Entries: the action, its dialog, its button.
        self.client.post(
            "/web/action/load",
            {"action_id": "account.action_validate_account_move"},
            "POST /web/action/load account.action_validate_account_move",
        )
        active = {
            "active_model": MOVE,
            "active_ids": move_ids,
            "active_id": move_ids[0],
            "active_domain": domain,
        }
        spec = {
            "move_ids": {},
            "force_post": {},
            "display_force_post": {},
            "is_entries": {},
            "abnormal_date_partner_ids": {"fields": {"display_name": {}}},
            "ignore_abnormal_date": {},
            "abnormal_amount_partner_ids": {"fields": {"display_name": {}}},
            "ignore_abnormal_amount": {},
        }
        self.client.call(VALIDATE, "onchange", [[], {}, [], spec], context=active)
        started = time.monotonic()
        saved, _seconds = self.client.call(
            VALIDATE,
            "web_save",
            [[], {"move_ids": [[6, 0, move_ids]]}],
            context=active,
            specification={"display_name": {}},
        )
        request_failed = False
        try:
            self.client.call(
                VALIDATE, "validate_move", [[saved[0]["id"]]],
                context=active, button=True,
            )  # fmt: skip
        except RpcError as error:
            request_failed = True
            self.fail(f"the posting request failed: {error}")
        posted = self.poll_count(
            "posted",
            [["id", "in", move_ids], ["state", "=", "posted"]],
            len(move_ids),
            started,
            once=request_failed,
        )
        self.figures["posted"] = posted
        self.figures["posting"] = time.monotonic() - started
        self.figures["all_posted"] = time.monotonic() - self.figures["started"]
        if posted != len(move_ids):
            self.fail(f"{posted} of {len(move_ids)} invoices posted")
        return move_ids

    def poll_count(self, what, domain, target, since, once=False, timeout=None):
        deadline = time.monotonic() + (timeout or self.args.timeout)
        shown = None
        last_shown = 0.0
        while True:
            count, seconds = self.client.call(
                MOVE, "search_count", [domain], echo=False
            )
            elapsed = time.monotonic() - since
            slow = seconds > self.client.limit
            if count != shown or elapsed - last_shown >= 15 or slow:
                self.client.echo(
                    "call_kw account.move.search_count",
                    seconds,
                    note=f"  [{elapsed:6.1f} s] {what} {count}/{target}",
                )
                shown, last_shown = count, elapsed
            if count >= target or once or time.monotonic() > deadline:
                return count
            time.sleep(1)

    def statements(self, move_ids):
        if not self.args.send_timeout or not self.figures.get("posted"):
            return
        print("\n== statements (background sending, mail queue) ==", flush=True)
        started = time.monotonic()
        deadline = started + self.args.send_timeout
        moves = [["id", "in", move_ids]]
        shown = None
        last_shown = 0.0
        while True:
            pending, s1 = self.client.call(
                MOVE, "search_count", [[*moves, ["sending_data", "!=", False]]],
                echo=False,
            )  # fmt: skip
            sent, s2 = self.client.call(
                MOVE, "search_count", [[*moves, ["is_move_sent", "=", True]]],
                echo=False,
            )  # fmt: skip
            queued, s3 = self.client.call(
                "mail.mail", "search_count",
                [[["model", "=", MOVE], ["res_id", "in", move_ids],
                  ["state", "in", ["outgoing", "exception"]]]],
                echo=False,
            )  # fmt: skip
            elapsed = time.monotonic() - started
            state = (
                f"to send {pending}, marked sent {sent}/{len(move_ids)}, "
                f"mails queued {queued}, mails received {self.smtp.messages}"
            )
            if state != shown or elapsed - last_shown >= 15:
                self.client.echo(
                    "3 x search_count",
                    s1 + s2 + s3,
                    note=f"  [{elapsed:6.1f} s] {state}",
                )
                shown, last_shown = state, elapsed
            if not pending and (sent == len(move_ids) or not queued):
                print(f"statements: done in {elapsed:.0f} s after posting", flush=True)
                break
            if time.monotonic() > deadline:
                print(
                    f"statements: not done after {self.args.send_timeout} s "
                    "(reported, not a failure)",
                    flush=True,
                )
                break
            time.sleep(2)
        self.figures["statements"] = state

    def month_end(self):
        batch = self.upload()
        batch = self.invoice(batch)
        move_ids = self.post(batch)
        self.statements(move_ids)


def failed(batch):
    """A failure the background work reports on the batch."""
    return any(
        value
        for name, value in batch.items()
        if "error" in name and not name.endswith("_count")
    )


def describe(batch):
    parts = [batch["state"]]
    if batch.get("job_step"):
        parts.append(str(batch["job_step"]))
    if batch.get("progress_total"):
        parts.append(f"{batch.get('progress_done') or 0}/{batch['progress_total']}")
    parts.extend(
        f"{name}={value:.1f}" if isinstance(value, float) else f"{name}={value}"
        for name, value in batch.items()
        if name not in BATCH_FIELDS and name != "id" and value not in (False, None)
    )
    parts.append(
        f"rows {batch.get('line_count', 0)} (errors {batch.get('error_count', 0)}, "
        f"duplicates {batch.get('duplicate_count', 0)}), "
        f"invoices {batch.get('invoice_count', 0)}"
    )
    return "  ".join(parts)


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------


class LogScan:
    """What the servers' logs say, each from its offset: ``logs`` is a list
    of (log file, offset)."""

    def __init__(self, logs):
        lines = []
        self.server_of = {}  # pid: index of its server (1, 2, ...)
        for index, (log_file, offset) in enumerate(logs, 1):
            try:
                with open(log_file, encoding="utf-8", errors="replace") as log:
                    log.seek(offset)
                    text = log.read().splitlines()
            except OSError:
                text = []
            for line in text:
                match = LOG_LINE.match(line)
                if match:
                    self.server_of.setdefault(int(match["pid"]), index)
            lines += text
        self.kills, self.warnings, self.errors = [], [], []
        # queue_job: each /queue_job/runjob request (pid, start, end, status,
        # uuid), the failed jobs' tracebacks, the jobs put back in the queue,
        # the requests for a job another worker had taken, where the job
        # runner is active (pids).
        self.job_requests = []
        self.job_failures = []
        self.requeued = []
        self.refused = []
        self.runner_ready = []
        self.runner_not_started = []
        self.gevent_serving = []  # pids of gevent processes that started serving
        self.kinds = {}  # pid: WorkerHTTP / WorkerCron
        # job: [(pid, start, end)] of each run of its server action, and of
        # each pass (a worker's start to completed, up to 10 runs); epochs
        self.runs = defaultdict(list)
        self.passes = defaultdict(list)
        self.unfinished = defaultdict(list)  # job: [(pid, start)] never completed
        self.records = defaultdict(int)  # job: records reported done
        self.tracebacks = sum(line.startswith("Traceback") for line in lines)
        started = {}
        last_error = None
        for line in lines:
            match = LOG_LINE.match(line)
            if match:
                last_error = self.read_line(match, line, started)
            elif last_error is not None and line and not line.startswith(" "):
                last_error[1] = line  # the exception closing a traceback
            for label, pattern in KILLS:
                if pattern.search(line):
                    self.kills.append((label, line))
                    break
            else:
                for label, pattern in WARNINGS:
                    if pattern.search(line):
                        self.warnings.append((label, line))
                        break
        for (pid, _job), (name, start, _run_start, _runs) in started.items():
            self.unfinished[name].append((pid, start))

    def end_pass(self, started, key, when):
        name, start, _run_start, _runs = started.pop(key)
        self.passes[name].append((key[0], start, when))

    def read_line(self, match, line, started):
        message = match["message"]
        when = epoch_of(match["time"])
        found = WORKER_ALIVE.search(message)
        if found:
            self.kinds[int(found["pid"])] = found["kind"]
        pid = int(match["pid"])
        if GEVENT_SERVING.search(message):
            self.gevent_serving.append(pid)
        # started: (pid, job id) -> [name, pass start, run start, runs]. A
        # pass ends with "completed" (done, or failed) or after its 10th run
        # (Odoo's MAX_BATCH_PER_CRON_JOB: work remains, the job is due again).
        found = JOB_EVENT.search(message)
        if found:
            key = (pid, found["id"])
            if found["event"] == "starting":
                current = started.setdefault(key, [found["name"], when, when, 0])
                current[2] = when
                current[3] += 1
            elif found["event"] == "completed" and key in started:
                self.end_pass(started, key, when)
        found = JOB_DONE.search(message)
        if found:
            key = (pid, found["id"])
            run_start = started[key][2] if key in started else when
            run_start = min(run_start, when - float(found["seconds"]))
            self.runs[found["name"]].append((pid, run_start, when))
        found = JOB_PROGRESS.search(message)
        if found:
            self.records[found["name"]] += int(found["done"])
            key = (pid, found["id"])
            if key in started and started[key][3] >= RUNS_PER_PASS:
                self.end_pass(started, key, when)
        self.read_queue_job(match, pid, when)
        if match["level"] in ("ERROR", "CRITICAL"):
            error = [line, None]
            self.errors.append(error)
            if match["logger"] == JOB_FAILED_LOGGER:
                self.job_failures.append(error)
            return error
        return None

    def read_queue_job(self, match, pid, when):
        message = match["message"]
        found = JOB_REQUEST.search(message)
        if found:
            seconds = float(found["sql"]) + float(found["other"])
            self.job_requests.append(
                (pid, when - seconds, when, int(found["status"]), found["uuid"])
            )
            return
        found = JOB_REQUEUED.search(message)
        if found:
            self.requeued.append((pid, found["uuid"]))
            return
        found = JOB_REFUSED.search(message)
        if found:
            self.refused.append((pid, found["uuid"]))
            return
        if RUNNER_READY.search(message):
            self.runner_ready.append(pid)
        elif RUNNER_NOT_STARTED.search(message):
            self.runner_not_started.append(pid)


def epoch_of(stamp):
    """The epoch of a log line's time (Odoo logs in UTC)."""
    moment = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
    return moment.replace(tzinfo=timezone.utc).timestamp()


def report_requests(run, client, args):
    print("\n== requests ==", flush=True)
    grouped = defaultdict(list)
    for label, seconds, error in client.timings:
        grouped[label].append((seconds, error))
    print(f"  {'request':<62} {'n':>4} {'max s':>8} {'total s':>8}")
    for label, entries in grouped.items():
        worst = max(seconds for seconds, _error in entries)
        total = sum(seconds for seconds, _error in entries)
        failed = sum(1 for _seconds, error in entries if error)
        flag = "  SLOW" if worst > args.request_limit else ""
        flag += f"  {failed} FAILED" if failed else ""
        print(f"  {label:<62} {len(entries):4d} {worst:8.2f} {total:8.1f}{flag}")
    for label, seconds, error in client.timings:
        if seconds > args.request_limit:
            run.fail(f"{label} took {seconds:.1f} s (limit {args.request_limit:g} s)")
        elif error and not any(error[:80] in failure for failure in run.failures):
            run.fail(f"{label} failed: {error[:200]}")


def report_log(run, scan, log_files, monitor):
    print(f"\n== server log ({', '.join(map(str, log_files))}) ==", flush=True)
    print(
        f"  {len(scan.kills)} worker kills or requests stopped at a limit, "
        f"{len(scan.warnings)} warnings, {len(scan.errors)} ERROR lines, "
        f"{scan.tracebacks} tracebacks"
    )
    for label, line in scan.kills:
        print(f"  KILL   {label}: {line[:300]}")
    for label, line in scan.warnings[:20]:
        print(f"  WARN   {label}: {line[:300]}")
    shown = defaultdict(int)
    for line, exception in scan.errors:
        message = LOG_LINE.match(line)
        key = (message["logger"], message["message"][:120]) if message else line
        shown[key] += 1
        if shown[key] <= 2:
            print(f"  ERROR  {line[:300]}")
            if exception:
                print(f"         -> {exception[:300]}")
    if scan.kills:
        run.fail(
            f"the server log shows {len(scan.kills)} worker kills or requests "
            "stopped at a limit"
        )
    report_queue_jobs(run, scan, monitor)
    report_jobs(scan, monitor)


def report_queue_jobs(run, scan, monitor):
    """queue_job: where its runner is active, the jobs each server ran (time,
    CPU, most at once), failed jobs, retries."""
    runners = sorted({scan.server_of.get(pid, 0) for pid in scan.runner_ready})
    print(
        "  queue_job: job runner active in server "
        + (", ".join(map(str, runners)) if runners else "NONE")
        + f"; {len(scan.job_requests)} job requests (/queue_job/runjob), "
        f"{len(scan.job_failures)} jobs failed, {len(scan.requeued)} retries "
        f"(Re-queued dead job), {len(scan.refused)} requests for a job already "
        f"taken or gone"
    )
    if scan.job_requests:
        print(
            f"    {'server':>6} {'jobs':>5} {'max s':>7} {'max CPU s':>9} "
            f"{'total s':>8} {'at once':>7} {'HTTP errors':>11}"
        )
    by_server = defaultdict(list)
    for request in scan.job_requests:
        by_server[scan.server_of.get(request[0], 0)].append(request)
    for index, requests in sorted(by_server.items()):
        longest = max(end - start for _pid, start, end, _s, _u in requests)
        cpus = [
            monitor.cpu_between(pid, start, end)
            for pid, start, end, _status, _uuid in requests
        ]
        cpus = [cpu for cpu in cpus if cpu is not None]
        cpu = f"{max(cpus):9.1f}" if cpus else f"{'?':>9}"
        total = sum(end - start for _pid, start, end, _s, _u in requests)
        errors = sum(1 for request in requests if request[3] >= 400)
        print(
            f"    {index:>6} {len(requests):5d} {longest:7.1f} {cpu} {total:8.1f} "
            f"{most_at_once(requests):7d} {errors:11d}"
        )
    for line, exception in scan.job_failures[:5]:
        print(f"  JOB FAILED  {line[:300]}")
        if exception:
            print(f"              -> {exception[:300]}")
    for pid, uuid in scan.requeued[:10]:
        print(
            f"  RETRY  server {scan.server_of.get(pid, '?')}: dead job {uuid} re-queued"
        )
    if scan.runner_not_started:
        run.fail("queue_job's job runner did not start (channel capacity 0)")
    elif not runners:
        run.fail(
            "queue_job's job runner never got ready (queue_job not loaded "
            "server-wide, or not installed in the database)"
        )
    if scan.job_failures:
        run.fail(f"{len(scan.job_failures)} queue_job jobs failed")


def most_at_once(spans):
    """The most spans (pid, start, end, ...) open at one moment."""
    events = sorted(
        [(span[1], 1) for span in spans] + [(span[2], -1) for span in spans],
        key=lambda event: (event[0], event[1]),
    )
    most = current = 0
    for _when, step in events:
        current += step
        most = max(most, current)
    return most


def report_jobs(scan, monitor):
    """The scheduled actions' runs and passes: real time and CPU time."""
    if not scan.runs:
        print("  no scheduled action ran")
        return
    print(
        "  scheduled actions: a run is one call of the job's server action; a "
        "pass, a worker's runs\n  of the job until 'completed' or its 10th run, "
        "must stay under 60 s of CPU and 120 s of real time:"
    )
    print(
        f"    {'job':<50} {'runs':>5} {'max run s':>10} {'CPU s':>6} "
        f"{'max pass s':>11} {'CPU s':>6} {'total s':>8}"
    )

    def worst(spans):
        """The longest span (real seconds) and the most CPU of any span."""
        longest = max((end - start for _pid, start, end in spans), default=0.0)
        cpus = [monitor.cpu_between(pid, start, end) for pid, start, end in spans]
        cpus = [cpu for cpu in cpus if cpu is not None]
        return longest, (f"{max(cpus):6.1f}" if cpus else f"{'?':>6}")

    def total(item):
        return sum(end - start for _pid, start, end in item[1])

    for name, runs in sorted(scan.runs.items(), key=total, reverse=True)[:15]:
        run_time, run_cpu = worst(runs)
        pass_time, pass_cpu = worst(scan.passes.get(name, []))
        records = scan.records.get(name)
        print(
            f"    {name[:50]:<50} {len(runs):5d} {run_time:10.1f} {run_cpu} "
            f"{pass_time:11.1f} {pass_cpu} {total((name, runs)):8.1f}"
            + (f"  ({records} done)" if records else "")
        )
    for name, spans in scan.unfinished.items():
        for pid, start in spans:
            print(
                f"    pass not completed (running when the check ended, or its "
                f"worker killed): {name}, worker {pid}, started "
                f"{datetime.fromtimestamp(start, timezone.utc):%H:%M:%S} UTC"
            )


def report_processes(run, scan, monitor, crashes):
    """The server processes' CPU and memory; ``crashes`` is
    :func:`output_tracebacks`."""
    print("\n== server processes (sampled every 0.5 s) ==", flush=True)
    print(
        f"  {'pid':>7} {'process':<16} {'CPU s':>8} {'peak RSS MB':>12} "
        f"{'peak VMS MB':>12}"
    )
    masters = run.figures.get("server_pids") or {}
    killed = {int(pid) for _l, line in scan.kills for pid in KILLED_PID.findall(line)}
    others = defaultdict(list)
    for pid, stat in sorted(monitor.stats.items()):
        kind = scan.kinds.get(pid) or (
            f"master {masters[pid]}" if pid in masters else None
        )
        if not kind:
            others[stat["name"]].append(stat)
            continue
        print(
            f"  {pid:7d} {kind:<16} {stat['cpu']:8.1f} {stat['rss'] / 2**20:12.0f} "
            f"{stat['vms'] / 2**20:12.0f}" + ("  hit a limit" if pid in killed else "")
        )
    for name, stats in sorted(others.items()):
        label = f"{len(stats)} x {name}"
        print(
            f"  {'':7} {label:<16} {sum(s['cpu'] for s in stats):8.1f} "
            f"{max(s['rss'] for s in stats) / 2**20:12.0f} "
            f"{max(s['vms'] for s in stats) / 2**20:12.0f}"
        )
    for output_file, tracebacks, last in crashes:
        if tracebacks:
            print(
                f"  the server's output ({output_file}) shows {tracebacks} tracebacks "
                f"outside the log (a process dying at start), the last: {last[:200]}"
            )


def output_tracebacks(outputs):
    """Per server: its output file (what its processes write outside the
    log, such as a gevent process dying at start), the tracebacks in it and
    its last line."""
    found = []
    for output_file, output_offset in outputs:
        try:
            with open(output_file, encoding="utf-8", errors="replace") as output:
                output.seek(output_offset)
                lines = output.read().splitlines()
        except OSError:
            lines = []
        crashes = sum(line.startswith("Traceback") for line in lines)
        last = next((line for line in reversed(lines) if line.strip()), "")
        found.append((output_file, crashes, last))
    return found


def report_bus(run, bus, scan, monitor, crashes):
    """gevent and the bus: each server's gevent process the same from the
    start to the end of the run (one pid, started once, nothing in the
    output: ``crashes`` is :func:`output_tracebacks`), every notification to
    ``admin`` on its websocket in time."""
    print(
        "\n== gevent and the bus (a websocket on each server's gevent port) ==",
        flush=True,
    )
    if bus is None:
        print("  not checked: the check stopped before it logged in")
        run.figures["bus"] = "not checked"
        return
    problems = list(bus.problems)
    start, end = bus.pids.get("start", {}), bus.pids.get("end", {})
    serving = defaultdict(list)
    for pid in scan.gevent_serving:
        serving[scan.server_of.get(pid, 0)].append(pid)
    listeners = {listener.server.index: listener for listener in bus.listeners}
    passes = []
    several = len(bus.deployment.servers) > 1
    for server, (output_file, tracebacks, last) in zip(
        bus.deployment.servers, crashes, strict=True
    ):
        index = server.index
        pids = start.get(index) or []
        same = len(pids) == 1 and end.get(index) == pids
        print(
            f"  server {index}: gevent pid {', '.join(map(str, pids)) or 'none'} "
            f"at the start, {', '.join(map(str, end.get(index) or [])) or 'none'} "
            f"at the end; started serving {len(serving[index])} time(s); "
            f"{tracebacks} tracebacks in {output_file.name}"
        )
        if not same:
            problems.append(
                f"server {index}: its gevent process was not the same from the "
                f"start to the end (pids {pids} then {end.get(index) or []})"
            )
        elif len(serving[index]) != 1:
            problems.append(
                f"server {index}: a gevent process started serving "
                f"{len(serving[index])} times (once expected)"
            )
        if tracebacks:
            problems.append(
                f"server {index}: {tracebacks} tracebacks in its output, the "
                f"last: {last[:200]}"
            )
        times, received = [], []
        for when, ping_server, seconds in bus.pings:
            if ping_server != index:
                continue
            received.append(seconds)
            if seconds is None:
                problems.append(
                    f"server {index}: the notification to {LOGIN} sent at the "
                    f"{when} did not reach its websocket within {BUS_TIMEOUT} s"
                )
            times.append(
                f"{when} " + ("not received" if seconds is None else f"{seconds:.2f} s")
            )
        listener = listeners.get(index)
        if listener:
            print(
                f"    websocket on port {server.gevent_port}: notification to "
                f"{LOGIN} {', '.join(times) or 'not sent'}; during the run "
                f"{listener.count(PROGRESS_CHANNEL)} progress notifications of "
                f"the batch ({PROGRESS_CHANNEL}), {listener.count(RUN_NOTIFICATION)} "
                f"to {LOGIN} ({RUN_NOTIFICATION})"
            )
            if same and received and None not in received:
                passes.append(
                    (f"server {index}: " if several else "")
                    + f"gevent pid {pids[0]} up from start to end, notification in "
                    + " / ".join(f"{seconds:.2f}" for seconds in received)
                    + " s"
                )
    seen = sum(1 for stat in monitor.stats.values() if stat["name"] == "gevent")
    expected = len(bus.deployment.servers)
    print(f"  gevent processes seen during the run: {seen} (one a server: {expected})")
    if seen > expected:
        problems.append(f"{seen} gevent processes where {expected} run: respawned")
    for problem in problems:
        run.fail(f"gevent/bus: {problem}")
    if problems:
        run.figures["bus"] = f"FAIL: {problems[0]}"
    else:
        run.figures["bus"] = "PASS: " + "; ".join(passes)
    print(f"  {run.figures['bus']}")


def report_summary(run, args):
    figures = run.figures
    print("\n== summary ==")
    checked = figures.get("batch_checked") or {}
    invoiced = figures.get("batch_invoiced") or {}
    print(f"  rows in the file             {args.rows}")
    if checked:
        print(
            f"  batch after upload           {checked.get('name')} "
            f"{checked['state']}: {checked.get('line_count')} rows, "
            f"{checked.get('ok_count')} billable, {checked.get('error_count')} "
            f"errors, {checked.get('duplicate_count')} duplicates"
        )
    if "checked" in figures:
        print(f"  upload click -> {checked['state']:<12}{figures['checked']:8.1f} s")
    if "invoicing" in figures:
        state = invoiced["state"]
        print(f"  create invoices -> {state:<9}{figures['invoicing']:8.1f} s")
        print(f"  upload click -> {state:<12}{figures['invoiced']:8.1f} s")
        print(
            f"  batch final state            {state}, "
            f"{invoiced.get('invoice_count')} invoices"
        )
    if "posting" in figures:
        print(
            f"  confirm -> posted            {figures['posting']:8.1f} s "
            f"({figures['posted']}/{figures['invoices']} posted)"
        )
        print(
            f"  upload click -> posted       {figures['all_posted']:8.1f} s "
            f"({figures['posted']}/{figures['invoices']} posted)"
        )
    if "statements" in figures:
        print(f"  statements                   {figures['statements']}")
    print(f"  e-mails received by the sink {run.smtp.messages}")
    if "bus" in figures:
        print(f"  gevent/bus                   {figures['bus']}")
    if run.failures:
        print(f"\nFAILED ({len(run.failures)}):")
        for failure in run.failures:
            print(f"  - {failure}")
    else:
        posted = ", posted" if "posting" in figures else ""
        print(
            f"\nOK: every request under the limit, invoiced{posted}, no worker "
            "killed, no job failed, the bus working"
        )


def report(run, client, deployment, args, bus):
    scan = LogScan(deployment.logs())
    report_requests(run, client, args)
    log_files = [log_file for log_file, _offset in deployment.logs()]
    report_log(run, scan, log_files, deployment.monitor)
    crashes = output_tracebacks(deployment.outputs())
    report_processes(run, scan, deployment.monitor, crashes)
    report_bus(run, bus, scan, deployment.monitor, crashes)
    report_summary(run, args)
    return scan


# ----------------------------------------------------------------------
# Scale-out: the month-end with more jobs at once, and more servers
# ----------------------------------------------------------------------


def configurations(args):
    """(servers, HTTP workers per server, channel capacity) to measure: one
    server per ``--scale`` capacity, then ``--servers`` servers sharing the
    largest one. Each server keeps one HTTP worker more than the jobs it
    gets at once (the proxy deals them out in turn), for the web client."""
    found = [(1, capacity + 1, capacity) for capacity in args.scale]
    if args.servers > 1:
        capacity = max(args.scale)
        found.append((args.servers, math.ceil(capacity / args.servers) + 1, capacity))
    return found


def invoice_lines(client, batch_id):
    count, _seconds = client.call(
        "account.move.line", "search_count",
        [[["move_id.ppu_import_id", "=", batch_id], ["display_type", "=", "product"]]],
        echo=False,
    )  # fmt: skip
    return count


def measure(odoo, cluster, args, work_dir, smtp, configuration):
    """One configuration of the scale-out: the month-end from a reset
    database to ``invoiced`` (and posted with ``--post``); its figures."""
    servers, workers, capacity = configuration
    file_path = prepare(odoo, cluster, args, work_dir)
    deployment = Deployment(odoo, cluster, args, smtp, servers, workers, capacity)
    label = deployment.describe()
    print(f"\n######## {label} ({JOB_CHANNEL}) ########", flush=True)
    result = {"label": label, "workers": workers, "capacity": capacity}
    result["servers"] = servers
    bus = None
    try:
        deployment.start()
        client = Client(deployment.base_url, args.request_limit)
        run = Run(client, args, file_path, smtp)
        run.figures["server_pids"] = deployment.masters()
        try:
            client.authenticate()
            bus = BusCheck(deployment, client)
            bus.start()
            batch = run.upload()
            batch = run.invoice(batch)
            result["lines"] = invoice_lines(client, batch["id"])
            if args.post:
                run.post(batch)
        except (Failure, RpcError) as error:
            run.fail(str(error))
        if bus:
            bus.finish()
        time.sleep(1)  # the last log lines
        scan = report(run, client, deployment, args, bus)
    finally:
        if bus:
            bus.stop()
        deployment.stop()
    figures = run.figures
    checked = figures.get("batch_checked") or {}
    result.update(
        rows=checked.get("line_count"),
        checked=figures.get("checked"),
        invoicing=figures.get("invoicing") if "lines" in result else None,
        posting=figures.get("posting"),
        invoices=figures.get("invoices"),
        jobs=len(scan.job_requests),
        failed=len(scan.job_failures),
        retries=len(scan.requeued),
        failures=run.failures,
    )
    if deployment.proxy:
        result["spread"] = deployment.proxy.connections
    return result


def rate(count, seconds):
    return count / seconds if count and seconds else None


def report_scale(results, args):
    print("\n== scale-out: the month-end by jobs at once and servers ==")
    print(
        "  checking: rows / (upload click -> checked); invoicing: invoice lines "
        'created / ("Create invoices"\n  click -> invoiced); ratio: to the '
        f"first configuration; capacity: {JOB_CHANNEL}'s. HTTP workers:\n  per "
        "server, one more than the jobs it runs at once, free for the web client."
    )
    head = (
        f"  {'configuration':<34} {'HTTP w.':>7} {'rows':>7} {'check s':>8} "
        f"{'rows/s':>7} {'ratio':>5} {'lines':>7} {'inv. s':>7} {'lines/s':>7} "
        f"{'ratio':>5} {'jobs':>5} {'failed':>6} {'retries':>7}"
    )
    if args.post:
        head += f" {'post s':>7}"
    print(head)
    base_check = base_invoice = None
    for result in results:
        check = rate(result["rows"], result["checked"])
        invoice = rate(result.get("lines"), result["invoicing"])
        base_check = base_check or check
        base_invoice = base_invoice or invoice

        def number(value, width, digits=0):
            return f"{value:{width}.{digits}f}" if value else f"{'-':>{width}}"

        line = (
            f"  {result['label']:<34} {result['workers']:7d} "
            f"{number(result['rows'], 7)} {number(result['checked'], 8, 1)} "
            f"{number(check, 7)} "
            f"{number(check and base_check and check / base_check, 5, 2)} "
            f"{number(result.get('lines'), 7)} {number(result['invoicing'], 7, 1)} "
            f"{number(invoice, 7)} "
            f"{number(invoice and base_invoice and invoice / base_invoice, 5, 2)} "
            f"{result['jobs']:5d} {result['failed']:6d} {result['retries']:7d}"
        )
        if args.post:
            line += f" {number(result['posting'], 7, 1)}"
        print(line)
    for result in results:
        if result.get("spread"):
            print(
                f"  {result['label']}: the proxy dealt "
                + " / ".join(map(str, result["spread"]))
                + " connections to the servers"
            )
    failures = [
        f"{result['label']}: {failure}"
        for result in results
        for failure in result["failures"]
    ]
    if failures:
        print(f"\nFAILED ({len(failures)}):")
        for failure in failures:
            print(f"  - {failure}")
    else:
        print(
            "\nOK: every configuration invoiced, no request over the limit, "
            "no worker killed, no job failed"
        )
    return 1 if failures else 0


# ----------------------------------------------------------------------


def capacities(text):
    values = [int(value) for value in text.split(",") if value.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a list of capacities >= 1, e.g. 1,2,4")
    return values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--resellers", type=int, default=500)
    parser.add_argument("--customers", type=int, default=20, help="per reseller")
    parser.add_argument(
        "--capacity",
        type=int,
        default=2,
        help=f"queue_job jobs at once in {JOB_CHANNEL} (2)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="HTTP workers per server (--capacity + 1: one free for the web client)",
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="Odoo servers sharing the database, behind a round-robin proxy (1); "
        "with --scale: one more configuration, with the largest capacity",
    )
    parser.add_argument(
        "--scale",
        type=capacities,
        help="measure the month-end to invoiced with these capacities, e.g. 1,2,4",
    )
    parser.add_argument(
        "--post", action="store_true", help="with --scale: post the invoices too"
    )
    parser.add_argument(
        "--max-cron-threads", type=int, default=2, help="cron workers (Odoo's 2)"
    )
    parser.add_argument(
        "--request-limit",
        type=float,
        default=5.0,
        help="seconds a request may take (5)",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=1800,
        help="seconds to wait for each background phase (1800)",
    )
    parser.add_argument(
        "--send-timeout",
        type=int,
        default=300,
        help="seconds to wait for the statements to be sent, 0: do not wait (300)",
    )
    parser.add_argument("--dir", help="cluster directory (reused when it has one)")
    parser.add_argument(
        "--update",
        action="store_true",
        help="update the addon of the database kept in --dir first",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the server running after the check, until Ctrl-C, and the dir",
    )
    args = parser.parse_args(argv)
    if args.capacity < 1 or args.servers < 1:
        parser.error("--capacity and --servers must be at least 1")
    workers = args.workers or math.ceil(args.capacity / args.servers) + 1
    if workers * args.servers <= args.capacity:
        print(
            f"note: {workers} HTTP workers per server for {args.capacity} jobs at "
            "once: the web client may wait for a worker busy with a job"
        )

    work_dir = Path(args.dir or tempfile.mkdtemp(prefix="ppu_prod_"))
    work_dir.mkdir(parents=True, exist_ok=True)
    # Odoo's filestore beside the cluster (install, setup and server alike):
    # runs at once never share one.
    os.environ["XDG_DATA_HOME"] = str(work_dir / "xdg")
    try:
        import odoo
    except ImportError:
        print("No check: 'import odoo' fails for this Python (see 'make install').")
        return 2
    # Ctrl-C and `kill` stop the check the same way, server and cluster too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    cluster = Cluster(work_dir)
    deployment = smtp = bus = None
    returncode = 2
    try:
        cluster.start(DB_NAME)
        smtp = SmtpSink()
        threading.Thread(target=smtp.serve_forever, daemon=True).start()
        if args.scale:
            results = []
            for configuration in configurations(args):
                results.append(
                    measure(odoo, cluster, args, work_dir, smtp, configuration)
                )
                args.update = False  # once is enough
            return report_scale(results, args)
        file_path = prepare(odoo, cluster, args, work_dir)
        deployment = Deployment(
            odoo, cluster, args, smtp, args.servers, workers, args.capacity
        )
        deployment.start()
        client = Client(deployment.base_url, args.request_limit)
        run = Run(client, args, file_path, smtp)
        run.figures["server_pids"] = deployment.masters()
        try:
            client.authenticate()
            bus = BusCheck(deployment, client)
            bus.start()
            run.month_end()
        except (Failure, RpcError) as error:
            run.fail(str(error))
        if bus:
            bus.finish()
        time.sleep(1)  # the last log lines
        report(run, client, deployment, args, bus)
        returncode = 1 if run.failures else 0
        if args.keep:
            print(
                f"\nOdoo serves {deployment.base_url} (admin/admin); Ctrl-C stops it."
            )
            deployment.servers[0].process.wait()
    except Failure as error:
        print(f"check not run: {error}")
    except KeyboardInterrupt:
        print("\ninterrupted")
        returncode = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
        if bus:
            bus.stop()
        if deployment:
            deployment.stop()
        if smtp:
            smtp.shutdown()
        try:
            cluster.stop()
        except subprocess.CalledProcessError:
            print(f"PostgreSQL did not stop cleanly: see {work_dir}/postgresql.log")
        if not args.keep and not args.dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    return returncode


if __name__ == "__main__":
    sys.exit(main())
