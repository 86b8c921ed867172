"""A throwaway PostgreSQL cluster (Debian's server binaries) and the work
directory that holds it."""

import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

DB_USER = "odoo"
PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_tool(name):
    for bin_dir in PG_BIN_DIRS:
        if (bin_dir / name).exists():
            return str(bin_dir / name)
    found = shutil.which(name)
    if not found:
        sys.exit(f"PostgreSQL server binary '{name}' not found: run 'make install'.")
    return found


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres_user():
    """PostgreSQL refuses to run as root: drop to the 'postgres' account."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam("postgres")

    def demote():
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    return {"preexec_fn": demote, "owner": account}


class Cluster:
    """A private PostgreSQL cluster listening on a unix socket and a free port.

    As a context manager it is started on entry and stopped on exit."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.data = self.directory / "pgdata"
        self.socket_dir = self.directory / "socket"
        self.port = free_port()
        self.user = as_postgres_user()

    def _run(self, *cmd):
        preexec = self.user.get("preexec_fn")
        subprocess.run(cmd, check=True, preexec_fn=preexec, stdout=subprocess.DEVNULL)

    @property
    def exists(self):
        return (self.data / "PG_VERSION").exists()

    @property
    def running(self):
        return (self.data / "postmaster.pid").exists()

    def start(self, db_name=None):
        """Start the cluster; return whether database ``db_name`` exists already."""
        fresh = not self.exists
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            owner = self.user["owner"]
            for path in (self.directory, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        if fresh:
            self._run(
                pg_tool("initdb"), "-D", str(self.data), "-U", DB_USER,
                "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
            )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            pg_tool("pg_ctl"), "-D", str(self.data), "-o", options, "-w",
            "-l", str(self.directory / "postgresql.log"), "start",
        )  # fmt: skip
        return bool(db_name) and not fresh and self.has_database(db_name)

    def stop(self):
        self._run(pg_tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def shut_down(self):
        """Stop, at the end of a run: say so if PostgreSQL does not stop
        cleanly rather than fail."""
        try:
            self.stop()
        except subprocess.CalledProcessError:
            print(
                f"PostgreSQL did not stop cleanly: see {self.directory}/postgresql.log"
            )

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def client_options(self):
        """Where a client (psql, dropdb) finds the cluster."""
        return ["-h", str(self.socket_dir), "-p", str(self.port), "-U", DB_USER]

    def odoo_options(self):
        """Where Odoo finds the cluster (its command-line options)."""
        return [
            f"--db_host={self.socket_dir}",
            f"--db_port={self.port}",
            f"--db_user={DB_USER}",
        ]

    def psql(self, db_name, *args, **kwargs):
        """Run ``psql`` on ``db_name`` (``args``: its options); return the
        completed process (``kwargs`` go to ``subprocess.run``)."""
        kwargs.setdefault("check", True)
        return subprocess.run(
            [pg_tool("psql"), *self.client_options(), "-d", db_name, *args], **kwargs
        )

    def has_database(self, db_name):
        query = f"SELECT 1 FROM pg_database WHERE datname = '{db_name}'"
        found = self.psql(
            "postgres", "-Atc", query, capture_output=True, text=True
        ).stdout
        return found.strip() == "1"

    def drop_database(self, db_name, check=True):
        subprocess.run(
            [pg_tool("dropdb"), *self.client_options(), "--if-exists", db_name],
            check=check,
        )
