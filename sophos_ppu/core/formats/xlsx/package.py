"""Inspecting an .xlsx package before anything in it is inflated.

:func:`inspect_xlsx` reads the zip's central directory: damaged or truncated
archives, zips that are not workbooks (Word, .ods, .xlsb, any other zip,
named), encrypted or duplicated parts, the declared inflated size and
compression ratio of every part (:class:`~...limits.Limits`). It then reads
``workbook.xml`` and its relationships (small parts) for the sheets, their
visibility and the part calamine will read for each, and scans the shared
strings (:mod:`.shared_strings`).
"""

from __future__ import annotations

import io
import re
import zipfile

from ...limits import Limits, number, size
from ...model import ConsumptionFileError
from ..refusals import SAVE_AS, refuse, short, what_it_is
from .parts import (
    Part,
    SheetInfo,
    XlsxPackage,
    damaged,
    inflate,
    part_name,
    read_small,
    too_big,
)
from .shared_strings import scan_shared_strings
from .xml_bytes import tag_attributes, unescape

RATIO_FLOOR = 1 << 20  # parts inflating to less are never "bombs"
_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>")
_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")
_ZIP_KINDS = (
    ("word/document.xml", "a Word document (.docx)"),
    ("ppt/presentation.xml", "a PowerPoint presentation (.pptx)"),
    ("xl/workbook.bin", "an Excel binary workbook (.xlsb)"),
    ("index/document.iwa", "an Apple Numbers document"),
    ("meta-inf/manifest.mf", "a Java archive (.jar)"),
)
_ODF = {
    b"application/vnd.oasis.opendocument.spreadsheet": (
        "an OpenDocument spreadsheet (.ods)"
    ),
    b"application/vnd.oasis.opendocument.text": "an OpenDocument text (.odt)",
    b"application/vnd.oasis.opendocument.presentation": (
        "an OpenDocument presentation (.odp)"
    ),
    b"application/epub+zip": "an e-book (.epub)",
}


def _not_a_workbook(data, parts) -> ConsumptionFileError:
    for path, description in _ZIP_KINDS:
        if path in parts:
            return what_it_is(description, SAVE_AS)
    mimetype = parts.get("mimetype")
    if mimetype and mimetype.declared < 200:
        try:
            kind = b"".join(inflate(data, mimetype, 200, "mimetype")).strip()
        except ConsumptionFileError:
            kind = b""
        if kind in _ODF:
            return what_it_is(_ODF[kind], SAVE_AS)
    names = [p.name for p in parts.values() if not p.name.endswith("/")]
    inside = ", ".join(short(n) for n in names[:5])
    if len(names) > 5:
        inside += f" and {len(names) - 5} more"
    sheets = [n for n in names if n.lower().endswith((".xlsx", ".xls", ".csv"))]
    advice = (
        f"unzip it and upload {short(sheets[0])}."
        if len(sheets) == 1
        else "upload the consumption file itself (.xlsx, .xls or .csv)."
    )
    return refuse(
        f"The file is a zip archive, not an Excel workbook (it holds {inside}): "
        + advice
    )


def inspect_xlsx(data: bytes, limits: Limits) -> XlsxPackage:
    """Check an .xlsx package without inflating its sheets; see module doc."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise refuse(
            "The .xlsx file is damaged or truncated (its zip directory cannot "
            f"be read: {exc}): export or download it again."
        ) from None
    parts: dict[str, Part] = {}
    for info in infos:
        key = part_name(info.filename)
        if key in parts:
            raise damaged(f"part {short(info.filename)} appears twice")
        parts[key] = Part(info)
    if not parts:
        raise what_it_is("an empty zip archive", SAVE_AS)
    if "xl/workbook.xml" not in parts:
        raise _not_a_workbook(data, parts)
    if any(p.info.flag_bits & 0x1 for p in parts.values()):
        raise refuse(
            "The file is a password-protected zip: unzip it and upload the "
            "workbook itself."
        )
    declared = sum(p.declared for p in parts.values())
    if declared > limits.max_inflated_bytes:
        raise too_big("content", declared, limits.max_inflated_bytes)
    for part in parts.values():
        packed = max(part.info.compress_size, 1)
        if (
            part.declared > RATIO_FLOOR
            and part.declared > packed * limits.max_compression_ratio
        ):
            raise refuse(
                f"The workbook's part {short(part.name)} unpacks to "
                f"{size(part.declared)} from {size(packed)}, "
                f"{number(part.declared // packed)} times its packed size (at "
                f"most {number(limits.max_compression_ratio)} allowed): it is "
                "not a consumption file a distributor sends (a zip bomb?)."
            )
    package = XlsxPackage(data, parts, [], None, limits)
    package.sheets = _sheets(package)
    shared = package.part("xl/sharedStrings.xml")
    if shared is not None:
        package.shared = scan_shared_strings(package, shared)
    return package


def _sheets(package: XlsxPackage) -> list[SheetInfo]:
    """The workbook's sheets in order, with the part calamine will read."""
    workbook = read_small(package.data, package.part("xl/workbook.xml"), "workbook")
    relations = {}
    rels_part = package.part("xl/_rels/workbook.xml.rels")
    if rels_part is not None:
        rels = read_small(package.data, rels_part, "relationships")
        for match in _REL_TAG.finditer(rels):
            attrs = tag_attributes(match[1])
            if b"Id" in attrs and b"Target" in attrs:
                relations[attrs[b"Id"]] = unescape(attrs[b"Target"])
    sheets = []
    for match in _SHEET_TAG.finditer(workbook):
        attrs = tag_attributes(match[1])
        if b"name" not in attrs:
            continue
        state = unescape(attrs.get(b"state", b"visible")) or "visible"
        rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
        target = relations.get(rid)
        path = None
        if target is not None:
            # calamine's rule: "/xl/x" and "xl/x" stay, anything else is under xl/
            if target.startswith("/xl/"):
                path = target[1:]
            elif target.startswith("xl/"):
                path = target
            else:
                path = "xl/" + target
        sheets.append(SheetInfo(unescape(attrs[b"name"]), path, state))
    return sheets
