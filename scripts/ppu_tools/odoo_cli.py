"""Odoo's command line against a :class:`~ppu_tools.cluster.Cluster`: the
addons path, its options, a command, installing or updating the addon, the
registry in this process, and the format of Odoo's log."""

import os
import re
import subprocess
import sys
from pathlib import Path

from ppu_tools import ADDON, REPO
from ppu_tools.cluster import DB_USER

#: A line (or a record) of Odoo's log: time, pid, level, database, logger,
#: message (to the record's end).
LOG_RE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) (?P<pid>\d+) (?P<level>[A-Z]+) "
    r"(?P<db>\S+) (?P<logger>\S+): (?P<message>.*)",
    re.DOTALL,
)


def import_odoo(missing):
    """Odoo's package; None, after printing ``missing``, where ``import
    odoo`` fails."""
    try:
        import odoo
    except ImportError:
        print(missing)
        return None
    return odoo


def addons_path(odoo):
    """Odoo's addons and the repository (which holds the addon)."""
    root = Path(odoo.__file__).resolve().parent
    paths = [root / "addons", root.parent / "addons", REPO]
    return ",".join(str(path) for path in paths if path.is_dir())


def odoo_options(odoo, cluster, db_name, *options, addons=None):
    """Odoo's options for database ``db_name`` of ``cluster`` (and no
    other), its addons (``addons``, else :func:`addons_path`), then
    ``options``."""
    return [
        f"--addons-path={addons or addons_path(odoo)}",
        *cluster.odoo_options(),
        f"--database={db_name}",
        f"--db-filter=^{db_name}$",
        *options,
    ]


def odoo_command(odoo, cluster, db_name, *options, program=None):
    """``python -m odoo`` (or ``program``) with :func:`odoo_options`."""
    return [
        *(program or [sys.executable, "-m", "odoo"]),
        *odoo_options(odoo, cluster, db_name, *options),
    ]


def install(odoo, cluster, db_name, modules=ADDON, update=False):
    """Install ``modules`` (or update them in a kept database: their code may
    have changed since) and stop; fail loudly if Odoo fails."""
    cmd = odoo_command(
        odoo, cluster, db_name, "--without-demo=all",
        "--stop-after-init", "--log-level=warn", "-u" if update else "-i", modules,
    )  # fmt: skip
    subprocess.run(cmd, check=True)


def open_registry(odoo, cluster, db_name):
    """The registry of ``db_name`` in this process, served by ``cluster``."""
    config = odoo.tools.config
    config["addons_path"] = addons_path(odoo)
    config["db_host"] = str(cluster.socket_dir)
    config["db_port"] = cluster.port
    config["db_user"] = DB_USER
    odoo.modules.module.initialize_sys_path()
    return odoo.modules.registry.Registry(db_name)


def run_logged(cmd, log_file, cwd=REPO):
    """Run ``cmd`` with its output (unbuffered) in ``log_file``; return its
    status and the lines of the log."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_file, "w", encoding="utf-8") as log:
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    text = Path(log_file).read_text(encoding="utf-8", errors="replace")
    return proc.returncode, text.splitlines()


def error_records(lines):
    """The ERROR and CRITICAL records of Odoo's log (tracebacks included)."""
    return [
        record
        for record in log_records(lines)
        if LOG_RE.match(record)["level"] in ("ERROR", "CRITICAL")
    ]


def log_records(lines):
    """Odoo's log as records: a line with the log prefix and the lines after
    it without one (a multi-line query, a traceback)."""
    records = []
    for line in lines:
        if LOG_RE.match(line):
            records.append(line)
        elif records:
            records[-1] += "\n" + line
    return records


def tail(path, lines=30):
    """The last ``lines`` lines of a log file ("" if it cannot be read)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
