"""What a served Odoo's log says: workers killed at a limit, warnings,
errors, queue_job's job requests, the scheduled actions' runs."""

import re
from collections import defaultdict
from datetime import datetime, timezone

from ppu_tools.odoo_cli import LOG_RE

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


class LogScan:
    """What the servers' logs say, each from its offset: ``logs`` is a list
    of (log file, offset)."""

    def __init__(self, logs):
        lines = []
        self.server_of = {}  # pid: index of its server (1, 2, ...)
        for index, (log_file, offset) in enumerate(logs, 1):
            text = lines_from(log_file, offset)
            for line in text:
                match = LOG_RE.match(line)
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
            match = LOG_RE.match(line)
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


def lines_from(path, offset):
    """The lines of a file from byte ``offset`` on (none if it cannot be
    read)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            file.seek(offset)
            return file.read().splitlines()
    except OSError:
        return []


def epoch_of(stamp):
    """The epoch of a log line's time (Odoo logs in UTC)."""
    moment = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
    return moment.replace(tzinfo=timezone.utc).timestamp()
