"""``make demo`` (scripts/demo.py) points its database at the port it serves."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import demo  # noqa: E402
from ppu_tools.cluster import DB_USER, PG_BIN_DIRS, Cluster, pg_tool  # noqa: E402

HAS_POSTGRESQL = any((d / "initdb").exists() for d in PG_BIN_DIRS) or shutil.which(
    "initdb"
)


def psql(cluster, sql):
    return subprocess.run(
        [pg_tool("psql"), "-h", str(cluster.socket_dir), "-p", str(cluster.port),
         "-U", DB_USER, "-d", demo.DB_NAME, "-Atc", sql],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@pytest.mark.skipif(not HAS_POSTGRESQL, reason="no PostgreSQL server binaries")
def test_the_demo_database_links_to_the_port_it_serves():
    # Not pytest's tmp_path: PostgreSQL runs as 'postgres' when we are root,
    # and cannot enter it.
    directory = Path(tempfile.mkdtemp(prefix="ppu_demo_urls_"))
    cluster = Cluster(directory)
    cluster.start(demo.DB_NAME)
    try:
        subprocess.run(
            [pg_tool("createdb"), "-h", str(cluster.socket_dir),
             "-p", str(cluster.port), "-U", DB_USER, demo.DB_NAME],
            check=True,
        )  # fmt: skip
        # Odoo's table as an install leaves it: web.base.url on port 8069.
        psql(
            cluster,
            "CREATE TABLE ir_config_parameter (id serial PRIMARY KEY,"
            " key varchar NOT NULL UNIQUE, value text NOT NULL,"
            " create_date timestamp, write_date timestamp);"
            "INSERT INTO ir_config_parameter (key, value)"
            " VALUES ('web.base.url', 'http://localhost:8069');",
        )
        demo.set_urls(cluster, 8123)
        demo.set_urls(cluster, 8124)  # a kept database served on another port
        rows = psql(
            cluster, "SELECT key || ' ' || value FROM ir_config_parameter ORDER BY key"
        )
        assert rows.splitlines() == [
            "report.url http://127.0.0.1:8124",
            "web.base.url http://localhost:8124",
        ]
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)
