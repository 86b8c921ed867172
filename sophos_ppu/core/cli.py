"""sophos-ppu-check: check a Sophos consumption file offline.

Exit status:

- 0: every row is valid;
- 1: some rows have issues (listed);
- 2: the file cannot be used: missing, unreadable, refused by the limits
  (size, rows, cells, unpacked size...), no header, required columns
  missing; the reason goes to stderr;
- 3: internal error, a bug of the checker rather than the file: one line on
  stderr (``sophos-ppu-check: FILE: internal error: ...``), no traceback;
- 4: wrong command line (usage on stderr);
- 130: interrupted (Ctrl-C).

Whatever the file holds, the output stays small and safe on a terminal:
cells are cut to 60 characters, control and escape characters are shown
escaped (``\\x1b``), long lists stop after ``--max-listed`` entries (50) with
"... and N more", and runs of blank rows are one line. ``--json`` prints one
valid JSON document alone on stdout, everything in full; library warnings go
to stderr. Closing the output early (``| head -1``) is not an error: the
checker stops quietly with the status it would have given.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile

from .limits import DEFAULT_LIMITS, Limits
from .model import ConsumptionFileError
from .reader import read_consumption_file
from .summary import Summary, summarize

EXIT_OK, EXIT_ISSUES, EXIT_UNUSABLE, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
PROG = "sophos-ppu-check"
CELL_WIDTH = 60
MESSAGE_WIDTH = 2000
LISTED = 50


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _count(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise ValueError(text)
    return value


_count.__name__ = "positive integer"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)b?\s*$", re.IGNORECASE)


def _bytes(text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise ValueError(text)
    scale = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[match[2].lower()]
    value = int(float(match[1]) * scale)
    if value < 1:
        raise ValueError(text)
    return value


_bytes.__name__ = "size (e.g. 50MB)"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Check a Sophos pay-per-use consumption file (.xlsx, .xls, "
        ".csv) and print what would be billed.",
        epilog="Exit status: 0 all rows valid, 1 some rows have issues, 2 the "
        "file cannot be used, 3 internal error, 4 wrong command line.",
    )
    parser.add_argument("file", help="the consumption file")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--currency",
        help="price currency to read when the file has price columns in "
        "several currencies (e.g. EUR)",
    )
    parser.add_argument(
        "--max-listed",
        type=int,
        default=LISTED,
        metavar="N",
        help=f"longest list printed as text (default {LISTED}; 0: no limit)",
    )
    limits = parser.add_argument_group("limits (files beyond them are refused)")
    defaults = DEFAULT_LIMITS
    limits.add_argument(
        "--max-file-bytes",
        type=_bytes,
        default=defaults.max_file_bytes,
        metavar="SIZE",
        help="largest file, e.g. 50MB (default 50MB)",
    )
    for flag, name, what in (
        ("--max-rows", "max_rows", "most rows of a sheet"),
        ("--max-cell-chars", "max_cell_chars", "longest cell text"),
        ("--max-cells", "max_cells", "most rows x columns of a sheet"),
        (
            "--max-compression-ratio",
            "max_compression_ratio",
            "most an .xlsx part " "may unpack to, in times its packed size",
        ),
    ):
        limits.add_argument(
            flag,
            type=_count,
            default=getattr(defaults, name),
            metavar="N",
            help=f"{what} (default {getattr(defaults, name)})",
        )
    limits.add_argument(
        "--max-inflated-bytes",
        type=_bytes,
        default=defaults.max_inflated_bytes,
        metavar="SIZE",
        help="most an .xlsx may unpack to (default 2GB)",
    )
    return parser


# -- safe text -----------------------------------------------------------------


def _escape_char(char: str) -> str:
    return char if char.isprintable() or char == " " else repr(char)[1:-1]


def clean(value, width: int | None = CELL_WIDTH) -> str:
    """Text for a terminal: controls escaped repr-style, cut to ``width``."""
    text = "" if value is None else str(value)
    if width is not None and len(text) > width * 4:
        text = text[: width * 4]  # never escape megabytes to show 60 characters
    if not text.isprintable():
        text = "".join(map(_escape_char, text))
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def _more(items: list, limit: int, what: str) -> tuple[list, list[str]]:
    """(items to show, trailing line) for a list cut at ``limit`` entries."""
    if limit <= 0 or len(items) <= limit:
        return items, []
    return items[:limit], [f"  … and {len(items) - limit} more {what}"]


def _table(headers, rows, right=()):
    rows = [[clean(v) for v in row] for row in rows]
    widths = [
        max(len(str(v)) for v in column) for column in zip(headers, *rows, strict=True)
    ]
    lines = []
    for values in (headers, *rows):
        cells = [
            str(v).rjust(w) if i in right else str(v).ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def _skipped_runs(skipped) -> list[str]:
    """'rows 10–500: blank row' for consecutive rows skipped for one reason."""
    runs: list[list] = []
    for row in skipped:
        last = runs[-1] if runs else None
        if last and last[2] == row.reason and last[1] + 1 == row.row_number:
            last[1] = row.row_number
        else:
            runs.append([row.row_number, row.row_number, row.reason])
    return [
        f"  row {a}: {clean(reason)}" if a == b else f"  rows {a}–{b}: {clean(reason)}"
        for a, b, reason in runs
    ]


def format_summary(summary: Summary, filename: str, listed: int = LISTED) -> str:
    out = [
        f"File: {clean(filename, None)} ({summary.file_format}, header on row "
        f"{summary.header_row_number})",
        f"Rows read: {summary.rows_read}",
        f"Valid rows: {summary.valid_rows}",
        f"Rows with issues: {summary.rows_with_issues}",
        f"Skipped rows: {summary.skipped}",
    ]
    if summary.issues:
        out.append("Issues:")
        shown, rest = _more(summary.issues, listed, "issues")
        out += _table(
            ("row", "column", "value", "reason"),
            [(i.row_number, i.column, i.value, i.reason) for i in shown],
            right={0},
        )
        out += rest
    if summary.skipped_rows:
        out.append("Skipped:")
        shown, rest = _more(_skipped_runs(summary.skipped_rows), listed, "ranges")
        out += shown + rest
    periods = ", ".join(f"{s} to {e}" for s, e in summary.periods) or "none"
    out.append(f"Periods: {clean(periods, 400)}")
    out.append(f"Months: {clean(', '.join(summary.months), 400) or 'none'}")
    out.append(f"Currencies: {', '.join(summary.currencies) or 'not stated'}")
    if summary.repeats:
        out.append("Rows repeating an earlier row exactly (confirm before billing):")
        shown, rest = _more(summary.repeats, listed, "repeated rows")
        out += [f"  row {r} repeats row {first} exactly" for r, first in shown]
        out += rest
    repeated = {r for r, _ in summary.repeats}
    duplicates = [d for d in summary.duplicates if d[0] not in repeated]
    if duplicates:
        out.append("Same consumption on several rows:")
        shown, rest = _more(duplicates, listed, "rows")
        out += [f"  row {r} repeats row {first}" for r, first in shown]
        out += rest
    for note in summary.notes:
        out.append(f"Note: {clean(note, 400)}")
    if summary.end_users:
        out.append("Totals per end user:")
        shown, rest = _more(summary.end_users, listed, "end users (see --json)")
        out += _table(
            (
                "end user",
                "end customer",
                "currency",
                "rows",
                "quantity",
                "qty x MSRP",
                "qty x Unit Price",
            ),
            [
                (
                    t.end_user_identifier,
                    t.end_customer_name or "",
                    t.currency or "",
                    t.rows,
                    t.quantity,
                    t.msrp_amount,
                    t.cost_amount,
                )
                for t in shown
            ],
            right={3, 4, 5, 6},
        )
        out += rest
    out.append("Overall:")
    out += _table(
        ("currency", "rows", "quantity", "qty x MSRP", "qty x Unit Price"),
        [
            (t.currency or "", t.rows, t.quantity, t.msrp_amount, t.cost_amount)
            for t in summary.totals
        ]
        or [("", 0, 0, 0, 0)],
        right={1, 2, 3, 4},
    )
    return "\n".join(out)


# -- main ------------------------------------------------------------------------


def _say(filename: str, message: str) -> None:
    print(
        f"{PROG}: {clean(filename, 200)}: {clean(message, MESSAGE_WIDTH)}",
        file=sys.stderr,
    )


@contextlib.contextmanager
def _reader_output():
    """Keep what reader libraries write on fd 2 (a Rust panic reports itself
    there before it becomes the exception we turn into one line) and pass it
    on, unless it is such a report."""
    try:
        fd = sys.stderr.fileno()
        sys.stderr.flush()
        saved = os.dup(fd)
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        yield  # no real stderr (tests capturing it): nothing to keep
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError, OSError):
                sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            sink.seek(0)
            text = sink.read(MESSAGE_WIDTH * 10).decode("utf-8", "replace")
            if text and "panicked at" not in text:
                sys.stderr.write(text)


def _quiet_stdout() -> None:
    """The reader of our output went away: drop the rest silently."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv=None) -> int:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    try:
        return _check(args)
    except BrokenPipeError:
        _quiet_stdout()
        return getattr(args, "status", EXIT_OK)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        _say(args.file, f"internal error: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL


def _check(args) -> int:
    try:
        limits = Limits(
            max_file_bytes=args.max_file_bytes,
            max_rows=args.max_rows,
            max_cell_chars=args.max_cell_chars,
            max_cells=args.max_cells,
            max_inflated_bytes=args.max_inflated_bytes,
            max_compression_ratio=args.max_compression_ratio,
        )
        # Libraries print (xlrd warns on stdout): stdout is only ours.
        with _reader_output(), contextlib.redirect_stdout(sys.stderr):
            result = read_consumption_file(
                args.file, currency=args.currency, limits=limits
            )
    except ConsumptionFileError as exc:
        _say(args.file, exc.message)
        return EXIT_UNUSABLE
    summary = summarize(result)
    args.status = EXIT_ISSUES if summary.rows_with_issues else EXIT_OK
    if args.json:
        text = json.dumps(summary.to_dict(), indent=2, ensure_ascii=False)
    else:
        text = format_summary(summary, args.file, args.max_listed)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return args.status


if __name__ == "__main__":
    sys.exit(main())
