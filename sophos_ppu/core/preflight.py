"""Pre-flight: look at a file's bytes before any reader library does.

Reader libraries trust the files they open. python-calamine (Rust) aborts the
whole process when a 2 KB .xlsx names cell XFD1048576 or row 99999999999 (it
allocates a dense grid of the used range: 512 GiB), panics on text cells
pointing into a missing shared-strings table, unpacks a zip bomb row by row,
and hands every cell pointing at one long shared string its own copy of it.
So every file goes through here first, in bounded memory and time:

- :func:`foreign_format` names what the bytes really are when they are no
  spreadsheet (PDF, image, archive, program...), whatever the extension.
- :func:`inspect_ole2` tells a legacy .xls from a Word, PowerPoint or Outlook
  file in the same OLE2 container, and from a password-protected
  (encrypted) .xlsx, which Office stores as an OLE2 holding
  ``EncryptionInfo`` and ``EncryptedPackage`` streams.
- :func:`inspect_xlsx` reads the zip's central directory (nothing inflated
  yet): damaged or truncated archives, zips that are not workbooks (Word,
  .ods, .xlsb, any other zip), encrypted or duplicated parts, the declared
  inflated size and compression ratio of every part
  (:class:`~.limits.Limits`). It then reads ``workbook.xml`` and its
  relationships (small parts) for the sheets, their visibility and the part
  calamine will read for each, and streams the shared strings: no text
  longer than any cell holds, no more strings than ``max_cells``, the length
  of each string for later.
- :func:`scan_sheet` streams a sheet's XML (raw deflate of the packed bytes,
  so the *actual* inflated size is counted, not the declared one) in 4 MiB
  pieces, never holding the sheet: its last row and column holding a cell,
  placed exactly as calamine places them (references, or counting for cells
  and rows without one), Excel's own limits (row 1 048 576, column XFD),
  ``max_rows`` (stopping as soon as it is passed), the used range, runs of
  text no cell holds, rows hidden in the workbook, and the text its
  shared-string cells would repeat.
- :func:`error_cells` finds the cells holding an Excel error, which calamine
  hands over as empty strings; the reader asks for them only when it meets
  empty cells in known columns, so clean files never pay for that pass.
- :class:`SheetSplitter` cuts a large sheet's XML, as :func:`scan_sheet`
  streams it, into chunks of whole rows that threads hand to calamine in
  parallel. A chunk goes out only once the scan has checked it and every
  byte before it, and the sheet so far passes the same limits as the whole
  sheet must (they only grow stricter as the scan goes on): calamine never
  sees a byte the pre-flight has not checked, nor more cells than an
  accepted sheet holds. If the scan then refuses the sheet, the chunks'
  results are dropped and the refusal is what the user gets.

Sparse sheets. A sheet with a few cells far apart (A1 and XFD1048576) is
refused, not read another way. Calamine, and then Python, build a dense grid
from A1 to the last row and column, so what a sheet costs to read is rows x
columns, not the cells it holds. A used range larger than ``max_cells``, or
larger than 8 times the cells the sheet could possibly hold (its XML size /
12 bytes, the smallest cell with a value) and over a million cells, is
refused with the cell that stretches it, which the user can delete in a
minute. Sophos exports are dense tables; reading sparse sheets with a second,
streaming xlsx reader would mean two readers whose dates, numbers and
strings must agree cell for cell with what ops see in the import, for files
nobody sends on purpose.

Speed. The common writers (Excel, openpyxl, LibreOffice) write every cell as
``<c r="B7" ...>``, rows and cells in order. For each 4 MiB piece one
compiled regular expression confirms that every cell tag is of that form,
one column letter and a row no greater than the last cell's (so the last
cell's row is the piece's largest), and memchr-speed ``find`` calls look for
hidden rows and prefixed elements; only pieces where they find something
else are counted (no references at all) or tokenised tag by tag (anything
else: columns past Z, reordered attributes, rows out of order...). Columns
are then only known to be <= Z; when that bound would matter, the sheet is
scanned again exactly. On a 100 000-row, 119 MB sheet the pre-flight takes
about 0.4 s, in which the threads already read the first chunks
(``scripts/benchmark_read.py``).
"""

from __future__ import annotations

import codecs
import html
import io
import re
import struct
import sys
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .limits import EXCEL_MAX_ROWS, Limits, number, size, too_many_rows
from .model import ConsumptionFileError

EXCEL_MAX_COLUMNS = 16_384  # XFD
RATIO_FLOOR = 1 << 20  # parts inflating to less are never "bombs"
SMALL_PART = 32 << 20  # workbook.xml, its relationships, [Content_Types].xml
MIN_CELL_BYTES = 12  # '<c><v>1</v></c>' is 15 bytes: the smallest cell
SPARSE_FACTOR = 8
SPARSE_FLOOR = 1_000_000  # used ranges this small are always fine
PIECE = 4 << 20  # inflated bytes scanned at a time
PACKED_STEP = 1 << 18

# -- what the bytes are ----------------------------------------------------

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
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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


def refuse(message: str) -> ConsumptionFileError:
    return ConsumptionFileError(message)


def _what_it_is(description: str, advice: str) -> ConsumptionFileError:
    return refuse(f"The file is {description}, not a spreadsheet: {advice}")


SAVE_AS = "open it in Excel and save it as .xlsx or .csv."

# -- OLE2 (legacy .xls and friends) -----------------------------------------

_OLE_FREE = 0xFFFFFFFF
_OLE_END = 0xFFFFFFFE
_OLE_STREAMS = (
    ("EncryptedPackage", "a password-protected (encrypted) Office file"),
    ("EncryptionInfo", "a password-protected (encrypted) Office file"),
    ("WordDocument", "a Word document (.doc)"),
    ("PowerPoint Document", "a PowerPoint presentation (.ppt)"),
    ("__properties_version1.0", "an Outlook message (.msg)"),
    ("VisioDocument", "a Visio drawing"),
)


