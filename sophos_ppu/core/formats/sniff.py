"""What a file is: its bytes, loaded within the size limit, and its format,
told from its name and leading bytes; files that are no spreadsheet are
refused, named.

The extension decides the format, except that the bytes win when they
plainly say otherwise (a zip is .xlsx, an OLE2 container is .xls), since
mis-named exports are common.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from ..limits import DEFAULT_LIMITS, Limits, size
from ..model import ConsumptionFileError
from .text import TEXT_SAMPLE_BYTES, utf16_without_bom

EXTENSIONS = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
}
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", None),  # too short to trust alone; see below
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"BZh", None),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"{\\rtf", "an RTF document"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"MZ", None),
    (b"PK\x05\x06", "an empty zip archive"),
)


def foreign_format(data: bytes) -> str | None:
    """What the bytes are when they plainly are no spreadsheet, else None."""
    head = data[:16]
    for magic, name in _MAGIC:
        if name and head.startswith(magic):
            return name
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "a WebP image"
    if head.startswith(b"MZ") and b"PE\x00\x00" in data[:1024]:
        return "a Windows program (.exe)"
    if head.startswith(b"BM") and len(data) > 26 and b"\x00" in data[6:10]:
        return "a BMP image"
    return None


def load_bytes(source, filename=None, limits: Limits = DEFAULT_LIMITS):
    """(content, name) from a path, bytes or a binary file, refused past
    ``limits.max_file_bytes`` before it is read whole."""
    limit = limits.max_file_bytes
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        _check_size(len(data), limits)
        return data, filename
    if hasattr(source, "read"):
        data = source.read(limit + 1)
        _check_size(len(data), limits, at_least=True)
        return data, filename or getattr(source, "name", None)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            _check_size(path.stat().st_size, limits)
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
            _check_size(len(data), limits, at_least=True)
            return data, filename or path.name
        except FileNotFoundError:
            raise ConsumptionFileError(f"File not found: {path}") from None
        except IsADirectoryError:
            raise ConsumptionFileError(f"{path} is a folder, not a file.") from None
        except OSError as exc:
            raise ConsumptionFileError(f"Cannot open {path}: {exc}") from exc
    raise TypeError(f"Expected a path, bytes or a binary file, not {type(source)}")


def _check_size(found: int, limits: Limits, at_least=False) -> None:
    if found > limits.max_file_bytes:
        more = "more than " if at_least else ""
        raise ConsumptionFileError(
            f"The file is larger than {size(limits.max_file_bytes)} "
            f"({more}{size(found)}): no consumption file is that large; split it "
            "or raise the limit."
        )


def _looks_like_text(data: bytes) -> bool:
    sample = data[:TEXT_SAMPLE_BYTES]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    return b"\x00" not in sample or utf16_without_bom(data) is not None


def detect_format(data: bytes, filename: str | None) -> str:
    """ "xlsx", "xls" or "csv", from the extension and the leading bytes;
    files that are plainly something else are refused, named."""
    if not data.strip():
        raise ConsumptionFileError("The file is empty.")
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        return "xls"
    foreign = foreign_format(data)
    if foreign:
        raise ConsumptionFileError(
            f"The file is {foreign}, not a spreadsheet: upload the consumption "
            "file itself (.xlsx, .xls or .csv)."
        )
    if data[:5] in (b"UEsDB", b"0M8R4"):
        raise ConsumptionFileError(
            "The file content is base64-encoded; decode it before reading."
        )
    head = data[:512].lstrip(codecs.BOM_UTF8).lstrip().lower()
    if head.startswith((b"<html", b"<!doctype", b"<?xml", b"<table")):
        raise ConsumptionFileError(
            "The file is an HTML/XML page, not a spreadsheet: open it in Excel "
            "and save it as .xlsx or .csv."
        )
    by_name = EXTENSIONS.get(Path(filename or "").suffix.lower())
    if by_name in ("xlsx", "xls") and not _looks_like_text(data):
        raise ConsumptionFileError(
            f"The file is named .{by_name} but is no workbook (neither a zip nor "
            f"an OLE2 container): it is damaged or not a .{by_name} file; "
            "export or download it again."
        )
    return "csv"  # text, even when named .xls (some portals export TSV so)
