"""CPU time and peak memory of a server's processes, sampled."""

import contextlib
import threading
import time
from collections import defaultdict
from pathlib import Path


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
