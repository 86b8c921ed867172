"""Reading .csv/.txt files: decoding, the delimiter, records and their grid.

Text is decoded as UTF-8 (BOM or not), UTF-16 (BOM or not: see
:func:`utf16_without_bom`), else Windows-1252 and finally Latin-1; the
delimiter (``,`` ``;`` tab ``|``) is the one under which a header row is
recognised, an Excel ``sep=`` line wins. Row numbers are physical line
numbers. A quote left open (which would swallow the rows after it into one
value) refuses the file, naming the line where the quote starts.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator

import numpy as np

from ..columns import HEADER_SCAN_ROWS, find_header_row
from ..limits import Limits, number, too_many_rows
from ..model import ConsumptionFileError
from .grid import Grid, columns_of

DELIMITERS = (",", ";", "\t", "|")
TEXT_SAMPLE_BYTES = 4096  # looked at to tell text (UTF-16 too) from binary


def utf16_without_bom(data: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" when the text is UTF-16 without a byte
    order mark (Excel's "Unicode text" saved by some tools without one),
    else None.

    Headers, dates, amounts and most names are ASCII, so in UTF-16 a NUL
    byte comes every other byte: at odd positions in little-endian, at even
    ones in big-endian, while the other positions have (almost) none.
    """
    sample = data[:TEXT_SAMPLE_BYTES]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    if odd > pairs // 2 and even * 8 < odd:
        return "utf-16-le"
    if even > pairs // 2 and odd * 8 < even:
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): BOMs first, UTF-16 without one, then UTF-8,
    Windows-1252, Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    if utf16 := utf16_without_bom(data):
        return data.decode(utf16, "replace"), utf16
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    lines = text[:65536].splitlines()[:HEADER_SCAN_ROWS]
    if lines and lines[0].lower().startswith("sep=") and len(lines[0]) == 5:
        return lines[0][4]
    scores = {}
    for delimiter in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delimiter))
        widths = [len(r) for r in rows if len(r) > 1]
        scores[delimiter] = (find_header_row(rows)[1], max(widths, default=0))
    return max(DELIMITERS, key=scores.__getitem__)


def _csv_records(text: str, delimiter: str) -> tuple[list[list[str]], np.ndarray]:
    """Records and the physical line each starts on.

    One record per line is the rule, read at C speed; only when quoted
    fields span lines is the file read again record by record, and then a
    quoted value running over lines that look like rows is refused (a quote
    left open swallows the rows after it).
    """
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    try:
        rows = list(reader)
        if reader.line_num == len(rows):
            return rows, np.arange(1, len(rows) + 1)
    except csv.Error:
        pass  # read again record by record, to say where
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    rows, numbers, spanning, last_line = [], [], [], 0
    try:
        for record in reader:
            rows.append(record)
            numbers.append(last_line + 1)
            if reader.line_num - last_line > 1:
                spanning.append(len(rows) - 1)
            last_line = reader.line_num
    except csv.Error as exc:
        start = last_line + 1
        if "field larger" in str(exc):
            raise ConsumptionFileError(
                "The CSV file has a value of more than "
                f"{number(csv.field_size_limit())} characters in the row "
                f"starting on line {start}: most likely a "
                'quote (") opened there is never closed. Fix the quote and export '
                "the file again."
            ) from None
        raise ConsumptionFileError(
            f"The CSV file is malformed at line {reader.line_num}: {exc}"
        ) from None
    if spanning:
        _check_open_quotes(rows, numbers, spanning, delimiter)
    return rows, np.asarray(numbers, dtype=np.int64)


def _check_open_quotes(rows, numbers, spanning, delimiter) -> None:
    """Refuse a quoted value whose lines look like rows of the file."""
    widths = Counter(len(r) for i, r in enumerate(rows) if len(r) > 1)
    width = widths.most_common(1)[0][0] if widths else 2
    enough = max(1, (width - 1) // 2)
    for index in spanning:
        line = numbers[index]
        for value in rows[index]:
            inner = value.split("\n")
            swallowed = [part for part in inner[1:] if part.count(delimiter) >= enough]
            if swallowed:
                raise ConsumptionFileError(
                    f"The CSV file has an unbalanced quote: the value starting on "
                    f"line {line} runs over {len(inner) - 1} more line(s) that look "
                    f'like rows (to line {line + len(inner) - 1}). A quote (") '
                    f"opened on line {line} is not closed; fix it and export the "
                    "file again."
                )
            line += len(inner) - 1


def csv_grids(data: bytes, limits: Limits) -> Iterator[Grid]:
    """The one grid of a text file, its records numbered by physical line."""
    text, encoding = decode_text(data)
    breaks = text.count("\n") or text.count("\r")
    if breaks + (not text.endswith(("\n", "\r"))) > limits.max_rows:
        raise ConsumptionFileError(too_many_rows("The CSV file", limits))
    delimiter = sniff_delimiter(text)
    rows, numbers = _csv_records(text, delimiter)
    del text
    columns = columns_of(rows)
    del rows
    yield Grid(columns, numbers, "csv", encoding=encoding, delimiter=delimiter)
