# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import copy

import lxml.html
from markupsafe import Markup

from odoo import api, models

from ..tools import wkhtmltopdf

#: The page margin, in mm, above and below a body that holds its own header
#: and footer: the sides' margin of Odoo's report CSS ($o-default-report-
#: margins in web's report.scss).
BODY_MARGIN_MM = 11.0

#: Odoo's report CSS pads a header and a footer that start at the paper's
#: edge; in a body, the page margin is there already (and the footer's
#: padding alone would push an empty page after a full one).
LAYOUT_IN_BODY_CSS = (
    ".o_body_pdf > .header { padding-top: 0 !important; }"
    " .o_body_pdf > .footer > .o_footer_content { padding-bottom: 0 !important; }"
)

#: The classes wkhtmltopdf's header and footer fill in with page numbers
#: (web.minimal_layout's subst()): nothing fills them in a body.
PAGE_NUMBER_CLASSES = ("page", "topage")


def _has_class(name):
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _render_qweb_pdf_prepare_streams(self, report_ref, data, res_ids=None):
        """With wkhtmltopdf on unpatched Qt, which makes no PDF of several
        documents at once ("Exit with code 1 due to unknown error"), each
        record is printed on its own: the streams are the ones Odoo would
        have split from one PDF, record by record."""
        if (
            not res_ids
            or len(res_ids) < 2
            or len(set(res_ids)) != len(res_ids)  # Odoo keeps these whole
            or wkhtmltopdf.has_patched_qt()
        ):
            return super()._render_qweb_pdf_prepare_streams(
                report_ref, data, res_ids=res_ids
            )
        streams = {}
        for res_id in res_ids:
            streams.update(
                super()._render_qweb_pdf_prepare_streams(
                    report_ref, dict(data or {}), res_ids=[res_id]
                )
            )
        return streams

    def _prepare_html(self, html, report_model=False):
        """With wkhtmltopdf on unpatched Qt (Debian's build), which ignores
        ``--header-html`` and ``--footer-html``, each document keeps its
        company header at the top of its body and its footer at the end,
        instead of losing both. With patched Qt nothing changes."""
        prepared = super()._prepare_html(html, report_model=report_model)
        if not prepared or wkhtmltopdf.has_patched_qt():
            return prepared
        return self._ppu_layout_in_bodies(*prepared)

    @api.model
    def _build_wkhtmltopdf_args(
        self,
        paperformat_id,
        landscape,
        specific_paperformat_args=None,
        set_viewport_size=False,
    ):
        args = super()._build_wkhtmltopdf_args(
            paperformat_id,
            landscape,
            specific_paperformat_args=specific_paperformat_args,
            set_viewport_size=set_viewport_size,
        )
        if wkhtmltopdf.has_patched_qt():
            return args
        # The header's options: Debian's build ignores them, and says so in a
        # warning that Odoo logs for every PDF.
        kept = []
        arguments = iter(args)
        for argument in arguments:
            if argument == "--header-spacing":
                next(arguments, None)  # its value
            elif argument != "--header-line":
                kept.append(argument)
        return kept

    def _ppu_layout_in_bodies(self, bodies, res_ids, header, footer, paper_args):
        """Odoo collects the documents' headers and footers into one header
        and one footer page, whose script shows the i-th of each beside the
        i-th body; here the i-th header opens the i-th body and the i-th
        footer closes it. The page margins that made room for them shrink
        to the sides' margin. Returns ``_prepare_html``'s values, without a
        header or footer to pass to wkhtmltopdf once they are in the
        bodies."""
        headers = self._ppu_layout_parts(header, "minimal_layout_report_headers")
        footers = self._ppu_layout_parts(footer, "minimal_layout_report_footers")
        if not headers and not footers:
            return bodies, res_ids, header, footer, paper_args
        bodies = [
            self._ppu_body_with_layout(
                body,
                headers[index] if index < len(headers) else None,
                footers[index] if index < len(footers) else None,
            )
            for index, body in enumerate(bodies)
        ]
        paper_args = dict(paper_args)
        paperformat = self.get_paperformat()
        if paperformat:
            for side, parts in (("top", headers), ("bottom", footers)):
                if not parts:
                    continue
                key = f"data-report-margin-{side}"
                margin = float(paper_args.get(key) or paperformat[f"margin_{side}"])
                paper_args[key] = str(min(margin, BODY_MARGIN_MM))
        return bodies, res_ids, None, None, paper_args

    def _ppu_layout_parts(self, page, container_id):
        """The headers (or footers) in the page ``_prepare_html`` made of
        them, without their page numbers."""
        if not page:
            return []
        containers = lxml.html.document_fromstring(page).xpath(
            f"//*[@id='{container_id}']"
        )
        parts = [part for container in containers[:1] for part in container]
        numbers = " or ".join(_has_class(name) for name in PAGE_NUMBER_CLASSES)
        for part in parts:
            # "Page <span class="page"/> / <span class="topage"/>": the whole
            # line goes, unless the numbers sit in the part itself.
            lines = []
            for number in part.xpath(f".//span[{numbers}]"):
                line = number.getparent()
                line = number if line is part else line
                if line not in lines:
                    lines.append(line)
            for line in lines:
                line.drop_tree()
        return parts

    def _ppu_body_with_layout(self, body, header, footer):
        document = lxml.html.document_fromstring(body)
        page_body = document.find("body")
        if page_body is None or "o_body_pdf" not in page_body.classes:
            return body  # not one of web.minimal_layout's documents
        if header is not None:
            page_body.insert(0, copy.deepcopy(header))
        if footer is not None:
            page_body.append(copy.deepcopy(footer))
        style = lxml.html.Element("style")
        style.text = LAYOUT_IN_BODY_CSS
        head = document.find("head")
        if head is not None:
            head.append(style)
        return Markup(
            lxml.html.tostring(document, encoding="unicode", doctype="<!DOCTYPE html>")
        )
