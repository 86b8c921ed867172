"""What ``make install`` takes from Odoo's requirements (scripts/install_odoo.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from install_odoo import odoo_requirements, odoo_version  # noqa: E402

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
