#!/usr/bin/env python3
"""Benchmark read_consumption_file on large generated Sophos files.

Writes a realistic 22-column monthly usage file of N rows (default 100 000)
as .xlsx, .xls and .csv into a temporary directory, then reads each one in
a fresh Python process and prints, per format: rows read, seconds (the best
of ``--repeat`` reads), rows/second, the CPU seconds of that read (all
threads: on a machine others use too, a CPU figure close to the seconds
means the reader had the cores to itself), tracemalloc peak and the
process's max RSS. Not a test: no thresholds, just figures.

The .xlsx holds date and number cells (as Sophos sends it), its texts
inline (openpyxl's write-only mode), or in a shared-strings table as Excel
writes them with ``--shared-strings``; the .xls too, capped at 65 535 data
rows (an .xls sheet has 65 536 rows, one is the header); the .csv is a
European export (";", UTF-8 BOM, decimal commas, dd.mm.yyyy dates), which
takes the text parsers' slower path.

    python3 scripts/benchmark_read.py [--rows N] [--formats xlsx,csv]
        [--repeat N] [--shared-strings] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from ppu_tools import REPO, work_dir

from sophos_ppu.core.sample import SOPHOS_HEADER

XLS_MAX_DATA_ROWS = 65535
HEADER = list(SOPHOS_HEADER)
PRODUCTS = [
    (f"C{family}{tier}CSAA", f"{name} {tier_name}", msrp, round(msrp * 0.8, 4))
    for family, name, base in [
        ("IXA", "Intercept X Advanced", 4.5),
        ("IXE", "Intercept X Essentials", 2.75),
        ("SVR", "Server Protection", 12.0),
        ("MDR", "MDR Complete", 9.95),
        ("EML", "Email Protection", 1.6),
        ("MOB", "Mobile Advanced", 0.85),
    ]
    for tier, tier_name, msrp in [
        (1, "for Endpoint", base),
        (2, "for Server", round(base * 2.4, 2)),
        (3, "with XDR", round(base * 1.35, 2)),
        (4, "with MTR", round(base * 1.9, 2)),
        (5, "Add-on", round(base * 0.4, 2)),
    ]
]


def generate_rows(count: int, seed: int = 7):
    """Rows of one month for ~count/3 end users of 40 resellers."""
    rng = random.Random(seed)
    start, end = dt.date(2025, 1, 1), dt.date(2025, 1, 31)
    for i in range(count):
        user = i // 3
        sku, description, msrp, price = PRODUCTS[rng.randrange(len(PRODUCTS))]
        quantity = rng.randint(1, 500)
        partner = user % 40
        yield [
            f"P-{100200 + partner}",
            start,
            end,
            f"Reseller {partner:02d} GmbH",
            f"Customer {user:06d} AG",
            "DE",
            "EMEA",
            f"{user:08x}-5e4b-4a3c-9d2f-{i % 3:012x}",
            "Monthly in arrears",
            sku,
            "EUR",
            f"MSP-2025-01-{partner:03d}",
            "MSP Flex",
            "Central",
            description,
            "1 month",
            "User",
            quantity,
            quantity,
            msrp,
            "20%",
            price,
        ]


def write_xlsx(path: Path, rows: int, shared_strings=False) -> None:
    if shared_strings:
        write_xlsx_shared_strings(path, rows)
        return
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Usage")
    sheet.append(HEADER)
    for row in generate_rows(rows):
        sheet.append(row)
    workbook.save(path)


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def write_xlsx_shared_strings(path: Path, rows: int) -> None:
    """The workbook as Excel writes it: texts in xl/sharedStrings.xml, dates
    as serial numbers with a date format (openpyxl writes texts inline)."""
    import zipfile
    from xml.sax.saxutils import escape

    strings: dict[str, int] = {}
    epoch = dt.date(1899, 12, 30)

    def cell(ref, value):
        if isinstance(value, str):
            index = strings.setdefault(value, len(strings))
            return f'<c r="{ref}" t="s"><v>{index}</v></c>'
        if isinstance(value, dt.date):
            return f'<c r="{ref}" s="1"><v>{(value - epoch).days}</v></c>'
        return f'<c r="{ref}"><v>{value!r}</v></c>'

    letters = [chr(65 + i) for i in range(len(HEADER))]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<worksheet xmlns="{MAIN_NS}"><dimension ref="A1:V{rows + 1}"/>'
                "<sheetData>".encode()
            )
            for number, row in enumerate([HEADER, *generate_rows(rows)], start=1):
                cells = "".join(
                    cell(f"{letter}{number}", value)
                    for letter, value in zip(letters, row, strict=True)
                )
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
        items = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{MAIN_NS}" count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">{items}</sst>',
        )
        archive.writestr(
            "xl/styles.xml",
            f'<styleSheet xmlns="{MAIN_NS}"><cellXfs count="2"><xf numFmtId="0"/>'
            '<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{OFFICE_RELS}"><sheets>'
            '<sheet name="Usage" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{OFFICE_RELS}/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{OFFICE_RELS}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{OFFICE_RELS}/styles" '
            'Target="styles.xml"/></Relationships>',
        )
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default '
            'Extension="xml" ContentType="application/xml"/><Override '
            'PartName="/xl/workbook.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
            f'Type="{OFFICE_RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )


def write_xls(path: Path, rows: int) -> None:
    import xlwt

    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Usage")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for c, head in enumerate(HEADER):
        sheet.write(0, c, head)
    for r, row in enumerate(generate_rows(rows), start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date_style)
            else:
                sheet.write(r, c, value)
    workbook.save(str(path))


def _european(value):
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    return str(value)


def write_csv(path: Path, rows: int) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for row in generate_rows(rows):
            writer.writerow([_european(v) for v in row])


WRITERS = {"xlsx": write_xlsx, "xls": write_xls, "csv": write_csv}

MEASURE = """
import json, resource, sys, time, tracemalloc
from sophos_ppu.core import read_consumption_file, summarize
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
baseline = rss()
best = None
for _ in range(int(sys.argv[2])):
    started, cpu = time.perf_counter(), time.process_time()
    result = read_consumption_file(sys.argv[1])
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    best = min(best or (seconds, cpu), (seconds, cpu))
    summary = summarize(result)
    rows, issues = len(result.rows), len(result.issues)
    del result, summary
