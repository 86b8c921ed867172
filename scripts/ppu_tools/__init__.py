"""What the scripts of ``scripts/`` share: one module per job.

A script run as ``python3 scripts/<name>.py`` has ``scripts/`` on its path,
so ``from ppu_tools import cluster`` works without touching ``sys.path``.

========================  ====================================================
``cluster``               a throwaway PostgreSQL cluster and work directory
``odoo_cli``              Odoo's command line: addons path, install, registry,
                          its log format
``server``                a served Odoo: queue_job's channels, start, wait,
                          stop
``options``               the command-line options the scripts share
``month_data``            the benchmarks' resellers, subscriptions and file
``jobs``                  queue_job jobs run in this process, timing helpers
``rpc``                   JSON-RPC as the web client speaks it
``smtp_sink``             an SMTP server that accepts and counts e-mails
``monitor``               CPU and memory of a server's processes
``log_scan``              what a served Odoo's log says
``production``            the parts of ``production_check.py``
========================  ====================================================

Importing this package puts the repository on ``sys.path`` (once, here) so
that the scripts import the addon's plain-Python core, ``sophos_ppu.core``,
where it is not installed; :func:`test_helper` loads a helper module of the
core's pytest suite by its path.
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
