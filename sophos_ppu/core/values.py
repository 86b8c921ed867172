"""Cell value parsing: amounts as Decimal, dates, text, currency codes.

Parsers never raise. They return ``None`` for an empty cell, a :class:`Bad`
carrying the plain-English reason for a value that cannot be used, or the
parsed value. Cells arrive as whatever the file reader produced: ``str``
(CSV, text cells), ``int``/``float`` (Excel numbers), ``datetime``/``date``/
``pandas.Timestamp`` (Excel date cells).

Amounts. Floats from Excel go through ``repr`` (shortest round-trip text), so
4.5 becomes Decimal("4.5") and 0.1 becomes Decimal("0.1"), never binary noise.
Text accepts currency symbols or ISO codes before or after the number
("€ 4,50", "$5.00", "5.00 USD"), spaces and non-breaking spaces, apostrophes
as thousands separators, a leading or trailing minus, accounting parentheses,
and both decimal conventions ("1.234,56", "1234,56", "1,234.56"). A value
such as "1,234" or "1.234" cannot be decided on its own (decimal or
thousands separator?); the caller passes the file's convention, inferred by
:func:`decimal_separator_hint` over all amount cells of the file, and without
one the value is reported as ambiguous rather than guessed.

Amounts are bounded: at most 15 digits before the decimal point (below one
quadrillion, what a double-precision amount in Odoo still holds to the cent)
and at most 20 after it (trailing zeros aside; Excel's binary noise needs
17). Anything else is "number out of range" or "too many decimals", decided
from the Decimal's exponent before any digit is written out, so "9e999999"
or "1e999999999" cost nothing and never reach arithmetic. Products and sums
of bounded amounts fit :data:`EXACT` (100 digits, no traps): exact, never an
overflow.

Dates. Excel serial numbers (1990-2099), date cells, ISO text with or without
time ("2025-01-01", "2025-01-01T00:00:00Z"), "20250101", day-first text
("01/02/2025", "01.02.2025", "1-Feb-2025", "1 February 2025") and
"Feb 1, 2025". A file whose numeric dates are only readable month-first
("01/31/2025") is read month-first: see :func:`date_order_hint`. A billing
date must lie between 2000-01-01 and two years from today
(:func:`check_date_range`); anything else is "date out of range".

Excel errors ("#N/A", "#DIV/0!", ... as text, or error cells of a workbook,
which the readers hand over as their text) are "cell holds an Excel error",
never an empty or unreadable value: see :func:`excel_error`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Context, Decimal, InvalidOperation
from numbers import Integral, Real

import pandas as pd


@dataclass(frozen=True, slots=True)
class Bad:
    """Why a cell cannot be used, in plain English."""

    reason: str


NOT_A_NUMBER = Bad("not a number")
NOT_A_DATE = Bad("not a date")
AMBIGUOUS_NUMBER = Bad(
    "ambiguous number: the separator may be a decimal or a thousands separator"
)
NOT_A_CURRENCY = Bad("not a currency code")
UNKNOWN_CURRENCY = Bad("unknown currency code")
OUT_OF_RANGE = Bad("number out of range")
TOO_MANY_DECIMALS = Bad("too many decimals")
DATE_OUT_OF_RANGE_REASON = "date out of range"
EXCEL_ERROR = Bad("cell holds an Excel error")

MAX_INTEGER_DIGITS = 15
MAX_DECIMALS = 20
#: Arithmetic on bounded amounts: 100 digits hold any product of two amounts
#: and any sum of a million of them exactly; nothing traps.
EXACT = Context(prec=100, Emax=10_000, Emin=-10_000, traps=[])

EARLIEST_DATE = date(2000, 1, 1)
FUTURE_YEARS = 2

#: What Excel shows in a cell whose formula failed (upper case).
EXCEL_ERRORS = frozenset(
    """#NULL! #DIV/0! #VALUE! #REF! #NAME? #NUM! #N/A #GETTING_DATA #SPILL!
    #CALC! #FIELD! #BLOCKED! #CONNECT! #BUSY! #UNKNOWN! #EXTERNAL! #PYTHON!""".split()
)

#: First characters of a cell that may hold an Excel error.
ERROR_STARTS = frozenset("# \t\u00a0")