def ole2_stream_names(data: bytes) -> list[str] | None:
    """Names in an OLE2 container's directory, or None when it is damaged.

    Only the directory is read (a few sectors, followed through the FAT with
    a guard against loops); stream contents are never touched.
    """
    if len(data) < 512 or not data.startswith(OLE2_MAGIC):
        return None
    shift = struct.unpack_from("<H", data, 30)[0]
    if shift not in (9, 12):
        return None
    sector = 1 << shift
    fat_count, first_dir = struct.unpack_from("<II", data, 44)
    first_difat, difat_count = struct.unpack_from("<II", data, 68)
    total = max(0, (len(data) - sector) // sector)
    if fat_count > total + 1:
        return None

    def sector_bytes(number_):
        start = (number_ + 1) * sector
        if number_ >= total or start + sector > len(data):
            raise ValueError(number_)
        return data[start : start + sector]

    try:
        fat_sectors = list(array("I", data[76 : 76 + 109 * 4]))
        next_difat, seen = first_difat, 0
        while next_difat not in (_OLE_FREE, _OLE_END) and seen <= difat_count:
            entries = array("I", sector_bytes(next_difat))
            fat_sectors += entries[:-1]
            next_difat = entries[-1]
            seen += 1
        if sys.byteorder == "big":  # pragma: no cover - x86/arm are little
            fat_sectors = array("I", fat_sectors)
            fat_sectors.byteswap()
        fat = array("I")
        for number_ in fat_sectors[:fat_count]:
            fat.frombytes(sector_bytes(number_))
        if sys.byteorder == "big":  # pragma: no cover
            fat.byteswap()
        names, current, steps = [], first_dir, 0
        while current not in (_OLE_FREE, _OLE_END):
            if steps > total or current >= len(fat):
                return None
            chunk = sector_bytes(current)
            for offset in range(0, sector, 128):
                length = struct.unpack_from("<H", chunk, offset + 64)[0]
                kind = chunk[offset + 66]
                if kind in (1, 2, 5) and 2 <= length <= 64:
                    raw = chunk[offset : offset + length - 2]
                    names.append(raw.decode("utf-16-le", "replace"))
            current, steps = fat[current], steps + 1
        return names
    except (ValueError, IndexError, struct.error):
        return None


def inspect_ole2(data: bytes) -> None:
    """Refuse OLE2 containers that are not .xls workbooks, naming them."""
    names = ole2_stream_names(data)
    if names is None:
        raise refuse(
            "The .xls file is damaged or truncated (its OLE2 directory cannot "
            "be read): export or download it again."
        )
    for stream, description in _OLE_STREAMS:
        if stream in names:
            if "encrypted" in description:
                raise refuse(
                    f"The file is {description}: open it in Excel, remove the "
                    "password (File > Info > Protect Workbook) and save it again."
                )
            raise _what_it_is(description, SAVE_AS)
    if not {"Workbook", "Book", "WORKBOOK", "BOOK"} & set(names):
        raise refuse(
            "The file is an OLE2 container (a legacy Office file) without a "
            "workbook in it: " + SAVE_AS
        )


# -- zip parts ---------------------------------------------------------------


def _part_name(name: str) -> str:
    return name.replace("\\", "/").lower()


@dataclass
class Part:
    info: zipfile.ZipInfo

    @property
    def name(self) -> str:
        return self.info.filename

    @property
    def declared(self) -> int:
        return self.info.file_size


@dataclass
class SheetInfo:
    name: str
    path: str | None  # the zip part calamine reads, None when absent
    state: str  # visible, hidden, veryHidden


@dataclass
class SharedStrings:
    count: int = 0
    longest: int = 0  # bytes of XML of the longest <si>, markup included
    lengths: np.ndarray | None = None


@dataclass
class XlsxPackage:
    data: bytes
    parts: dict[str, Part]
    sheets: list[SheetInfo]
    shared: SharedStrings | None
    limits: Limits

    @property
    def visible_sheets(self) -> list[SheetInfo]:
        return [s for s in self.sheets if s.state == "visible"]

    def part(self, path: str) -> Part | None:
        return self.parts.get(_part_name(path))


def _damaged(detail: str) -> ConsumptionFileError:
    return refuse(f"The .xlsx file is damaged ({detail}): export or download it again.")


def packed_bytes(data: bytes, part: Part) -> memoryview:
    """The part's bytes as packed in the zip (nothing inflated)."""
    info = part.info
    offset = info.header_offset
    header = data[offset : offset + 30]
    if len(header) < 30 or not header.startswith(ZIP_MAGIC):
        raise _damaged(f"part {info.filename} is missing")
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    start = offset + 30 + name_length + extra_length
    packed = memoryview(data)[start : start + info.compress_size]
    if len(packed) < info.compress_size:
        raise refuse(
            "The .xlsx file is truncated (it ends inside "
            f"{info.filename}): export or download it again."
        )
    return packed


def inflate(data: bytes, part: Part, limit: int, what: str) -> Iterator[bytes]:
    """The part's inflated bytes, PIECE at a time, from its packed bytes.

    Counts what really comes out (a zip may lie about sizes) and stops with
    ConsumptionFileError past ``limit`` or past the declared size.
    """
    info = part.info
    packed = packed_bytes(data, part)
    declared = info.file_size
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size > limit:
            raise _too_big(what, info.compress_size, limit)
        for position in range(0, len(packed), PIECE):
            yield bytes(packed[position : position + PIECE])
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise refuse(
            f"The .xlsx file packs {info.filename} with zip method "
            f"{info.compress_type}, which spreadsheet programs do not use: " + SAVE_AS
        )
    inflater = zlib.decompressobj(-15)
    position = total = 0
    try:
        while not inflater.eof:
            if inflater.unconsumed_tail:
                out = inflater.decompress(inflater.unconsumed_tail, PIECE)
            elif position < len(packed):
                step = packed[position : position + PACKED_STEP]
                position += PACKED_STEP
                out = inflater.decompress(step, PIECE)
            else:
                break
            if out:
                total += len(out)
                if total > limit:
                    raise _too_big(what, total, limit, more=True)
                if total > declared:
                    raise _damaged(
                        f"{info.filename} unpacks to more than the "
                        f"{number(declared)} bytes it declares"
                    )
                yield out
    except zlib.error as exc:
        raise _damaged(f"{info.filename}: {exc}") from None
    if not inflater.eof or total != declared:
        raise _damaged(f"{info.filename} is cut short")


def _too_big(what, found, limit, more=False):
    at_least = "at least " if more else ""
    return refuse(
        f"The workbook's {what} unpacks to {at_least}{size(found)}, more than "
        f"the {size(limit)} allowed: it is not a consumption file a "
        "distributor sends (a zip bomb?)."
    )


def _read_small(package_data, part, what) -> bytes:
    if part.declared > SMALL_PART:
        raise _damaged(f"{part.name} declares {size(part.declared)}")
    return b"".join(inflate(package_data, part, SMALL_PART, what))


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
            return _what_it_is(description, SAVE_AS)
    mimetype = parts.get("mimetype")
    if mimetype and mimetype.declared < 200:
        try:
            kind = b"".join(inflate(data, mimetype, 200, "mimetype")).strip()
        except ConsumptionFileError:
            kind = b""
        if kind in _ODF:
            return _what_it_is(_ODF[kind], SAVE_AS)
    names = [p.name for p in parts.values() if not p.name.endswith("/")]
    inside = ", ".join(_short(n) for n in names[:5])
    if len(names) > 5:
        inside += f" and {len(names) - 5} more"
    sheets = [n for n in names if n.lower().endswith((".xlsx", ".xls", ".csv"))]
    advice = (
        f"unzip it and upload {_short(sheets[0])}."
        if len(sheets) == 1
        else "upload the consumption file itself (.xlsx, .xls or .csv)."
    )
    return refuse(
        f"The file is a zip archive, not an Excel workbook (it holds {inside}): "
        + advice
    )


def _short(text: str, limit: int = 60) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>")
_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attrs(text: bytes) -> dict[bytes, bytes]:
    return {m[1]: m[2] if m[3] is None else m[3] for m in _ATTR.finditer(text)}


def _unescape(value: bytes) -> str:
    return html.unescape(value.decode("utf-8", "replace"))


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
        key = _part_name(info.filename)
        if key in parts:
            raise _damaged(f"part {_short(info.filename)} appears twice")
        parts[key] = Part(info)
    if not parts:
        raise _what_it_is("an empty zip archive", SAVE_AS)
    if "xl/workbook.xml" not in parts:
        raise _not_a_workbook(data, parts)
    if any(p.info.flag_bits & 0x1 for p in parts.values()):
        raise refuse(
            "The file is a password-protected zip: unzip it and upload the "
            "workbook itself."
        )
    declared = sum(p.declared for p in parts.values())
    if declared > limits.max_inflated_bytes:
        raise _too_big("content", declared, limits.max_inflated_bytes)
    for part in parts.values():
        packed = max(part.info.compress_size, 1)
        if (
            part.declared > RATIO_FLOOR
            and part.declared > packed * limits.max_compression_ratio
        ):
            raise refuse(
                f"The workbook's part {_short(part.name)} unpacks to "
                f"{size(part.declared)} from {size(packed)}, "
                f"{number(part.declared // packed)} times its packed size (at "
                f"most {number(limits.max_compression_ratio)} allowed): it is "
                "not a consumption file a distributor sends (a zip bomb?)."
            )
    package = XlsxPackage(data, parts, [], None, limits)
    package.sheets = _sheets(package)
    shared = package.part("xl/sharedStrings.xml")
    if shared is not None:
        package.shared = _scan_shared_strings(package, shared)
    return package


def _sheets(package: XlsxPackage) -> list[SheetInfo]:
    """The workbook's sheets in order, with the part calamine will read."""
    workbook = _read_small(package.data, package.part("xl/workbook.xml"), "workbook")
    relations = {}
    rels_part = package.part("xl/_rels/workbook.xml.rels")
    if rels_part is not None:
        rels = _read_small(package.data, rels_part, "relationships")
        for match in _REL_TAG.finditer(rels):
            attrs = _attrs(match[1])
            if b"Id" in attrs and b"Target" in attrs:
                relations[attrs[b"Id"]] = _unescape(attrs[b"Target"])
    sheets = []
    for match in _SHEET_TAG.finditer(workbook):
        attrs = _attrs(match[1])
        if b"name" not in attrs:
            continue
        state = _unescape(attrs.get(b"state", b"visible")) or "visible"
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
        sheets.append(SheetInfo(_unescape(attrs[b"name"]), path, state))
    return sheets


# -- streaming XML -----------------------------------------------------------


def _runs_over(segment: bytes, limit: int) -> int:
    """Length of a run of bytes without '<' longer than ``limit``, else 0.

    ``segment`` starts at a '<' (or the stream) and ends before one (or at
    the stream's end), so runs never cross segments. Any run longer than
    ``limit`` covers a whole block of limit / 2 bytes: one memchr per block.
    """
    length = len(segment)
    if length <= limit:
        return 0
    block = max(limit // 2, 1)
    for start in range(0, length, block):
        if segment.find(b"<", start, start + block) >= 0:
            continue
        before = segment.rfind(b"<", 0, start)
        after = segment.find(b"<", start + block)
        run = (length if after < 0 else after) - (before + 1)
        if run > limit:
            return run
    return 0


def _long_text(limits: Limits, where: str) -> ConsumptionFileError:
    return refuse(
        f"The workbook holds a text longer than {number(limits.max_cell_chars)} "
        f"characters (more than {size(limits.absurd_text_bytes)}) in {where}; "
        "no Excel cell holds that much: it is not a consumption file a "
        "distributor sends."
    )


def _pieces(package: XlsxPackage, part: Part, limit: int, what: str, cut):
    """Segments of the part's XML, each cut by ``cut(buffer)`` (an offset
    where the next segment starts); texts longer than the limit refuse it."""
    run_limit = package.limits.absurd_text_bytes
    carry = b""
    for piece in inflate(package.data, part, limit, what):
        buffer = carry + piece if carry else piece
        end = cut(buffer)
        if end <= 0:
            if len(buffer) > run_limit and buffer.find(b"<", 1) < 0:
                raise _long_text(package.limits, what)
            end = buffer.rfind(b"<")
            if end <= 0:
                carry = buffer
                continue
        segment, carry = buffer[:end], buffer[end:]
        if _runs_over(segment, run_limit):
            raise _long_text(package.limits, what)
        yield segment
    if carry:
        if _runs_over(carry, run_limit):
            raise _long_text(package.limits, what)
        yield carry


def _last_lt(buffer: bytes) -> int:
    return buffer.rfind(b"<")


def _positions(segment: bytes, needle: bytes) -> np.ndarray:
    """Offsets of ``needle`` in ``segment`` (vectorised)."""
    view = np.frombuffer(segment, dtype=np.uint8)
    size_ = len(view) - len(needle) + 1
    if size_ <= 0:
        return np.empty(0, dtype=np.int64)
    found = view[:size_] == needle[0]
    for index in range(1, len(needle)):
        found &= view[index : index + size_] == needle[index]
    return np.flatnonzero(found)


def _scan_shared_strings(package: XlsxPackage, part: Part) -> SharedStrings:
    """Check the shared strings; keep each one's XML length for later.

    calamine loads the whole table: more strings than ``max_cells`` (which
    could not all be used) is refused as it is counted.
    """
    limits = package.limits
    lengths, count, previous, offset, prefix = [], 0, None, 0, None
    width = np.uint32 if limits.max_inflated_bytes < 2**32 else np.uint64
    for segment in _pieces(
        package, part, limits.max_inflated_bytes, "shared strings", _last_lt
    ):
        if prefix is None:
            match = re.search(rb"<(?:([\w.-]+):)?sst\b", segment)
            prefix = (match[1] + b":") if match and match[1] else b""
        found = _positions(segment, b"<" + prefix + b"si")
        if len(found):
            # '<si>', '<si ' or '<si/>', not '<sic...'
            view = np.frombuffer(segment, dtype=np.uint8)
            after = found + len(prefix) + 3
            found = found[after < len(view)]
            following = view[after[after < len(view)]]
            found = found[
                (following == ord(">"))
                | (following == ord(" "))
                | (following == ord("/"))
            ]
        if len(found):
            starts = found + offset
            if previous is not None:
                starts = np.insert(starts, 0, previous)
            lengths.append(np.diff(starts).astype(width))
            previous = int(starts[-1])
            count += len(found)
            if count > limits.max_cells:
                raise refuse(
                    f"The workbook's shared-strings table holds more than "
                    f"{number(limits.max_cells)} texts, more than the cells a "
                    "sheet may hold: it is not a consumption file a distributor "
                    "sends."
                )
        offset += len(segment)
    if previous is not None:
        lengths.append(np.array([offset - previous], dtype=width))
    table = np.concatenate(lengths) if lengths else np.empty(0, dtype=width)
    longest = int(table.max()) if len(table) else 0
    return SharedStrings(len(table), longest, table)


# -- sheets ------------------------------------------------------------------


def column_number(letters: bytes) -> int:
    value = 0
    for byte in letters.upper():
        value = value * 26 + byte - 64
    return value


def column_name(number_: int) -> str:
    letters = ""
    while number_:
        number_, rest = divmod(number_ - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _greater(digits: str) -> bytes:
    """Regex for the integers of len(digits) digits greater than ``digits``,
    as a trie so that each digit is compared once."""
    first, rest = int(digits[0]), len(digits) - 1
    options = []
    if first < 9:
        options.append(b"[%d-9]" % (first + 1) + (b"[0-9]{%d}" % rest if rest else b""))
    if rest:
        options.append(digits[0].encode() + _greater(digits[1:]))
    return b"(?:" + b"|".join(options) + b")" if options else b"(?!)"


@lru_cache(maxsize=64)
def _odd_cell(prefix: bytes, limit: int):
    """A cell tag other than '<c r="B7"...' with one letter and a row from 1 to
    ``limit`` written without leading zeros: an error cell is not odd, a cell
    past ``limit``, past column Z or without a reference is."""
    if limit < 1:
        return re.compile(b"<" + re.escape(prefix) + rb"c[\s>/]")
    digits = str(limit)
    return re.compile(
        b"<"
        + re.escape(prefix)
        + b'c(?! r="[A-Z](?=[1-9][0-9]{0,%d}+")(?!' % (len(digits) - 1)
        + _greater(digits)
        + rb'"))[\s>/]'
    )


_FOREIGN_PREFIX = re.compile(rb":(?:c|row)[\s>/]")
_R_ATTRIBUTE = re.compile(rb"r\s*=")
_EMPTY_ROW = re.compile(rb"<row\b[^>]*/>")
_TAG = re.compile(
    rb"<(?:(/)(?:[\w.-]+:)?row\s*>|(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>)"
)
_ROW_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?row(?=[\s/>])([^>]*)>")
_REF = re.compile(rb"([A-Za-z]+)([0-9]+)")
_ROW_REF = re.compile(rb"[A-Za-z]*([0-9]+)")
_CELL_ATTR = re.compile(rb"""\s(r|t)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_F = rb"(?:<(?:[\w.-]+:)?f\b[^>]*/>|<(?:[\w.-]+:)?f\b[^>]*>[^<]*</(?:[\w.-]+:)?f>)?"
_ERROR_VALUE = re.compile(rb"\s*" + _F + rb"\s*<(?:[\w.-]+:)?v>([^<]*)<")
_ERROR_TYPE = re.compile(rb"""\st\s*=\s*["']e["']""")
_SHARED_INDEX = re.compile(
    rb"<(?:[\w.-]+:)?c\b[^>]*?\st\s*=\s*[\"']s[\"'][^>]*>\s*"
    + _F
    + rb"\s*<(?:[\w.-]+:)?v>\s*([0-9]+)\s*<"
)
_SHEET_DATA = re.compile(rb"<(?:([\w.-]+):)?sheetData\b[^>]*?(/?)>")
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\sref\s*=\s*[\"']([^\"']*)")


class _Restart(Exception):
    """A cell without a reference after rows calamine counts but we skipped."""


@dataclass
class SheetScan:
    """What :func:`scan_sheet` found in a sheet's XML (1-based numbers)."""

    name: str
    rows: int = 0  # the last row holding a cell
    columns: int = 0  # the last column holding a cell (26 may stand for <= Z)
    exact_columns: bool = True
    hidden_rows: set[int] = field(default_factory=set)
    dimension: str | None = None
    xml_bytes: int = 0
    shared_cells: int = 0
    far_cell: tuple[int, int] | None = None  # the cell that stretched it last
    prefix: bytes = b""
    path: str | None = None

    @property
    def cells(self) -> int:
        """Rows x columns from A1: what the reader allocates."""
        return self.rows * self.columns


def _where(what: str, letters: bytes, digits: bytes) -> str:
    shown = digits.decode()
    if len(shown) > 20:
        shown = shown[:20] + "…"
    return f"{what} {letters.decode().upper()[:10]}{shown}"


class _SheetScanner:
    """Stateful scan of one sheet's cell XML; see :func:`scan_sheet`.

    Positions follow calamine: a row tag with ``r`` sets the row, ``</row>``
    moves to the next, a cell with ``r`` sets the column, any cell moves one
    column right; cells without ``r`` take the current position.
    """

    def __init__(self, package, sheet, count_shared, exact=False, errors=None):
        self.package = package
        self.limits = package.limits
        self.scan = SheetScan(sheet.name, path=sheet.path)
        self.count_shared = count_shared
        self.exact = exact
        self.has_shared_strings = package.shared is not None
        self.prefix: bytes | None = None
        self.state = "head"  # head -> data (-> done for <sheetData/>)
        self.row_index: int | None = 0  # calamine's 0-based row; None: unknown
        self.col_index = 0
        self.pending_error: tuple[int, int] | None = None
        # (columns, list): error cells of those columns go to the list
        self.errors = errors
        self.first = True
        #: A cell without a reference was met (placed by counting).
        self.unplaced = False
        #: Where the cell data starts in the segment that opened sheetData.
        self.data_offset: int | None = None

    def cut(self, buffer: bytes) -> int:
        """Where a segment may end: before the last cell or row tag, so that a
        cell (and an error cell's value) stays in one segment."""
        if self.prefix is None:
            return buffer.rfind(b"<")
        prefix = self.prefix
        best = buffer.rfind(b"<" + prefix + b"c ")
        if best < 0:
            best = buffer.rfind(b"<" + prefix + b"c>")
        else:  # only the tail after the last plain cell needs a look
            best = max(best, buffer.rfind(b"<" + prefix + b"c>", best))
        best = max(best, buffer.rfind(b"<" + prefix + b"row", max(best, 0)))
        return best if best > 0 else buffer.rfind(b"<")

    def feed(self, segment: bytes) -> None:
        if self.state == "head":
            segment = self._head(segment)
            if segment is None or self.state != "data":
                return
        if self.pending_error is not None:
            self._resolve_error(segment, 0)  # its value opens this segment
        if self.exact or not (self._fast(segment) or self._counted(segment)):
            self._slow(segment)

    def _head(self, segment: bytes):
        if self.scan.dimension is None:
            found = _DIMENSION.search(segment)
            if found:
                self.scan.dimension = found[1].decode("ascii", "replace")[:40]
                for ref in found[1].split(b":"):
                    parts = _REF.fullmatch(ref.strip())
                    if parts:
                        self._check_ref(parts[1], parts[2], "dimension")
        match = _SHEET_DATA.search(segment)
        if match is None:
            return None
        self.prefix = (match[1] + b":") if match[1] else b""
        self.scan.prefix = self.prefix
        self.state = "done" if match[2] else "data"
        self.data_offset = match.end()
        return segment[match.end() :]

    def _check_ref(self, letters: bytes, digits: bytes, what: str) -> tuple[int, int]:
        """(row, column) of a reference, refused beyond Excel's grid."""
        column = column_number(letters) if len(letters) <= 4 else 10**9
        row = int(digits) if len(digits) <= 8 else 10**9
        if row > EXCEL_MAX_ROWS or column > EXCEL_MAX_COLUMNS or row < 1:
            raise refuse(
                f"Sheet '{_short(self.scan.name)}' has a "
                f"{_where(what, letters, digits)}, beyond what Excel can hold "
                "(rows 1 to 1 048 576, columns A to XFD): the workbook is damaged "
                "or was not written by a spreadsheet program."
            )
        return row, column

    # -- fast path: plain cell tags only -------------------------------------

    def _fast(self, segment: bytes) -> bool:
        prefix = self.prefix
        cell_open = b"<" + prefix + b'c r="'
        last_cell = segment.rfind(cell_open)
        top = self.scan.rows
        if last_cell >= 0:
            start = last_cell + len(cell_open) + 1
            end = segment.find(b'"', start, start + 9)
            digits = segment[start:end] if end > 0 else b""
            if not digits.isdigit() or len(digits) > 7:
                return False
            top = max(top, int(digits))
        if top > EXCEL_MAX_ROWS or _odd_cell(prefix, top).search(segment):
            return False
        if prefix:
            own = segment.count(b"<" + prefix + b"c") + segment.count(
                b"</" + prefix + b"c"
            )
            rows = segment.count(b"<" + prefix + b"row") + segment.count(
                b"</" + prefix + b"row"
            )
            if segment.count(b":c") != own or segment.count(b":row") != rows:
                return False
        elif segment.find(b":") >= 0 and _FOREIGN_PREFIX.search(segment):
            return False
        # Every cell here is <c r="X<n>" ...> with n <= top: one letter.
        if not self.has_shared_strings and self.first and b't="s"' in segment:
            self._no_shared_strings()  # later ones: calamine's panic, caught
        self.first = False
        if self.count_shared:
            self.scan.shared_cells += segment.count(b't="s"')
        if last_cell >= 0:
            self.scan.rows = top
            self.scan.columns = max(self.scan.columns, 26)
            self.scan.exact_columns = False
        if segment.find(b"hidden") >= 0:
            for match in _ROW_TAG.finditer(segment):
                self._row_tag(match[1], match[2])
        else:
            self._count_rows(segment)
        row_close = b"</" + prefix + b"row>"
        last_close = segment.rfind(row_close)
        if last_cell > last_close:
            position = last_cell + len(cell_open)
            self.col_index = column_number(segment[position : position + 1])
        elif last_close >= 0:
            self.col_index = 0
        return True

    def _count_rows(self, segment: bytes) -> None:
        """calamine's row counter after a segment, from its last row tag."""
        prefix = self.prefix
        row_open = b"<" + prefix + b'row r="'
        row_close = b"</" + prefix + b"row>"
        last_plain = segment.rfind(row_open)
        last_any = segment.rfind(b"<" + prefix + b"row")
        if last_any < 0:
            if self.row_index is not None:
                self.row_index += segment.count(row_close)
            return
        start = last_plain + len(row_open)
        end = segment.find(b'"', start, start + 9)
        digits = segment[start:end] if last_plain == last_any and end > 0 else b""
        if digits.isdigit() and len(digits) <= 7:
            self.row_index = int(digits) - 1 + segment.count(row_close, last_plain)
        else:
            self.row_index = None  # only matters for a later cell without r

    def _row_tag(self, closing: bytes, attrs_text: bytes) -> None:
        if closing:
            if self.row_index is not None:
                self.row_index += 1
            self.col_index = 0
            return
        attrs = _attrs(attrs_text)
        ref = attrs.get(b"r")
        if ref is not None:
            found = _ROW_REF.fullmatch(ref.strip())
            if not found:
                raise _damaged(f"row reference '{_short(_unescape(ref))}'")
            row, _ = self._check_ref(b"", found[1], "row")
            self.row_index = row - 1
        if attrs.get(b"hidden", b"").strip() in (b"1", b"true"):
            if self.row_index is None:
                raise _Restart
            if self.row_index < EXCEL_MAX_ROWS:  # no cell can lie further
                self.scan.hidden_rows.add(self.row_index + 1)
        if attrs_text.rstrip().endswith(b"/"):
            if self.row_index is not None:
                self.row_index += 1
            self.col_index = 0

    # -- counted path: no references at all, cells placed by counting ---------

    def _counted(self, segment: bytes) -> bool:
        """A segment without any r attribute, hidden row, self-closing row or
        foreign prefix: cells per row counted between '</row>' tags."""
        prefix = self.prefix
        if (
            prefix
            or self.row_index is None
            or _R_ATTRIBUTE.search(segment)
            or segment.find(b"hidden") >= 0
            or _EMPTY_ROW.search(segment)
            or (segment.find(b":") >= 0 and _FOREIGN_PREFIX.search(segment))
        ):
            return False
        pieces = segment.split(b"</row>")
        counts = [piece.count(b"<c") for piece in pieces]
        first = self.col_index + counts[0]
        widest = max(first, max(counts[1:], default=0))
        last = max((k for k, n in enumerate(counts) if n), default=None)
        if last is not None:
            self.unplaced = True
            row = self.row_index + 1 + last
            if row > EXCEL_MAX_ROWS or widest > EXCEL_MAX_COLUMNS:
                return False  # the slow path names the cell
            if self.first and not self.has_shared_strings and b't="s"' in segment:
                self._no_shared_strings()
            if row > self.scan.rows or widest > self.scan.columns:
                self.scan.far_cell = (row, widest)
            self.scan.rows = max(self.scan.rows, row)
            self.scan.columns = max(self.scan.columns, widest)
        if self.count_shared:
            self.scan.shared_cells += segment.count(b't="s"')
        self.first = False
        self.row_index += len(pieces) - 1
        self.col_index = first if len(pieces) == 1 else counts[-1]
        return True

    # -- slow path: tag by tag ------------------------------------------------

    def _slow(self, segment: bytes) -> None:
        scan = self.scan
        for match in _TAG.finditer(segment):
            closing, name, attrs_text = match.groups()
            if name != b"c":
                self._row_tag(closing, attrs_text)
                continue
            ref = kind = None
            if b"=" in attrs_text:
                for attr in _CELL_ATTR.finditer(attrs_text):
                    value = attr[2] if attr[3] is None else attr[3]
                    if attr[1] == b"r":
                        ref = value
                    else:
                        kind = value
            if ref is not None:
                found = _REF.fullmatch(ref.strip())
                if not found:
                    raise _damaged(f"cell reference '{_short(_unescape(ref))}'")
                row, column = self._check_ref(found[1], found[2], "cell")
                self.col_index = column - 1
            else:
                self.unplaced = True
                if self.row_index is None:
                    raise _Restart
                row, column = self.row_index + 1, self.col_index + 1
                if row > EXCEL_MAX_ROWS or column > EXCEL_MAX_COLUMNS:
                    self._check_ref(
                        column_name(column).encode(), str(row).encode(), "cell"
                    )
            self.col_index += 1
            if kind == b"s":
                if not self.has_shared_strings:
                    self._no_shared_strings()
                if self.count_shared:
                    scan.shared_cells += 1
            if row > scan.rows or column > scan.columns:
                scan.far_cell = (row, column)
                scan.rows = max(scan.rows, row)
                scan.columns = max(scan.columns, column)
            if (
                kind == b"e"
                and self.errors is not None
                and column in self.errors[0]
                and not attrs_text.rstrip().endswith(b"/")
            ):
                self.pending_error = (row, column)
                self._resolve_error(segment, match.end())

    def _resolve_error(self, segment: bytes, start: int) -> None:
        found = _ERROR_VALUE.match(segment, start)
        if found:
            text = _unescape(found[1]).strip()
            if text:
                self.errors[1].append((*self.pending_error, text[:20]))
            self.pending_error = None
        elif start == 0 or segment.find(b"<", start) >= 0:
            self.pending_error = None  # no value: calamine sees an empty cell

    def _no_shared_strings(self):
        raise _damaged(
            "its text cells point into a shared-strings table "
            "(xl/sharedStrings.xml) that the file does not contain"
        )


# -- chunks for parallel readers -----------------------------------------------

_ROW_OPEN = re.compile(rb"<(?:[\w.-]+:)?row[\s/>]")
_SHEET_DATA_CLOSE = re.compile(rb"</(?:[\w.-]+:)?sheetData[\s>]")
HEAD_LIMIT = 1 << 20  # the XML before the cells, repeated in every chunk


@dataclass
class SheetChunk:
    """A run of whole rows of a sheet as a worksheet XML of its own: the
    sheet's XML before its cells, the rows, and the end of ``sheetData``
    (which ends calamine's reading). ``pieces`` joined are the XML."""

    index: int
    pieces: list = field(repr=False)

    @property
    def size(self) -> int:
        return sum(len(piece) for piece in self.pieces)


class SheetSplitter:
    """Cuts a sheet's XML into chunks of whole rows while :func:`scan_sheet`
    reads it, so that readers can read the chunks in parallel and get the
    cells reading the whole sheet gives.

    A chunk starts at the first row tag past ``chunk_bytes`` of XML, and is
    handed to ``ready(chunk)`` only when the scan has checked it and every
    byte before it, and the sheet so far is within the limits (the checks
    only grow stricter as the scan goes on, so the chunk is no larger than
    a sheet the scan accepts). The rest waits for the end of the scan.

    Splitting stops (``complete`` stays False: read the sheet whole) when a
    cell has no reference (its place would depend on the rows before it),
    or the XML holds markup other than tags (comments, CDATA, DTDs,
    processing instructions: a row tag could hide in them), or its head is
    larger than ``HEAD_LIMIT``, or the scan ends early. Readers must also
    check that the chunks' rows follow each other; see the caller.
    """

    def __init__(self, chunk_bytes: int, ready):
        self.chunk_bytes = max(int(chunk_bytes), 1)
        self.ready = ready
        self.active = True
        self.complete = False
        self.offset = 0  # where the next segment starts in the XML
        self.kept: list[tuple[int, bytes]] = []  # from the current chunk on
        self.head: bytes | None = None
        self.data_start = 0
        self.closing = b""
        self.starts = [0]  # where each chunk starts
        self.ended = False  # past </sheetData>: no more cuts
        self.pending: list[SheetChunk] = []
        self.sent = 0
        self.crc = 0  # of the XML: calamine would check the part's

    def stop(self) -> None:
        self.active = False
        self.kept, self.pending, self.head = [], [], None

    def feed(self, segment: bytes, scanner: _SheetScanner, safe: bool) -> None:
        """The next segment, which ``scanner`` has accepted; ``safe``: the
        sheet so far is within the limits."""
        start = self.offset
        self.offset += len(segment)
        if not self.active:
            return
        self.crc = zlib.crc32(segment, self.crc)
        if (
            scanner.unplaced
            or _markup(segment, b"<!") >= 0
            or _instruction(segment, start)
        ):
            self.stop()
            return
        self.kept.append((start, segment))
        if self.head is None:
            if scanner.state != "data":
                if scanner.state == "done" or self.offset > HEAD_LIMIT:
                    self.stop()
                return
            self.data_start = start + scanner.data_offset
            if self.data_start > HEAD_LIMIT:
                self.stop()
                return
            self.head = b"".join(s for _, s in self.kept)[: self.data_start]
            self.closing = b"</" + scanner.prefix + b"sheetData>"
        if not self.ended:
            self._cut(segment, start)
        if safe:
            self._send()

    def _cut(self, segment: bytes, start: int) -> None:
        first = max(self.data_start - start, 0)
        close = _sheet_data_close(segment, first)
        limit = len(segment) if close is None else close
        while True:
            target = max(self.starts[-1] + self.chunk_bytes - start, first)
            if target >= limit:
                break
            found = _ROW_OPEN.search(segment, target, limit)
            if found is None:
                break
            self._close_chunk(start + found.start())
        if close is not None:
            self.ended = True

    def _slice(self, begin: int, end: int) -> list:
        views = []
        for offset, segment in self.kept:
            low, high = max(begin, offset), min(end, offset + len(segment))
            if low < high:
                views.append(memoryview(segment)[low - offset : high - offset])
        return views

    def _close_chunk(self, cut: int) -> None:
        index = len(self.starts) - 1
        pieces = self._slice(self.starts[-1], cut)
        if index:
            pieces.insert(0, self.head)
        pieces.append(self.closing)
        self.pending.append(SheetChunk(index, pieces))
        self.starts.append(cut)
        self.kept = [(o, s) for o, s in self.kept if o + len(s) > cut]

    def _send(self) -> None:
        for chunk in self.pending:
            self.ready(chunk)
            self.sent += 1
        self.pending = []

    def finish(self, crc: int) -> None:
        """The scan accepted the sheet, whose part declares ``crc``: hand
        over the rest."""
        if (
            not self.active
            or self.head is None
            or len(self.starts) < 2
            or self.crc != crc
        ):
            self.stop()
            return
        last = [self.head, *self._slice(self.starts[-1], self.offset)]
        self.pending.append(SheetChunk(len(self.starts) - 1, last))
        self.kept = []
        self._send()
        self.complete = True


def _sheet_data_close(segment: bytes, start: int) -> int | None:
    """Where the first '</sheetData>' tag (any prefix) opens, else None."""
    found = segment.find(b"sheetData", start)
    while found >= 0:
        opening = segment.rfind(b"<", start, found)
        if opening >= 0 and _SHEET_DATA_CLOSE.match(segment, opening):
            return opening
        found = segment.find(b"sheetData", found + 1)
    return None


def _markup(segment: bytes, pair: bytes, start: int = 0) -> int:
    """``segment.find(pair)`` for a '<' and a character that is rare in
    sheets ('!', '?'): memchr for the character, then a look at the byte
    before it."""
    mark = pair[1:]
    found = segment.find(mark, start + 1)
    for _ in range(64):
        if found < 0 or segment[found - 1] == pair[0]:
            return found - 1 if found >= 0 else -1
        found = segment.find(mark, found + 1)
    return segment.find(pair, start)  # the character is common here


def _instruction(segment: bytes, start: int) -> bool:
    """Whether a processing instruction other than the XML declaration
    (which opens the part, after a byte order mark) is in the segment."""
    found = _markup(segment, b"<?")
    if found < 0:
        return False
    declaration = start == 0 and segment[:found] in (b"", codecs.BOM_UTF8)
    return not declaration or _markup(segment, b"<?", found + 2) >= 0


def scan_sheet(
    package: XlsxPackage, sheet: SheetInfo, splitter: SheetSplitter | None = None
) -> SheetScan:
    """Stream one sheet's XML and refuse it when reading it would not be safe.

    Raises :class:`ConsumptionFileError` for cells beyond Excel's grid, more
    rows than ``max_rows``, a used range over ``max_cells`` or far sparser
    than the sheet (see the module doc), texts no cell holds, shared text
    repeated past ``max_inflated_bytes``; returns the hidden rows (and where
    to look for error cells: :func:`error_cells`).

    ``splitter`` (:class:`SheetSplitter`) cuts the XML into chunks of whole
    rows as it is scanned, for readers working in parallel.
    """
    limits = package.limits
    part = package.part(sheet.path) if sheet.path else None
    if part is None:
        if splitter is not None:
            splitter.stop()
        return SheetScan(sheet.name)
    shared = package.shared
    # Shared text is counted only when it could matter: cells x longest text.
    possible_cells = part.declared // MIN_CELL_BYTES + 1
    count_shared = bool(
        shared
        and shared.longest * possible_cells + part.declared > limits.max_inflated_bytes
    )
    scan = _run(package, sheet, part, count_shared, exact=False, splitter=splitter)
    if not scan.exact_columns and (scan.cells > limits.max_cells or _too_sparse(scan)):
        scan = _run(package, sheet, part, count_shared, exact=True)
    _check_range(scan, limits)
    if count_shared:
        _check_shared_text(package, part, scan)
    if splitter is not None:
        splitter.finish(part.info.CRC)
    return scan


def _run(package, sheet, part, count_shared, exact, splitter=None) -> SheetScan:
    limits = package.limits
    scanner = _SheetScanner(package, sheet, count_shared, exact)
    what = f"sheet '{_short(sheet.name)}'"
    try:
        for segment in _pieces(
            package, part, limits.max_inflated_bytes, what, scanner.cut
        ):
            scanner.feed(segment)
            if scanner.state == "done" or scanner.scan.rows > limits.max_rows:
                if splitter is not None:
                    splitter.stop()
                break
            if splitter is not None:
                splitter.feed(
                    segment,
                    scanner,
                    safe=not count_shared
                    and _within_limits(scanner.scan, limits, part.declared),
                )
    except _Restart:
        if exact:  # pragma: no cover - exact scans know every row
            raise
        if splitter is not None:
            splitter.stop()
        return _run(package, sheet, part, count_shared, exact=True)
    scan = scanner.scan
    scan.xml_bytes = part.declared
    return scan


def _too_sparse(scan: SheetScan) -> bool:
    return _sparse(scan.cells, scan.xml_bytes)


def _sparse(cells: int, xml_bytes: int) -> bool:
    possible = xml_bytes // MIN_CELL_BYTES + 1
    return cells > max(SPARSE_FLOOR, SPARSE_FACTOR * possible)


def _within_limits(scan: SheetScan, limits: Limits, xml_bytes: int) -> bool:
    """Whether the sheet so far passes :func:`_check_range` (which only ever
    grows stricter as the scan goes on)."""
    cells = scan.cells
    return (
        scan.rows <= limits.max_rows
        and cells <= limits.max_cells
        and not _sparse(cells, xml_bytes)
    )


def _check_range(scan: SheetScan, limits: Limits) -> None:
    if not scan.cells:
        return
    used = f"A1:{column_name(scan.columns)}{scan.rows}"
    far = ""
    if scan.far_cell and scan.exact_columns:
        row, column = scan.far_cell
        far = f", stretched by cell {column_name(column)}{row}"
    if _too_sparse(scan):
        raise refuse(
            f"Sheet '{_short(scan.name)}' spans {used}{far}: "
            f"{number(scan.cells)} cells, far more than its "
            f"{size(scan.xml_bytes)} of cell data can fill (a stray value far "
            "from the data?). Delete the rows and columns beyond the data in "
            "Excel and save the file again."
        )
    if scan.rows > limits.max_rows:
        raise refuse(too_many_rows(f"Sheet '{_short(scan.name)}'", limits))
    if scan.cells > limits.max_cells:
        raise refuse(
            f"Sheet '{_short(scan.name)}' spans {used}{far}: "
            f"{number(scan.cells)} cells, more than the "
            f"{number(limits.max_cells)} allowed. Split the file or delete the "
            "columns beyond the data."
        )


def _check_shared_text(package: XlsxPackage, part: Part, scan: SheetScan) -> None:
    """Text the sheet's shared-string cells repeat, exact when it matters."""
    shared, limits = package.shared, package.limits
    budget = limits.max_inflated_bytes - part.declared
    if scan.shared_cells * shared.longest <= budget:
        return
    prefix = scan.prefix

    def cut(buffer):
        found = max(buffer.rfind(b"<" + prefix + b"c "), buffer.rfind(b"<c "))
        return found if found > 0 else buffer.rfind(b"<")

    lengths, total, matched = shared.lengths, 0, 0
    for segment in _pieces(package, part, limits.max_inflated_bytes, "sheet", cut):
        found = _SHARED_INDEX.findall(segment)
        if found:
            indexes = np.array([int(i) if len(i) < 12 else -1 for i in found])
            if indexes.min() < 0 or indexes.max() >= len(lengths):
                raise _damaged(
                    "a text cell points past the end of its shared-strings table"
                )
            total += int(lengths[indexes].sum())
            matched += len(indexes)
        if total > budget:
            break
    total += max(0, scan.shared_cells - matched) * shared.longest
    if total > budget:
        raise refuse(
            f"Sheet '{_short(scan.name)}' repeats its shared texts into more "
            f"than {size(limits.max_inflated_bytes)} of text (the limit for what "
            "a workbook unpacks to): it is not a consumption file a distributor "
            "sends."
        )


def error_cells(
    package: XlsxPackage, scan: SheetScan, columns: set[int]
) -> Iterator[tuple[int, int, str]]:
    """(row, column, "#N/A") of the cells of ``columns`` holding an Excel error.

    The sheet scan leaves them out (calamine hands error cells over as empty
    strings); the reader asks only when it meets empty cells where values are
    expected, so clean files never pay for this pass. Nothing is gathered:
    errors are yielded a segment at a time.
    """
    part = package.part(scan.path) if scan.path else None
    if part is None or not columns:
        return
    prefix = scan.prefix

    def cut(buffer):
        found = max(buffer.rfind(b"<" + prefix + b"c "), buffer.rfind(b"<c "))
        return found if found > 0 else buffer.rfind(b"<")

    limit = package.limits.max_inflated_bytes
    for segment in _pieces(package, part, limit, "sheet", cut):
        found = []
        for quoted in (b'"e"', b"'e'"):
            position = segment.find(quoted)
            while position >= 0:
                start = segment.rfind(b"<", 0, position)
                end = segment.find(b">", position)
                tag = segment[start : end + 1] if start >= 0 and end > 0 else b""
                match = _TAG.fullmatch(tag)
                if match and match[2] == b"c" and _ERROR_TYPE.search(match[3]):
                    ref = next(
                        (
                            a[2] if a[3] is None else a[3]
                            for a in _CELL_ATTR.finditer(match[3])
                            if a[1] == b"r"
                        ),
                        None,
                    )
                    parts = _REF.fullmatch(ref.strip()) if ref else None
                    if parts is None:  # placed by counting: scan exactly
                        yield from _counted_errors(package, scan, part, columns)
                        return
                    column = column_number(parts[1])
                    value = _ERROR_VALUE.match(segment, end + 1)
                    if column in columns and value and value[1].strip():
                        text = _unescape(value[1]).strip()[:20]
                        found.append((int(parts[2]), column, text))
                position = segment.find(quoted, position + 1)
        yield from found


def _counted_errors(package, scan, part, columns):
    sink: list[tuple[int, int, str]] = []
    sheet = SheetInfo(scan.name, scan.path, "visible")
    scanner = _SheetScanner(package, sheet, False, exact=True, errors=(columns, sink))
    limit = package.limits.max_inflated_bytes
    for segment in _pieces(package, part, limit, "sheet", scanner.cut):
        scanner.feed(segment)
        yield from sink
        sink.clear()
