"""A served Odoo: queue_job's channels and configuration, how to start
Odoo, waiting until it answers, stopping it."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

#: A served Odoo runs the month-end through OCA queue_job: its job runner
#: (a thread of the main process) needs the module loaded server-wide and a
#: capacity for the channel of the addon's jobs (data/queue_job_data.xml).
SERVER_WIDE_MODULES = "base,web,queue_job"
JOB_CHANNEL = "root.sophos_ppu"
HOST = "127.0.0.1"


def queue_job_channels(capacity):
    """queue_job's ``channels`` setting (``[queue_job] channels`` or
    ``ODOO_QUEUE_JOB_CHANNELS``): ``capacity`` jobs of the addon at once."""
    return f"root:{capacity},{JOB_CHANNEL}:{capacity}"


def write_config(path, capacity, proxy_port=None):
    """A configuration file: nothing in ``[options]`` (so that ~/.odoorc
    cannot change the limits), queue_job's channels, and where its job runner
    sends the jobs when a proxy is in front of the servers."""
    text = f"[options]\n\n[queue_job]\nchannels = {queue_job_channels(capacity)}\n"
    if proxy_port:
        text += f"host = {HOST}\nport = {proxy_port}\n"
    path.write_text(text, encoding="utf-8")
    return path


def interrupt_on_signals():
    """Ctrl-C (even where a shell started this with SIGINT ignored) and
    `kill` interrupt this script the same way (KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def odoo_bin(odoo):
    """How to start Odoo: the prefork server respawns its gevent process as
    ``sys.argv[0]``, which ``python -m odoo`` cannot be."""
    script = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
    if not script.exists():
        script = shutil.which("odoo")
    if not script:
        return [sys.executable, "-m", "odoo"]
    return [sys.executable, str(script)]


def http_status(url, timeout=30):
    """The HTTP status ``url`` answers with; None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_answer(process, url, timeout=None, request_timeout=30):
    """Wait until ``url`` answers 200: True; False when ``process`` exited
    first or ``timeout`` seconds passed."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if http_status(url, request_timeout) == 200:
            return True
        time.sleep(0.5)
    return False


#: Stopping Odoo started in a terminal: Ctrl-C has reached it already.
AFTER_CTRL_C = ((None, 10), (signal.SIGTERM, 10), (signal.SIGKILL, 10))
#: Stopping a prefork server: once gracefully (workers finish their request,
#: up to 120 s), then forced, then killed.
PREFORK = ((signal.SIGTERM, 15), (signal.SIGTERM, 10), (signal.SIGKILL, 10))


def stop(process, steps=AFTER_CTRL_C, group=False):
    """Stop ``process`` (with ``group``, its whole process group): each of
    ``steps`` sends its signal (None: none) and waits its seconds for the
    process to exit."""
    if process.poll() is not None:
        return
    for sig, wait in steps:
        try:
            if sig and group:
                os.killpg(process.pid, sig)
            elif sig:
                process.send_signal(sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            pass
    if group:
        with contextlib.suppress(ProcessLookupError):  # workers left by the master
            os.killpg(process.pid, signal.SIGKILL)