# ISO 4217 (List One, 2025): the codes recognised in headers ("Unit Price
# EUR"), next to amounts ("5.00 USD") and in a Currency column. Funds and
# precious metals included; left out: XTS (testing) and XXX (no currency).
# HRK (Croatia, replaced by EUR in 2023) and ANG (replaced by XCG in 2025)
# stay: older months' files carry them.
CURRENCY_CODES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND
    BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU
    CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
    GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA
    MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD
    OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
    SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA
    XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG""".split()
)
CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "¥": "JPY"}

#: Characters that show nothing yet are no white space to ``str.strip``:
#: zero-width space, word joiner, byte order mark (zero-width no-break
#: space). Pasted from web pages, they make a blank cell look filled.
INVISIBLE = "\u200b\u2060\ufeff"
_EDGE_BLANKS = re.compile(f"^[\\s{INVISIBLE}]+|[\\s{INVISIBLE}]+\\Z")

_REMOVED_IN_NUMBERS = dict.fromkeys(map(ord, " \t\u00a0\u202f\u2007\u2009'’"))
_NUMBER_RE = re.compile(
    r"""^(?P<sign1>[-+−]?)
    (?P<cur1>[A-Za-z]{3}|US\$|[€$£¥])?
    (?P<sign2>[-+−]?)
    (?P<body>[0-9][0-9.,]*|[.,][0-9]+)
    (?P<cur2>[A-Za-z]{3}|[€$£¥])?
    (?P<sign3>-?)$""",
    re.VERBOSE,
)
_SCIENTIFIC_RE = re.compile(r"^[-+]?[0-9]+(\.[0-9]+)?[eE][-+]?[0-9]+$")
_PLAIN_NUMBER_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def strip_blanks(text: str) -> str:
    """``text.strip()``, :data:`INVISIBLE` characters at the edges too."""
    text = text.strip()
    if text and (text[0] in INVISIBLE or text[-1] in INVISIBLE):
        return _EDGE_BLANKS.sub("", text)
    return text


def is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not strip_blanks(value)
    if isinstance(value, float):
        return math.isnan(value)
    return value is pd.NaT


def excel_error(value) -> str | None:
    """The Excel error a cell holds ("#N/A", "#DIV/0!"...), else None."""
    if (
        isinstance(value, str)
        and value[:1] in ERROR_STARTS
        and len(value) <= 30
        and (text := value.strip().upper()) in EXCEL_ERRORS
    ):
        return text
    return None


def cell_text(value) -> str | None:
    """The cell as the user would read it, stripped (invisible characters
    too); None when blank."""
    if isinstance(value, str):  # the common case first, stripped once
        return strip_blanks(value) or None
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        value = float(value)
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0,) * 4:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


# -- amounts ---------------------------------------------------------------


def _number_parts(text: str):
    """Split text into (negative, body, currency) or None when not a number."""
    text = text.translate(_REMOVED_IN_NUMBERS)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    match = _NUMBER_RE.match(text)
    if not match:
        return None
    signs = match["sign1"] + match["sign2"] + match["sign3"]
    if len(signs) > 1 or (match["cur1"] and match["cur2"]):
        return None
    if signs in ("-", "−"):
        negative = not negative
    currency = match["cur1"] or match["cur2"]
    if currency:
        currency = CURRENCY_SYMBOLS.get(currency, currency.upper())
        if (
            len(currency) == 3
            and currency.isalpha()
            and currency not in (CURRENCY_CODES)
        ):
            return None
    return negative, match["body"], currency


def _valid_groups(int_part: str, sep: str) -> bool:
    groups = int_part.split(sep)
    return (
        1 <= len(groups[0]) <= 3
        and groups[0].isdigit()
        and all(len(g) == 3 and g.isdigit() for g in groups[1:])
    )


def _other(sep: str) -> str:
    return "." if sep == "," else ","


def _is_decidable(int_part: str, frac: str) -> bool:
    """A single separator is a decimal separator unless it looks like 1,234."""
    return (
        len(frac) != 3 or not int_part or int_part.startswith("0") or len(int_part) > 3
    )


def _canonical_body(body: str, decimal_sep: str | None):
    """Body as "1234.56", or a Bad."""
    has_comma, has_dot = "," in body, "." in body
    if not (has_comma or has_dot):
        return body
    if has_comma and has_dot:
        dec = "," if body.rfind(",") > body.rfind(".") else "."
        int_part, frac = body.rsplit(dec, 1)
        if not frac.isdigit() or not _valid_groups(int_part, _other(dec)):
            return NOT_A_NUMBER
        return int_part.replace(_other(dec), "") + "." + frac
    sep = "," if has_comma else "."
    if body.count(sep) > 1:
        return body.replace(sep, "") if _valid_groups(body, sep) else NOT_A_NUMBER
    int_part, frac = body.split(sep)
    if not frac.isdigit() and frac:
        return NOT_A_NUMBER
    if _is_decidable(int_part, frac) or decimal_sep == sep:
        return (int_part or "0") + "." + (frac or "0")
    if decimal_sep == _other(sep):
        return int_part + frac
    return AMBIGUOUS_NUMBER


def decimal_separator_hint(value) -> str | None:
    """The decimal separator a text amount proves ("," or "."), if any."""
    if not isinstance(value, str):
        return None
    parts = _number_parts(strip_blanks(value))
    if parts is None:
        return None
    body = parts[1]
    has_comma, has_dot = "," in body, "." in body
    if has_comma and has_dot:
        return "," if body.rfind(",") > body.rfind(".") else "."
    if not (has_comma or has_dot):
        return None
    sep = "," if has_comma else "."
    if body.count(sep) > 1:
        return _other(sep)
    int_part, frac = body.split(sep)
    return sep if _is_decidable(int_part, frac) else None


def bounded(number: Decimal):
    """``number`` within the bounds of an amount (see the module doc), else a
    Bad; trailing zeros past 20 decimals are dropped, never rounded."""
    if not number.is_finite():
        return NOT_A_NUMBER
    if not number.is_zero() and number.adjusted() >= MAX_INTEGER_DIGITS:
        return OUT_OF_RANGE
    sign, digits, exponent = number.as_tuple()
    if not any(digits):
        return Decimal((sign, (0,), max(exponent, -MAX_DECIMALS)))
    if exponent < -MAX_DECIMALS:
        zeros = len(digits) - len(bytes(digits).rstrip(b"\x00")) if digits else 0
        if exponent + zeros < -MAX_DECIMALS:
            return TOO_MANY_DECIMALS
        shift = min(zeros, -MAX_DECIMALS - exponent)
        digits = digits[: len(digits) - shift] or (0,)
        number = Decimal((sign, digits, exponent + shift))
    return number


def _decimal(text: str):
    """A numeric text as a bounded Decimal; the constructor only fails here on
    an exponent too large for it ("1e99999999999999999999")."""
    try:
        return bounded(Decimal(text))
    except (InvalidOperation, ValueError):
        return OUT_OF_RANGE


def parse_amount(value, decimal_sep: str | None = None):
    """(Decimal, currency or None), None when blank, or a Bad."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return NOT_A_NUMBER
    if isinstance(value, Integral):
        number = bounded(Decimal(int(value)))
        return number if isinstance(number, Bad) else (number, None)
    if isinstance(value, Real):
        value = float(value)
        if math.isnan(value):
            return NOT_A_NUMBER
        if not abs(value) < 10.0**MAX_INTEGER_DIGITS:
            return OUT_OF_RANGE
        number = bounded(Decimal(int(value) if value.is_integer() else repr(value)))
        return number if isinstance(number, Bad) else (number, None)
    if not isinstance(value, str):
        return NOT_A_NUMBER
    if excel_error(value):
        return EXCEL_ERROR
    text = strip_blanks(value)
    if _PLAIN_NUMBER_RE.match(text) and (
        "." not in text or _is_decidable(*text.lstrip("-").split("."))
    ):
        number = _decimal(text)
        return number if isinstance(number, Bad) else (number, None)
    if _SCIENTIFIC_RE.match(text):
        number = _decimal(text)  # bounded before it is written out in full
        if isinstance(number, Bad):
            return number
        return Decimal(format(number, "f")), None
    parts = _number_parts(text)
    if parts is None:
        return NOT_A_NUMBER
    negative, body, currency = parts
    body = _canonical_body(body, decimal_sep)
    if isinstance(body, Bad):
        return body
    number = _decimal(body)
    if isinstance(number, Bad):
        return number
    return (-number if negative else number), currency


