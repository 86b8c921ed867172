"""sophos-ppu-check: check a Sophos consumption file offline.

Exit status: 0 every row is valid, 1 some rows have issues, 2 the file
cannot be used (missing file, unreadable, no header, required columns
missing); the reason goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from .model import ConsumptionFileError
from .reader import read_consumption_file
from .summary import Summary, summarize

EXIT_OK, EXIT_ISSUES, EXIT_UNUSABLE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sophos-ppu-check",
        description="Check a Sophos pay-per-use consumption file (.xlsx, .xls, "
        ".csv) and print what would be billed.",
    )
    parser.add_argument("file", help="the consumption file")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--currency",
        help="price currency to read when the file has price columns in "
        "several currencies (e.g. EUR)",
    )
    return parser


def _table(headers, rows, right=()):
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


def format_summary(summary: Summary, filename: str) -> str:
    out = [
        f"File: {filename} ({summary.file_format}, header on row "
        f"{summary.header_row_number})",
        f"Rows read: {summary.rows_read}",
        f"Valid rows: {summary.valid_rows}",
        f"Rows with issues: {summary.rows_with_issues}",
        f"Skipped rows: {summary.skipped}",
    ]
    if summary.issues:
        out.append("Issues:")
        out += _table(
            ("row", "column", "value", "reason"),
            [(i.row_number, i.column, i.value, i.reason) for i in summary.issues],
            right={0},
        )
    if summary.skipped_rows:
        out.append("Skipped:")
        out += [f"  row {s.row_number}: {s.reason}" for s in summary.skipped_rows]
    periods = ", ".join(f"{s} to {e}" for s, e in summary.periods) or "none"
    out.append(f"Periods: {periods}")
    out.append(f"Months: {', '.join(summary.months) or 'none'}")
    out.append(f"Currencies: {', '.join(summary.currencies) or 'not stated'}")
    if summary.duplicates:
        out.append("Same consumption on several rows:")
        out += [f"  row {r} repeats row {first}" for r, first in summary.duplicates]
    for note in summary.notes:
        out.append(f"Note: {note}")
    if summary.end_users:
        out.append("Totals per end user:")
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
                for t in summary.end_users
            ],
            right={3, 4, 5, 6},
        )
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


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = read_consumption_file(args.file, currency=args.currency)
    except ConsumptionFileError as exc:
        print(f"sophos-ppu-check: {args.file}: {exc.message}", file=sys.stderr)
        return EXIT_UNUSABLE
    summary = summarize(result)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_summary(summary, args.file))
    return EXIT_ISSUES if summary.rows_with_issues else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
