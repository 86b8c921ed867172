#!/usr/bin/env python3
"""Time and peak memory of sophos-ppu-check on hostile files.

Writes the hostile corpus of ``tests/hostile.py`` into a temporary directory
(zip bombs streamed, never held in memory), runs ``python3 -m
sophos_ppu.core.cli`` on each file in a fresh process and prints, per file:
packed size, what it unpacks to, exit status, seconds, the process's peak
RSS (``os.wait4``) and the first words of its message. Bombs run twice: with
the default limits and with the compression ratio lifted, so that the
streaming checks behind it are measured too. Not a test: no thresholds.

    python3 scripts/hostile_figures.py [--code DIR] [--only NAME,...] [--keep]

``--code DIR`` runs the checker of another checkout (e.g. an older commit
exported with ``git archive``) on the same files, for before/after figures.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from ppu_tools import test_helper, work_dir

hostile = test_helper("hostile")

GIB = 1 << 30
LIFT = ("--max-compression-ratio", "100000")


def corpus(folder: Path) -> list[tuple[str, Path, tuple]]:
    """(name, file, extra checker arguments) of every case."""
    h = hostile

    def write(name, data):
        path = folder / name
        path.write_bytes(data)
        return path

    far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    giant = '<row r="99999999999"><c r="A99999999999"><v>1</v></c></row>'
    cases = [
        (
            "blank bomb (1 GiB of blanks)",
            h.write_sheet_bomb(folder / "blank.xlsx", GIB, "blank", level=9),
            (),
        ),
        (
            "row bomb (3.2 M bare rows, 1 GiB)",
            h.write_sheet_bomb(folder / "rows.xlsx", GIB, "bare-rows", level=6),
            (),
        ),
        (
            "dense rows (1.2 M rows, 460 MiB)",
            h.write_sheet_bomb(folder / "dense.xlsx", 460 << 20, "rows", level=1),
            (),
        ),
        (
            "shared-string bomb (one 1 GiB text)",
            h.write_string_bomb(folder / "string.xlsx", GIB, level=9),
            (),
        ),
        (
            "far cell XFD1048576",
            write("far.xlsx", h.xlsx_bytes(h.data_row(2) + far)),
            (),
        ),
        ("row 99999999999", write("giant.xlsx", h.xlsx_bytes(giant)), ()),
        (
            "text cells, no shared strings",
            write(
                "nostrings.xlsx",
                h.xlsx_bytes('<row r="2"><c r="A2" t="s"><v>7</v></c></row>'),
            ),
            (),
        ),
    ]
    bombs = [c for c in cases if "bomb" in c[0] or "dense" in c[0]]
    cases += [(f"{name}, ratio lifted", path, LIFT) for name, path, _ in bombs]
    return cases


def unpacked(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile:
        return "-"
    return f"{total / 2**20:,.0f} MiB"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, help="run the checker of this checkout")
    parser.add_argument("--only", help="comma-separated words of the cases to run")
    parser.add_argument("--keep", action="store_true", help="keep the files")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    if args.code:
        hostile.REPO = args.code.resolve()
    with work_dir(None, "sophos-ppu-hostile-", args.keep) as folder:
        print(f"Writing the hostile files into {folder}; checker from {hostile.REPO}")
        cases = corpus(folder)
        if args.only:
            words = args.only.split(",")
            cases = [c for c in cases if any(w in c[0] for w in words)]
        print()
        print(
            f"{'case':<48} {'packed':>9} {'unpacks':>10} {'exit':>4} "
            f"{'seconds':>7} {'peak RSS':>9}  message"
        )
        for name, path, extra in cases:
            print(figures(name, path, extra, args.timeout))
    return 0


def figures(name, path, extra, timeout):
    """The checker run on one case, as a line of the table."""
    run = hostile.run_checker(path, *extra, timeout=timeout)
    message = (run.err.strip().splitlines() or [""])[-1]
    message = message.split(": ", 2)[-1][:90]
    return (
        f"{name:<48} {path.stat().st_size / 2**20:>6.1f}MiB {unpacked(path):>10} "
        f"{run.status:>4} {run.seconds:>7.2f} {run.peak_rss_mb:>6.0f} MB  {message}"
    )


if __name__ == "__main__":
    sys.exit(main())
