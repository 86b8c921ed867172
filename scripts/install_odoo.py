#!/usr/bin/env python3
"""Make Odoo 18 importable for this Python, when it is not (``make install``).

    python3 scripts/install_odoo.py [--src <path to an Odoo 18.0 tree>]

Does nothing when ``import odoo`` works already. Otherwise, with the tree of
``--src`` (``make install ODOO_SRC=...``) or else a shallow clone of the 18.0
branch of https://github.com/odoo/odoo into ``.odoo/`` of this repository:

1. as root on Debian, installs the Debian packages Odoo needs (wkhtmltopdf
   for PDF reports) and what its Python requirements need to build
   (compiler, libpq, LDAP/SASL, libxml2/libxslt, libjpeg headers);
2. installs Odoo's ``requirements.txt`` for this Python, except xlrd and
   openpyxl, whose pins pandas refuses on Python < 3.12 (this project's
   ``requirements.txt`` pins the versions Odoo itself uses on 3.12), and
   except python-ldap where Debian's LDAP/SASL headers are missing; with
   ``setuptools<70`` (a ``PIP_CONSTRAINT`` file) to build its older sdists;
3. installs the tree in editable mode (``pip install --no-deps -e``), as a
   path in a ``.pth`` file (``editable_mode=compat``): pip-installed OCA
   addons create a ``site-packages/odoo/addons`` namespace that would
   otherwise hide an editable Odoo from Python.

Then, wherever Odoo is importable (installed now or before), it brings
setuptools to ``RUNTIME_SETUPTOOLS`` (the ``setuptools<70`` of step 2 is for
building only: with it, a prefork server's gevent process, which serves the
websocket and the bus, dies at start and is respawned every few seconds) and
checks that gevent starts as that process starts it; it installs the OCA
addons that the addon depends on, pinned in ``requirements-odoo.txt`` (they
require the ``odoo`` distribution, which only an installed Odoo satisfies).
An Odoo 18.0 tree older than ``odoo.api.private`` (which queue_job uses) gets
it from ``scripts/odoo_api_private.py``, imported at start-up through a
``.pth`` file.

Without ``--src`` and without access to GitHub it prints one line and exits
0, so that the rest of ``make install`` goes on; a ``--src`` that is not an
Odoo 18.0 tree, or a failed step, exits 1.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLONE_DIR = REPO / ".odoo"
ODOO_GIT = "https://github.com/odoo/odoo"
BRANCH = "18.0"
# Odoo's own pins that this project replaces (see requirements.txt).
REPLACED = {"xlrd", "openpyxl"}
#: setuptools for running Odoo, once its requirements are built. gevent 22.10
#: (Odoo's pin for Python 3.11) imports pkg_resources, which checks the
#: requirements of gevent's plugins when Odoo's gevent process patches the
#: standard library: pkg_resources finds zope.interface and zope.event under
#: their wheels' names of today (zope_interface-8.7.dist-info) from setuptools
#: 75.8.2 only; from 80.9 it warns with a UserWarning, which Odoo logs (it
#: ignores the DeprecationWarning of the versions before); 82 has no
#: pkg_resources at all.
RUNTIME_SETUPTOOLS = "setuptools>=75.8.2,<80.9"
#: What Odoo's gevent process does first (odoo/__init__.py), where a
#: plugin's requirement that pkg_resources cannot find raises.
GEVENT_START = "import gevent.monkey; gevent.monkey.patch_all()"
LDAP_HEADERS = ("/usr/include/ldap.h", "/usr/include/sasl/sasl.h")
DEBIAN_PACKAGES = (
    "wkhtmltopdf",
    "libpq-dev",
    "build-essential",
    "python3-dev",
    "libldap2-dev",
    "libsasl2-dev",
    "libxml2-dev",
    "libxslt1-dev",
    "libjpeg-dev",
    "zlib1g-dev",
)


def requirement_name(line):
    """The normalised project name of a requirements.txt line, or None."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.split("#")[0])
    return re.sub(r"[-_.]+", "-", match[1]).lower() if match else None


def odoo_requirements(text, with_ldap):
    """Odoo's requirements.txt ``text`` without what this project replaces,
    and without python-ldap unless ``with_ldap``."""
    skipped = REPLACED | (set() if with_ldap else {"python-ldap"})
    return "".join(
        line + "\n"
        for line in text.splitlines()
        if requirement_name(line) not in skipped
    )


def odoo_version(tree):
    """The ``version_info[:2]`` of the Odoo tree, or None if it is not one."""
    release = Path(tree) / "odoo" / "release.py"
    try:
        text = release.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"^version_info\s*=\s*\((\d+),\s*(\d+)", text, re.M)
    return (int(match[1]), int(match[2])) if match else None


