"""One check of a deployment: logged in as ``admin`` with the bus
listening, the month-end (or part of it) over HTTP, then the report."""

import contextlib
import signal
import time

from ppu_tools.month_data import DB_NAME
from ppu_tools.production import LOGIN, PASSWORD, Failure
from ppu_tools.production.bus import BusCheck
from ppu_tools.production.month_end import Run
from ppu_tools.production.report import report
from ppu_tools.rpc import Client, RpcError


@contextlib.contextmanager
def deployed(deployment):
    """The deployment started, stopped at the end; a Ctrl-C cannot
    interrupt the stopping (the next deployment of a scale-out hears it
    again)."""
    try:
        deployment.start()
        yield deployment
    finally:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            deployment.stop()
        finally:
            signal.signal(signal.SIGINT, previous)


def check(deployment, args, file_path, smtp, steps):
    """Log in to the started ``deployment``, listen to the bus, run
    ``steps(run)`` (a failure ends them), report; return the run and the
    log scan."""
    client = Client(deployment.base_url, args.request_limit)
    run = Run(client, args, file_path, smtp)
    run.figures["server_pids"] = deployment.masters()
    bus = None
    try:
        try:
            client.authenticate(DB_NAME, LOGIN, PASSWORD)
            bus = BusCheck(deployment, client)
            bus.start()
            steps(run)
        except (Failure, RpcError) as error:
            run.fail(str(error))
        if bus:
            bus.finish()
        time.sleep(1)  # the last log lines
        scan = report(run, client, deployment, args, bus)
    finally:
        if bus:
            bus.stop()
    return run, scan
