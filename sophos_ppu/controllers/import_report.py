# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The error report of an import batch, built on each download.

Served by a route rather than stored as an attachment: downloads leave
nothing behind, and whoever may read the batch (ops, accountants) may
download its report without write rights.
"""

from werkzeug.exceptions import NotFound

from odoo.http import Controller, content_disposition, request, route

from odoo.addons.sophos_ppu.core.billing import error_report_csv, error_report_xlsx

REPORT_FORMATS = {
    "csv": (error_report_csv, "text/csv; charset=utf-8"),
    "xlsx": (
        error_report_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


class PpuImportReport(Controller):
    @route(
        "/sophos_ppu/import/<int:import_id>/issues.<string:extension>",
        type="http",
        auth="user",
        methods=["GET"],
    )
    def ppu_import_error_report(self, import_id, extension):
        if extension not in REPORT_FORMATS:
            raise NotFound()
        # The user's own rights: record rules (company) and read access.
        batch = request.env["sophos.ppu.import"].browse(import_id).exists()
        if not batch:
            raise NotFound()
        batch.check_access("read")
        build, mimetype = REPORT_FORMATS[extension]
        data = build(*batch._ppu_error_report_rows())
        filename = f"{batch.name.replace('/', '-')}-issues.{extension}"
        return request.make_response(
            data,
            headers=[
                ("Content-Type", mimetype),
                ("Content-Length", len(data)),
                ("Content-Disposition", content_disposition(filename)),
                ("Cache-Control", "no-store"),
            ],
        )