# -- dates -----------------------------------------------------------------

_EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_MIN = (date(1990, 1, 1) - _EXCEL_EPOCH).days
_SERIAL_MAX = (date(2099, 12, 31) - _EXCEL_EPOCH).days

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "jan january januar janvier enero gennaio januari jän",
            "feb february februar fevrier février febrero febbraio februari",
            "mar march märz marz maerz mars marzo maart mär",
            "apr april avril abril aprile",
            "may mai mayo maggio mei",
            "jun june juni juin junio giugno",
            "jul july juli juillet julio luglio",
            "aug august aout août agosto augustus",
            "sep sept september septembre septiembre settembre",
            "oct october oktober octobre octubre ottobre okt",
            "nov november novembre noviembre",
            "dec december dezember decembre décembre diciembre dicembre dez",
        ),
        start=1,
    )
    for name in names.split()
}

_ISO_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s].*)?$")
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL_RE = re.compile(r"^\d{5}(?:\.\d+)?$")
_NUMERIC_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?:[T\s].*)?$")
_DAY_MONTH_RE = re.compile(
    r"^(\d{1,2})\.?[\s\-/]*([^\W\d_]+)\.?[\s\-/,]*(\d{4}|\d{2})$"
)
_MONTH_DAY_RE = re.compile(
    r"^([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$", re.IGNORECASE
)


