# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A workbook written as its XML parts, cells exactly as given and nothing
checked: the files openpyxl will not write (far cells, error cells, hidden
sheets, text without its shared strings), for the tests of the reader."""

from __future__ import annotations

import io
import zipfile

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels"
 ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
 Target="xl/workbook.xml"/>
</Relationships>"""
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_START = (
    f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
)
SHEET_END = "</sheetData></worksheet>"


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def num(ref: str, value) -> str:
    return f'<c r="{ref}"><v>{value}</v></c>'


def error(ref: str, code: str) -> str:
    return f'<c r="{ref}" t="e"><f>1/0</f><v>{code}</v></c>'


def sheet_xml(rows_xml: str, header_row: str = "") -> str:
    """A sheet of ``header_row`` then ``rows_xml`` (row XML as given)."""
    return SHEET_START + header_row + rows_xml + SHEET_END


def workbook_parts(sheets, shared_strings=None) -> dict[str, str | bytes]:
    """The parts of a workbook; ``sheets`` are (name, state, sheet XML)."""
    entries, rels = [], []
    parts: dict[str, str | bytes] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
    }
    for number, (name, state, xml) in enumerate(sheets, start=1):
        state_attr = f' state="{state}"' if state != "visible" else ""
        entries.append(
            f'<sheet name="{name}" sheetId="{number}"{state_attr} r:id="rId{number}"/>'
        )
        rels.append(
            f'<Relationship Id="rId{number}" Type="{RELS}/worksheet" '
            f'Target="worksheets/sheet{number}.xml"/>'
        )
        parts[f"xl/worksheets/sheet{number}.xml"] = xml
    if shared_strings is not None:
        rels.append(
            f'<Relationship Id="rIdS" Type="{RELS}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
        )
        if isinstance(shared_strings, list):
            items = "".join(f"<si><t>{s}</t></si>" for s in shared_strings)
            shared_strings = f'<sst xmlns="{MAIN}">{items}</sst>'
        parts["xl/sharedStrings.xml"] = shared_strings
    parts["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
        f'xmlns:r="{RELS}"><sheets>{"".join(entries)}</sheets></workbook>'
    )
    parts["xl/_rels/workbook.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
        'http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rels)
        + "</Relationships>"
    )
    return parts


def zip_bytes(parts: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()
