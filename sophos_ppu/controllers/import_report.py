# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The error report of an import batch, built on each download.

Served by a route rather than stored as an attachment: downloads leave
nothing behind, and whoever may read the batch (ops, accountants) may
download its report without write rights.
"""

from werkzeug.exceptions import NotFound

from odoo.http import Controller, content_disposition, request, route

from odoo.addons.sophos_ppu.core.billing import (
    error_report_csv,
    error_report_xlsx,
    workbook_xlsx,
)

#: The spreadsheet downloads of the addon: builder and content type.
TABLE_FORMATS = {
    "csv": (error_report_csv, "text/csv; charset=utf-8"),
    "xlsx": (
        error_report_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


def table_response(header, rows, extension, filename, sheet_title=None):
    """A formula-safe .csv or .xlsx download of a table, built on the fly."""
    build, mimetype = TABLE_FORMATS[extension]
    if extension == "xlsx" and sheet_title:
        data = build(header, rows, sheet_title=sheet_title)
    else:
        data = build(header, rows)
    return file_response(data, mimetype, filename)


def file_response(data, mimetype, filename):
    """A download built on the fly, never cached."""
    return request.make_response(
        data,
        headers=[
            ("Content-Type", mimetype),
            ("Content-Length", len(data)),
            ("Content-Disposition", content_disposition(filename)),
            ("Cache-Control", "no-store"),
        ],
    )


class PpuImportReport(Controller):
    @route(
        "/sophos_ppu/import/<int:import_id>/issues.<string:extension>",
        type="http",
        auth="user",
        methods=["GET"],
    )
    def ppu_import_error_report(self, import_id, extension):
        if extension not in TABLE_FORMATS:
            raise NotFound()
        # The user's own rights: record rules (company) and read access.
        batch = request.env["sophos.ppu.import"].browse(import_id).exists()
        if not batch:
            raise NotFound()
        batch.check_access("read")
        filename = f"{batch.name.replace('/', '-')}-issues.{extension}"
        return table_response(*batch._ppu_error_report_rows(), extension, filename)

    @route(
        "/sophos_ppu/import/<int:import_id>/month-close.xlsx",
        type="http",
        auth="user",
        methods=["GET"],
    )
    def ppu_import_month_close(self, import_id):
        """The month close of a batch: who reads its costs may download it."""
        batch = request.env["sophos.ppu.import"].browse(import_id).exists()
        if not batch:
            raise NotFound()
        batch.check_access("read")
        batch.check_field_access_rights("read", ["close_cost_company"])
        filename = f"{batch.name.replace('/', '-')}-month-close.xlsx"
        return file_response(
            workbook_xlsx(batch._ppu_close_tables()),
            TABLE_FORMATS["xlsx"][1],
            filename,
        )
