"""What the production check prints at its end: the requests, the server
log, the processes, gevent and the bus, a summary."""

from collections import defaultdict
from datetime import datetime, timezone

from ppu_tools.log_scan import KILLED_PID, LogScan, lines_from
from ppu_tools.odoo_cli import LOG_RE
from ppu_tools.production import LOGIN
from ppu_tools.production.bus import (
    BUS_TIMEOUT,
    PROGRESS_CHANNEL,
    RUN_NOTIFICATION,
)


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
        message = LOG_RE.match(line)
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
        lines = lines_from(output_file, output_offset)
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
    serving = defaultdict(list)
    for pid in scan.gevent_serving:
        serving[scan.server_of.get(pid, 0)].append(pid)
    passes = []
    for server, crash in zip(bus.deployment.servers, crashes, strict=True):
        passed = report_server_bus(bus, server, crash, serving[server.index], problems)
        if passed:
            several = len(bus.deployment.servers) > 1
            passes.append((f"server {server.index}: " if several else "") + passed)
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


def report_server_bus(bus, server, crash, serving, problems):
    """One server's gevent process and websocket; add what is wrong to
    ``problems``; return what passed, if all did."""
    index = server.index
    output_file, tracebacks, last = crash
    pids = bus.pids.get("start", {}).get(index) or []
    end = bus.pids.get("end", {}).get(index) or []
    same = len(pids) == 1 and end == pids
    print(
        f"  server {index}: gevent pid {', '.join(map(str, pids)) or 'none'} "
        f"at the start, {', '.join(map(str, end)) or 'none'} "
        f"at the end; started serving {len(serving)} time(s); "
        f"{tracebacks} tracebacks in {output_file.name}"
    )
    if not same:
        problems.append(
            f"server {index}: its gevent process was not the same from the "
            f"start to the end (pids {pids} then {end})"
        )
    elif len(serving) != 1:
        problems.append(
            f"server {index}: a gevent process started serving "
            f"{len(serving)} times (once expected)"
        )
    if tracebacks:
        problems.append(
            f"server {index}: {tracebacks} tracebacks in its output, the "
            f"last: {last[:200]}"
        )
    listener = next((lst for lst in bus.listeners if lst.server.index == index), None)
    if not listener:
        return None
    times, received = ping_times(bus, index, problems)
    print(
        f"    websocket on port {server.gevent_port}: notification to "
        f"{LOGIN} {', '.join(times) or 'not sent'}; during the run "
        f"{listener.count(PROGRESS_CHANNEL)} progress notifications of "
        f"the batch ({PROGRESS_CHANNEL}), {listener.count(RUN_NOTIFICATION)} "
        f"to {LOGIN} ({RUN_NOTIFICATION})"
    )
    if same and received and None not in received:
        return (
            f"gevent pid {pids[0]} up from start to end, notification in "
            + " / ".join(f"{seconds:.2f}" for seconds in received)
            + " s"
        )
    return None


def ping_times(bus, index, problems):
    """The notifications to ``admin`` on server ``index``'s websocket: how
    they are shown, and their seconds (None: not received)."""
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
    return times, received


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