def runs(code):
    """Whether ``python -c code`` succeeds in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True)
    return done.returncode == 0


def importable():
    # a namespace ``odoo`` (made by OCA addons alone) is no Odoo
    return runs("import odoo; assert odoo.__file__")


def clone():
    """A shallow clone of Odoo 18.0 in CLONE_DIR (kept from an earlier run),
    or None when it cannot be cloned; says so on one line."""
    if odoo_version(CLONE_DIR) == (18, 0):
        return CLONE_DIR
    shutil.rmtree(CLONE_DIR, ignore_errors=True)
    print(
        f"Odoo 18: cloning {ODOO_GIT} ({BRANCH}) into .odoo/ ... ", end="", flush=True
    )
    try:
        done = subprocess.run(
            ["git", "-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=60",
             "clone", "--quiet", "--depth", "1", "--branch", BRANCH,
             ODOO_GIT, str(CLONE_DIR)],
            env=dict(os.environ, GIT_TERMINAL_PROMPT="0"),
            capture_output=True, text=True,
        )  # fmt: skip
        errors = done.stderr.strip().splitlines() if done.returncode else []
        reason = errors[-1].removeprefix("fatal: ") if errors else "git failed"
    except FileNotFoundError:
        done, reason = None, "git is not installed"
    if done is None or done.returncode:
        shutil.rmtree(CLONE_DIR, ignore_errors=True)
        print(
            f"failed ({reason}): Odoo not installed; run "
            "'make install ODOO_SRC=<path to an Odoo 18.0 tree>'."
        )
        return None
    print("done.")
    return CLONE_DIR


def debian_packages():
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("Install these Debian packages yourself: " + " ".join(DEBIAN_PACKAGES))
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-upgrade", *DEBIAN_PACKAGES],
        check=True,
        env=env,
    )


def pip_install(tree):
    with_ldap = all(Path(header).exists() for header in LDAP_HEADERS)
    if not with_ldap:
        print(
            "python-ldap skipped: Debian's libldap2-dev and libsasl2-dev are missing."
        )
    with tempfile.TemporaryDirectory(prefix="install_odoo_") as tmp:
        requirements = Path(tmp) / "odoo-requirements.txt"
        requirements.write_text(
            odoo_requirements(
                (tree / "requirements.txt").read_text(encoding="utf-8"), with_ldap
            )
        )
        # Also read by pip in the isolated environments where sdists build.
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("setuptools<70\n")
        given = os.environ.get("PIP_CONSTRAINT", "")
        env = dict(os.environ, PIP_CONSTRAINT=f"{given} {constraints}".strip())
        pip = [sys.executable, "-m", "pip", "install", "-q"]
        subprocess.run(
            [*pip, "-r", str(requirements), "-r", str(REPO / "requirements.txt")],
            check=True,
            env=env,
        )
        subprocess.run(
            [*pip, "--no-deps", "--config-settings", "editable_mode=compat",
             "-e", str(tree)],
            check=True, env=env,
        )  # fmt: skip


def runtime_setuptools():
    """Bring setuptools to RUNTIME_SETUPTOOLS, without the build's cap (pip
    does nothing when it is there already)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", RUNTIME_SETUPTOOLS],
        check=True,
    )


def gevent_starts():
    """Whether gevent patches the standard library in a fresh interpreter
    as Odoo's gevent process does; prints why not."""
    done = subprocess.run(
        [sys.executable, "-c", GEVENT_START], capture_output=True, text=True
    )
    if done.returncode:
        errors = done.stderr.strip().splitlines()
        print(
            "Odoo's gevent process (websocket, bus) would not start: "
            + (errors[-1] if errors else f"exit {done.returncode}")
        )
    return done.returncode == 0


def oca_addons():
    """Install the pinned OCA addons (queue_job) for this Python."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "-r",
         str(REPO / "requirements-odoo.txt")],
        check=True,
    )  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", help="an Odoo 18.0 source tree (ODOO_SRC)")
    args = parser.parse_args(argv)
    if importable():
        return install_runtime()
    if args.src:
        tree = Path(args.src).expanduser().resolve()
        if odoo_version(tree) != (18, 0):
            print(f"ODOO_SRC={args.src} is not an Odoo 18.0 source tree.")
            return 1
    else:
        tree = clone()
        if tree is None:
            return 0
    try:
        debian_packages()
        pip_install(tree)
    except subprocess.CalledProcessError as error:
        print(f"Installing Odoo from {tree} failed: {error}")
        return 1
    if not importable():
        print(f"Installed Odoo from {tree}, yet 'import odoo' still fails.")
        return 1
    print(f"Odoo {BRANCH} installed from {tree} for {sys.executable}.")
    return install_runtime()


def has_api_private():
    return runs("import odoo.api; odoo.api.private")


def add_api_private():
    """Give an older Odoo 18.0 ``odoo.api.private`` (see its module)."""
    site = Path(sysconfig.get_paths()["purelib"])
    shutil.copy(REPO / "scripts" / "odoo_api_private.py", site)
    (site / "odoo_api_private.pth").write_text("import odoo_api_private\n")
    print("This Odoo 18.0 tree predates odoo.api.private: added for queue_job.")


def install_runtime():
    """What an importable Odoo needs beyond its requirements to run here."""
    try:
        runtime_setuptools()
    except subprocess.CalledProcessError as error:
        print(f"Installing {RUNTIME_SETUPTOOLS} failed: {error}")
        return 1
    try:
        oca_addons()
    except subprocess.CalledProcessError as error:
        print(f"Installing the OCA addons failed: {error}")
        return 1
    if not has_api_private():
        add_api_private()
    if not importable():
        print("Installing the OCA addons made 'import odoo' fail.")
        return 1
    return 0 if gevent_starts() else 1


if __name__ == "__main__":
    sys.exit(main())
