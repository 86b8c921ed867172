"""Odoo as production runs it: prefork servers sharing the database, each
with its HTTP workers, cron workers and gevent process, OCA queue_job loaded
server-wide, and with several servers a round-robin proxy in front."""

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import threading
import time

from ppu_tools import REPO
from ppu_tools.cluster import free_port
from ppu_tools.monitor import Monitor
from ppu_tools.month_data import DB_NAME
from ppu_tools.odoo_cli import odoo_command, tail
from ppu_tools.production import Failure
from ppu_tools.server import (
    HOST,
    PREFORK,
    SERVER_WIDE_MODULES,
    odoo_bin,
    queue_job_channels,
    stop,
    wait_answer,
    write_config,
)


def start_server(odoo, cluster, args, server, smtp, output):
    """Start one Odoo server (``server``: its port, workers, log file and
    configuration file)."""
    cmd = odoo_command(
        odoo, cluster, DB_NAME, f"--config={server.config}",
        f"--data-dir={odoo.tools.config['data_dir']}", "--no-database-list",
        f"--http-interface={HOST}", f"--http-port={server.port}",
        f"--gevent-port={server.gevent_port}", f"--load={SERVER_WIDE_MODULES}",
        f"--workers={server.workers}",
        f"--max-cron-threads={args.max_cron_threads}",
        f"--smtp={HOST}", f"--smtp-port={smtp.port}",
        f"--logfile={server.log_file}", program=odoo_bin(odoo),
    )  # fmt: skip
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
            work_dir / "production_check.conf",
            capacity,
            self.proxy.port if self.proxy else None,
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
                stop(server.process, PREFORK, group=True)
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


def wait_ready(server, base_url, log_file, timeout=180):
    """Wait until the server answers, then warm its workers up."""
    if not wait_answer(server, base_url + "/web/health", timeout, request_timeout=5):
        if server.poll() is not None:
            raise Failure(f"Odoo exited ({server.returncode}):\n{tail(log_file)}")
        raise Failure(f"Odoo did not answer in {timeout} s:\n{tail(log_file)}")
    warm_up(base_url)


def warm_up(base_url):
    """Every HTTP worker loads the registry on its first request: warm them
    all up (concurrent requests spread over them), untimed."""
    import requests

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
