"""What the scripts of ``scripts/`` share: one module per job.

A script run as ``python3 scripts/<name>.py`` has ``scripts/`` on its path,
so ``from ppu_tools import cluster`` works without touching ``sys.path``.

========================  ====================================================
``cluster``               a throwaway PostgreSQL cluster
``odoo_cli``              Odoo's command line: addons path, install or update,
                          the registry in this process, its log format
``server``                a served Odoo: queue_job's channels, configuration,
                          start, wait until it answers, stop
``options``               the command-line options the benchmarks share
``sophos_file``           rows in Sophos's columns (the core's SOPHOS_HEADER)
``month_data``            the benchmarks' resellers, subscriptions and file
``bench``                 their database installed once, queue_job's jobs run
                          in this process, peak memory
``rpc``                   JSON-RPC as the web client speaks it
``smtp_sink``             an SMTP server that accepts and counts e-mails
``monitor``               CPU and memory of a server's processes, sampled
``log_scan``              what a served Odoo's log says
``production``            the parts of ``production_check.py``
``upgrade_scenario``      the file and the in-Odoo steps of ``upgrade_check.py``
========================  ====================================================

Here: :func:`work_dir`, a script's work directory (given and kept, or
temporary), and :func:`test_helper`, a helper module of the core's pytest
suite loaded by its path.

Importing this package puts the repository on ``sys.path`` (once, here) so
that the scripts import the addon's plain-Python core, ``sophos_ppu.core``,
where it is not installed.
"""

import contextlib
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ADDON = "sophos_ppu"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def test_helper(name):
    """The module ``tests/<name>.py`` of the core's pytest suite."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REPO / "tests" / f"{name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@contextlib.contextmanager
def work_dir(given, prefix, keep=False):
    """The directory ``given`` (created if missing, always kept), else a new
    temporary one, removed at the end unless ``keep``."""
    path = Path(given or tempfile.mkdtemp(prefix=prefix))
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    finally:
        if not (given or keep):
            shutil.rmtree(path, ignore_errors=True)
