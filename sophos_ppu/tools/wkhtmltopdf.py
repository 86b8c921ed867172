# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Which wkhtmltopdf this server runs, asked once per process.

Odoo recommends the build of wkhtmltopdf with patched Qt. Debian's build
(unpatched Qt) lacks what Odoo's PDFs lean on, as ``wkhtmltopdf -H`` says
under "Reduced Functionality":

- one PDF of several HTML documents: it exits "with code 1, due to unknown
  error" and writes no PDF, so that printing or sending several invoices
  at once fails;
- ``--header-html``/``--footer-html``: it ignores them, so a document
  loses its company header and footer.

``models/ir_actions_report.py`` then prints each record on its own and
keeps each document's header and footer in its body.

Callers ask through the module (``wkhtmltopdf.has_patched_qt()``), so that
a test can patch the answer in one place.
"""

import functools
import subprocess

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin


@functools.cache
def has_patched_qt():
    """Whether ``wkhtmltopdf --version`` names the patched Qt build. Without
    wkhtmltopdf it answers True: there is no PDF to adapt, and Odoo says so
    itself."""
    try:
        found = subprocess.run(
            [_get_wkhtmltopdf_bin(), "--version"],
            capture_output=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return True
    return b"patched qt" in found.stdout.lower()
