"""Hostile files made by hand, and the checker run on them in a subprocess.

``xlsx_bytes`` writes a minimal workbook around raw sheet XML (cells exactly
as given, nothing checked): far cells, giant row numbers, error cells,
hidden rows and sheets, text cells without their shared strings. The bombs
(``write_sheet_bomb``, ``write_string_bomb``) stream their content into the
zip, never holding it in memory. ``run_checker`` runs ``python3 -m
sophos_ppu.core.cli`` and measures that process alone (``os.wait4``): exit
status, output, seconds and peak RSS.
"""

from __future__ import annotations

import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sophos_ppu.core import xlsx_parts
from sophos_ppu.core.xlsx_parts import (
    MAIN,
    SHEET_END,
    SHEET_START,
    inline,
    num,
    workbook_parts,
    zip_bytes,
)

REPO = Path(__file__).resolve().parents[1]

HEADER = [
    "End User Identifier",
    "Start Date",
    "End Date",
    "Product Description",
    "Total Quantity",
    "Unit MSRP",
    "Unit Price",
]


def header_row(row: int = 1) -> str:
    cells = "".join(inline(f"{chr(65 + i)}{row}", h) for i, h in enumerate(HEADER))
    return f'<row r="{row}">{cells}</row>'


def data_row(row: int, end_user="EU-1", msrp="4.5", price="3.6", attrs="") -> str:
    """A valid row: January 2025 as text dates, 10 x Intercept X. A value
    given as cell XML ('<c ...') is used as is."""

    def cell(column, value):
        if value.startswith("<c "):
            return value
        return inline(f"{column}{row}", value)

    cells = [
        cell("A", end_user),
        cell("B", "2025-01-01"),
        cell("C", "2025-01-31"),
        cell("D", "Intercept X"),
        num(f"E{row}", 10),
        cell("F", msrp),
        cell("G", price),
    ]
    return f'<row r="{row}"{attrs}>{"".join(cells)}</row>'


def sheet_xml(rows_xml: str, header: bool = True) -> str:
    return xlsx_parts.sheet_xml(rows_xml, header_row() if header else "")


def xlsx_bytes(rows_xml: str = "", *, header=True, shared_strings=None, sheets=None):
    """A workbook whose one visible sheet 'Usage' holds the header row and
    ``rows_xml``; or exactly ``sheets`` [(name, state, sheet XML)]."""
    sheets = sheets or [("Usage", "visible", sheet_xml(rows_xml, header))]
    return zip_bytes(workbook_parts(sheets, shared_strings))


# -- bombs (streamed, never in memory) -------------------------------------


def _stream_workbook(path: Path, sheet_chunks, shared_chunks=None, level=6) -> None:
    parts = workbook_parts(
        [("Usage", "visible", "")], "" if shared_chunks is not None else None
    )
    with zipfile.ZipFile(
        path, "w", zipfile.ZIP_DEFLATED, compresslevel=level
    ) as archive:
        for name, content in parts.items():
            if name == "xl/worksheets/sheet1.xml":
                with archive.open(name, "w", force_zip64=True) as part:
                    for chunk in sheet_chunks:
                        part.write(chunk)
            elif name == "xl/sharedStrings.xml":
                with archive.open(name, "w", force_zip64=True) as part:
                    for chunk in shared_chunks:
                        part.write(chunk)
            else:
                archive.writestr(name, content)


def bare(xml: str) -> str:
    """Rows and cells without references (calamine counts them)."""
    return re.sub(r' r="[A-Z]*[0-9]+"', "", xml)


