"""The package's XML read as bytes, without a parser: segments cut at tags
(texts no cell holds refused), tag attributes, cell references."""

from __future__ import annotations

import html
import re

from ...limits import Limits, number, size
from ...model import ConsumptionFileError
from ..refusals import refuse
from .parts import Part, XlsxPackage, inflate

# Worksheet tags, any namespace prefix.
ROW_OR_CELL_TAG = re.compile(
    rb"<(?:(/)(?:[\w.-]+:)?row\s*>|(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>)"
)
CELL_REF = re.compile(rb"([A-Za-z]+)([0-9]+)")
CELL_ATTRIBUTE = re.compile(rb"""\s(r|t)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_FORMULA = (
    rb"(?:<(?:[\w.-]+:)?f\b[^>]*/>|<(?:[\w.-]+:)?f\b[^>]*>[^<]*</(?:[\w.-]+:)?f>)?"
)
ERROR_VALUE = re.compile(rb"\s*" + _FORMULA + rb"\s*<(?:[\w.-]+:)?v>([^<]*)<")
SHARED_STRING_INDEX = re.compile(
    rb"<(?:[\w.-]+:)?c\b[^>]*?\st\s*=\s*[\"']s[\"'][^>]*>\s*"
    + _FORMULA
    + rb"\s*<(?:[\w.-]+:)?v>\s*([0-9]+)\s*<"
)
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def tag_attributes(text: bytes) -> dict[bytes, bytes]:
    return {m[1]: m[2] if m[3] is None else m[3] for m in _ATTR.finditer(text)}


def unescape(value: bytes) -> str:
    return html.unescape(value.decode("utf-8", "replace"))


def column_number(letters: bytes) -> int:
    value = 0
    for byte in letters.upper():
        value = value * 26 + byte - 64
    return value


def before_last_cell(prefix: bytes):
    """A ``cut`` for :func:`xml_segments`: segments end before the last cell
    tag, so that a cell and its value stay in one segment."""

    def cut(buffer):
        found = max(buffer.rfind(b"<" + prefix + b"c "), buffer.rfind(b"<c "))
        return found if found > 0 else buffer.rfind(b"<")

    return cut


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


def xml_segments(package: XlsxPackage, part: Part, limit: int, what: str, cut):
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