max_rss = rss()
tracemalloc.start()
read_consumption_file(sys.argv[1])
peak = tracemalloc.get_traced_memory()[1] / 2**20
print(json.dumps(dict(rows=rows, issues=issues, seconds=best[0], cpu=best[1],
                      peak=peak, max_rss=max_rss, baseline=baseline)))
"""


def measure(path: Path, repeat: int) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(repeat)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)


def write_in_child(fmt: str, path: Path, rows: int, shared_strings=False) -> None:
    """Write in another process: the readers' max RSS must not inherit the
    writer's (Linux keeps the peak RSS across fork and exec)."""
    command = [sys.executable, __file__, "--write", fmt, str(path), str(rows)]
    subprocess.run(command + ["--shared-strings"] * shared_strings, check=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--formats", default="xlsx,xls,csv")
    parser.add_argument("--dir", help="write the files here (kept)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument(
        "--repeat", type=int, default=3, help="reads per file, the best counts"
    )
    parser.add_argument(
        "--shared-strings",
        action="store_true",
        help=".xlsx texts in a shared-strings table, as Excel writes them",
    )
    parser.add_argument("--write", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write:
        fmt, path, rows = args.write
        if fmt == "xlsx":
            write_xlsx(Path(path), int(rows), args.shared_strings)
        else:
            WRITERS[fmt](Path(path), int(rows))
        return 0
    with work_dir(args.dir, "sophos-ppu-bench-", args.keep) as directory:
        print(f"Writing {args.rows} rows per format into {directory}")
        files = write_files(directory, args)
        print()
        read_files(files, args.repeat)
    return 0


def write_files(directory, args):
    """Each format's file of ``args.rows`` rows (.xls capped)."""
    files = {}
    for fmt in args.formats.split(","):
        rows = args.rows
        if fmt == "xls" and rows > XLS_MAX_DATA_ROWS:
            print(
                f"  xls: capped at {XLS_MAX_DATA_ROWS} data rows (an .xls sheet "
                "holds 65536 rows including the header)"
            )
            rows = XLS_MAX_DATA_ROWS
        path = directory / f"usage.{fmt}"
        started = time.perf_counter()
        write_in_child(fmt, path, rows, args.shared_strings)
        size = path.stat().st_size / 2**20
        elapsed = time.perf_counter() - started
        print(f"  {fmt}: {rows} rows, {size:.1f} MiB, written in {elapsed:.1f} s")
        files[fmt] = path
    return files


def read_files(files, repeat):
    """Read each file ``repeat`` times in a fresh process; print the best."""
    print(f"Best of {repeat} reads per file:")
    print(
        f"{'format':<6} {'rows':>7} {'seconds':>8} {'rows/s':>8} {'CPU s':>6} "
        f"{'tracemalloc peak':>17} {'max RSS':>9} {'(RSS after imports)':>20}"
    )
    for fmt, path in files.items():
        m = measure(path, max(repeat, 1))
        print(
            f"{fmt:<6} {m['rows']:>7} {m['seconds']:>8.2f} "
            f"{m['rows'] / m['seconds']:>8.0f} {m['cpu']:>6.2f} "
            f"{m['peak']:>13.0f} MiB "
            f"{m['max_rss']:>5.0f} MiB {m['baseline']:>16.0f} MiB"
        )
        if m["issues"]:
            print(f"       ({m['issues']} issues: the generated file is wrong)")


if __name__ == "__main__":
    sys.exit(main())