def write_sheet_bomb(path: Path, inflated: int, kind="rows", level=6) -> Path:
    """A sheet unpacking to ``inflated`` bytes of valid rows ("rows", every
    cell referenced; "bare-rows", no references, as identical rows pack
    best), or of whitespace between the header and one row ("blank")."""

    def chunks():
        yield (SHEET_START + header_row()).encode()
        written = 0
        if kind == "blank":
            block = b" " * (1 << 20)
            while written < inflated:
                yield block
                written += len(block)
            yield (data_row(2) + SHEET_END).encode()
            return
        if kind == "bare-rows":
            block = (bare(data_row(2)) * 4000).encode()
            while written < inflated:
                yield block
                written += len(block)
            yield SHEET_END.encode()
            return
        row = 2
        while written < inflated:
            block = "".join(data_row(r) for r in range(row, row + 4000)).encode()
            row += 4000
            written += len(block)
            yield block
        yield SHEET_END.encode()

    _stream_workbook(path, chunks(), level=level)
    return path


def write_string_bomb(path: Path, inflated: int, level=6) -> Path:
    """A workbook whose shared-strings table holds one text of ``inflated``
    bytes, used as an end customer's name."""

    def shared():
        yield f'<sst xmlns="{MAIN}"><si><t>'.encode()
        block, written = b"x" * (1 << 20), 0
        while written < inflated:
            yield block
            written += len(block)
        yield b"</t></si></sst>"

    header = HEADER + ["Customer Name"]
    cells = "".join(inline(f"{chr(65 + i)}1", h) for i, h in enumerate(header))
    row = data_row(2).replace("</row>", '<c r="H2" t="s"><v>0</v></c></row>')
    sheet = SHEET_START + f'<row r="1">{cells}</row>' + row + SHEET_END
    _stream_workbook(path, [sheet.encode()], shared(), level=level)
    return path


# -- OLE2 ------------------------------------------------------------------


def ole2_bytes(*streams: str) -> bytes:
    """A minimal OLE2 (compound file) container with empty ``streams``:
    header, one FAT sector, one directory sector (512-byte sectors)."""
    assert len(streams) <= 3
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, 1)  # one FAT sector
    struct.pack_into("<I", header, 48, 1)  # directory starts at sector 1
    struct.pack_into("<I", header, 56, 4096)
    struct.pack_into("<IIII", header, 60, end, 0, end, 0)
    difat = [0] + [free] * 108
    struct.pack_into("<109I", header, 76, *difat)
    fat = [fat_sector, end] + [free] * 126
    fat_bytes = struct.pack("<128I", *fat)

    def entry(name, kind, child=free, right=free):
        raw = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        raw[: len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 68, free, right, child)
        struct.pack_into("<IQ", raw, 116, end, 0)
        return bytes(raw)

    entries = [entry("Root Entry", 5, child=1 if streams else free)]
    for index, name in enumerate(streams, start=1):
        right = index + 1 if index < len(streams) else free
        entries.append(entry(name, 2, right=right))
    directory = b"".join(entries).ljust(512, b"\x00")
    return bytes(header) + fat_bytes + directory


# -- running the checker -----------------------------------------------------


@dataclass
class Run:
    status: int
    out: str
    err: str
    seconds: float
    peak_rss_mb: float


# Linux hands a child the peak RSS of the process that spawned it (kept
# across fork and exec): a tiny helper forks the checker, so its figure is
# its own and not pytest's.
_SPAWN = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "sophos_ppu.core.cli",
                              *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as figures:
    figures.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""
OUTPUT_KEPT = 1 << 20


def _tail(handle) -> str:
    handle.seek(0, os.SEEK_END)
    handle.seek(max(0, handle.tell() - OUTPUT_KEPT))
    return handle.read().decode("utf-8", "replace")


def run_checker(path, *args, timeout: float = 300) -> Run:
    """``python3 -m sophos_ppu.core.cli path *args``: exit status, output (its
    last MiB), seconds and the checker's own peak RSS."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as figures,
    ):
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", _SPAWN, figures.name, str(path), *map(str, args)],
            cwd=REPO,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        seconds = time.perf_counter() - started
        status, peak = figures.read().split()
        return Run(int(status), _tail(out), _tail(err), seconds, int(peak) / 1024)