def _year(text: str) -> int:
    year = int(text)
    return 2000 + year if len(text) == 2 else year


def _make_date(year: int, month: int, day: int):
    try:
        return date(year, month, day)
    except ValueError:
        return NOT_A_DATE


def _from_serial(serial: float):
    if not _SERIAL_MIN <= serial <= _SERIAL_MAX:
        return NOT_A_DATE
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def date_order_hint(value) -> str | None:
    """ "dmy" or "mdy" when a numeric text date can only be read one way."""
    if not isinstance(value, str):
        return None
    match = _NUMERIC_RE.match(strip_blanks(value))
    if not match:
        return None
    first, second = int(match[1]), int(match[2])
    if first > 12 >= second:
        return "dmy"
    if second > 12 >= first:
        return "mdy"
    return None


def parse_date(value, order: str = "dmy"):
    """A date, None when blank, or a Bad. ``order`` is "dmy" or "mdy"."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return NOT_A_DATE
    if isinstance(value, Real):
        value = float(value)
        return _from_serial(value) if math.isfinite(value) else NOT_A_DATE
    if not isinstance(value, str):
        return NOT_A_DATE
    if excel_error(value):
        return EXCEL_ERROR
    text = strip_blanks(value)
    if match := _ISO_RE.match(text) or _COMPACT_RE.match(text):
        return _make_date(int(match[1]), int(match[2]), int(match[3]))
    if _SERIAL_RE.match(text):
        return _from_serial(float(text))
    if match := _NUMERIC_RE.match(text):
        first, second = int(match[1]), int(match[2])
        day, month = (second, first) if order == "mdy" else (first, second)
        return _make_date(_year(match[3]), month, day)
    if match := _DAY_MONTH_RE.match(text):
        month = _MONTHS.get(match[2].lower())
        if month:
            return _make_date(_year(match[3]), month, int(match[1]))
    if match := _MONTH_DAY_RE.match(text):
        month = _MONTHS.get(match[1].lower())
        if month:
            return _make_date(int(match[3]), month, int(match[2]))
    return NOT_A_DATE


def latest_date(today: date | None = None) -> date:
    """The last plausible billing date: two years from today."""
    today = today or date.today()
    try:
        return today.replace(year=today.year + FUTURE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + FUTURE_YEARS, day=28)


def check_date_range(value, latest: date):
    """``value`` when it is not a date or a plausible billing date, else a Bad."""
    if isinstance(value, date) and not EARLIEST_DATE <= value <= latest:
        return Bad(
            f"{DATE_OUT_OF_RANGE_REASON} ({EARLIEST_DATE.isoformat()} to "
            f"{latest.isoformat()})"
        )
    return value


# -- currency --------------------------------------------------------------


def parse_currency(value):
    """Upper-case ISO 4217 code, None when blank, or a Bad."""
    if excel_error(value):
        return EXCEL_ERROR
    text = cell_text(value)
    if text is None:
        return None
    code = CURRENCY_SYMBOLS.get(text, text.upper())
    if len(code) == 3 and code.isascii() and code.isalpha():
        return code if code in CURRENCY_CODES else UNKNOWN_CURRENCY
    return NOT_A_CURRENCY


# -- text ------------------------------------------------------------------


def parse_text(value):
    """The cell's text (see :func:`cell_text`), None when blank, or a Bad."""
    if excel_error(value):
        return EXCEL_ERROR
    return cell_text(value)


def clean_text(value, multiline=False):
    """A typed value as stored: control characters (C0, DEL, C1) dropped.

    One line: line breaks and tabs made spaces, blanks collapsed, stripped.
    ``multiline`` (a reason, a comment): line breaks and tabs kept, line
    breaks normalised to ``\n``, blanks around stripped."""
    text = str(value or "")
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return "".join(
            char for char in text if char in "\n\t" or not is_control(char)
        ).strip()
    text = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or not is_control(char)
    )
    return " ".join(text.split())


def is_control(char) -> bool:
    return unicodedata.category(char) == "Cc"
