"""What ``make install`` takes from Odoo's requirements (scripts/install_odoo.py)."""

import os
import subprocess
import sys
from pathlib import Path

from packaging.specifiers import SpecifierSet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import install_odoo  # noqa: E402
from install_odoo import (  # noqa: E402
    GEVENT_START,
    REPO,
    RUNTIME_SETUPTOOLS,
    odoo_requirements,
    odoo_version,
)

ODOO_REQUIREMENTS = """\
# The officially supported versions
Babel==2.10.3 ; python_version >= '3.11'
openpyxl==3.0.9 ; python_version < '3.12'
python-ldap==3.4.0 ; sys_platform != 'win32' and python_version < '3.12' # min
psycopg2==2.9.5 ; python_version == '3.11'
pytz  # no version pinning
xlrd==1.2.0 ; python_version < '3.12'  # (jammy)
XlsxWriter==3.0.2 ; python_version < '3.12'  # (jammy)
"""


def test_ours_replace_odoos_xlrd_and_openpyxl_pins():
    kept = odoo_requirements(ODOO_REQUIREMENTS, with_ldap=True).splitlines()
    assert kept == [
        "# The officially supported versions",
        "Babel==2.10.3 ; python_version >= '3.11'",
        "python-ldap==3.4.0 ; sys_platform != 'win32' and python_version < '3.12' "
        "# min",
        "psycopg2==2.9.5 ; python_version == '3.11'",
        "pytz  # no version pinning",
        "XlsxWriter==3.0.2 ; python_version < '3.12'  # (jammy)",
    ]


def test_python_ldap_is_left_out_without_its_headers():
    kept = odoo_requirements(ODOO_REQUIREMENTS, with_ldap=False)
    assert "python-ldap" not in kept
    assert "psycopg2==2.9.5" in kept


def test_only_an_odoo_tree_has_a_version(tmp_path):
    assert odoo_version(tmp_path) is None
    (tmp_path / "odoo").mkdir()
    (tmp_path / "odoo" / "release.py").write_text(
        "RELEASE_LEVELS = []\nversion_info = (18, 0, 0, FINAL, 0, '')\n"
    )
    assert odoo_version(tmp_path) == (18, 0)


class FakeRun:
    """Stands for subprocess.run: records each command with the setuptools
    cap that pip reads from PIP_CONSTRAINT then; Odoo importable once pip
    installed the tree (``importable_after``: that many checks fail)."""

    def __init__(self, importable_after=0):
        self.commands = []
        self.failing_checks = importable_after

    def __call__(self, args, env=None, **kwargs):
        files = (env or os.environ).get("PIP_CONSTRAINT", "").split()
        cap = " ".join(Path(name).read_text().strip() for name in files)
        self.commands.append((args, cap))
        returncode = 0
        if args[1:] == ["-c", "import odoo; assert odoo.__file__"]:
            returncode = 1 if self.failing_checks else 0
            self.failing_checks = max(self.failing_checks - 1, 0)
        return subprocess.CompletedProcess(args, returncode, "", "")

    def pip(self):
        """(command, cap) of each pip install, in turn."""
        return [
            (args, cap)
            for args, cap in self.commands
            if args[1:4] == ["-m", "pip", "install"]
        ]


def an_odoo_tree(path):
    (path / "odoo").mkdir()
    (path / "odoo" / "release.py").write_text("version_info = (18, 0, 0)\n")
    (path / "requirements.txt").write_text("gevent==22.10.2\n")
    return path


def test_odoo_is_built_with_setuptools_below_70_and_runs_with_a_newer_one(
    tmp_path, monkeypatch
):
    run = FakeRun(importable_after=1)
    monkeypatch.setattr(install_odoo.subprocess, "run", run)
    monkeypatch.setattr(install_odoo, "debian_packages", lambda: None)
    monkeypatch.delenv("PIP_CONSTRAINT", raising=False)
    tree = an_odoo_tree(tmp_path)
    assert install_odoo.main(["--src", str(tree)]) == 0
    assert [(args[-1], cap) for args, cap in run.pip()] == [
        (str(REPO / "requirements.txt"), "setuptools<70"),  # and Odoo's
        (str(tree), "setuptools<70"),
        (RUNTIME_SETUPTOOLS, ""),
        (str(REPO / "requirements-odoo.txt"), ""),
    ]
    assert run.commands[-1][0] == [sys.executable, "-c", GEVENT_START]


def test_an_odoo_installed_before_gets_the_setuptools_its_gevent_needs(
    monkeypatch,
):
    run = FakeRun()
    monkeypatch.setattr(install_odoo.subprocess, "run", run)
    monkeypatch.delenv("PIP_CONSTRAINT", raising=False)
    assert install_odoo.main([]) == 0
    assert [(args[-1], cap) for args, cap in run.pip()] == [
        (RUNTIME_SETUPTOOLS, ""),
        (str(REPO / "requirements-odoo.txt"), ""),
    ]
    assert run.commands[-1][0] == [sys.executable, "-c", GEVENT_START]


def test_gevent_not_starting_fails_the_install(monkeypatch, capsys):
    def run(args, **kwargs):
        failed = args[1:] == ["-c", GEVENT_START]
        stderr = "pkg_resources.DistributionNotFound: zope.interface" if failed else ""
        return subprocess.CompletedProcess(args, int(failed), "", stderr)

    monkeypatch.setattr(install_odoo.subprocess, "run", run)
    assert install_odoo.main([]) == 1
    assert capsys.readouterr().out == (
        "Odoo's gevent process (websocket, bus) would not start: "
        "pkg_resources.DistributionNotFound: zope.interface\n"
    )


def test_runtime_setuptools_finds_todays_zope_wheels_without_a_logged_warning():
    allowed = SpecifierSet(RUNTIME_SETUPTOOLS.removeprefix("setuptools"))
    assert "75.8.1" not in allowed  # pkg_resources misses zope_interface-*
    assert "75.8.2" in allowed
    assert "80.8.0" in allowed
    assert "80.9.0" not in allowed  # a UserWarning, which Odoo logs
    assert "82.0.0" not in allowed  # no pkg_resources, which gevent 22.10 imports
