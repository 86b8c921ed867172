"""Which column holds what: the header row, its layout and its columns.

Columns are found by header text, never by position, through the aliases
of a column profile (:mod:`.profile`, one per layout in :mod:`.profiles`).
The header row is the row among the first ones that names the most required
fields, then fields, in any profile (title rows, merged cells and blank
lines above it are passed over); the file is then read with the profile
that names that row best (:func:`choose_profile`). When several columns
match one field, the earliest alias of the profile wins; the losers are
kept in ``extra`` (``ColumnMap.others``), and a currency they name must
agree with the winner's on every row.

Exports that carry one column per price and currency (the Partner API's)
name the currency in the price header; nested JSON flattened to
"unitPrice.amount" is read as the price. The currency named in the header
becomes the currency of every row. When the file offers complete price
column sets (MSRP and price) in more than one currency, the reader raises
:class:`ConsumptionFileError` listing them unless the caller names one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import ConsumptionFileError
from .profile import HeaderMatch, Profile
from .profiles import PROFILES
from .row import BY_NAME, PRICES
from .values import cell_text

HEADER_SCAN_ROWS = 30
#: The required columns, as the first profile names them: what a file
#: without a header is told to have.
REQUIRED = PROFILES[0].required


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (as Excel names columns)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def find_header_row(rows) -> tuple[int | None, tuple[int, int]]:
    """(index, score) of the row among ``rows`` that looks most like the header.

    The score is (required fields named, fields named) in the profile that
    names most of them. The index is None when no row names at least two
    required columns.
    """
    best, best_score = None, (0, 0)
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = max(profile.score(cells)[:2] for profile in PROFILES)
        if score > best_score:
            best, best_score = index, score
    if best_score[0] < 2:
        best = None
    return best, best_score


def choose_profile(cells) -> Profile:
    """The profile that names the header ``cells`` best: most required
    fields, then fields, then columns named; the earlier one on a tie."""
    return max(PROFILES, key=lambda profile: profile.score(cells))


@dataclass
class ColumnMap:
    """Result of mapping a header row: column indexes by field."""

    indexes: dict[str, int]
    headers: dict[int, str]
    profile: Profile
    price_currency: str | None = None
    notes: list[str] = field(default_factory=list)
    #: The other columns naming a field, best first (kept in ``extra``).
    others: dict[str, list[int]] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers[self.indexes[name]]

    @property
    def extra_indexes(self) -> list[int]:
        used = set(self.indexes.values())
        return [i for i in self.headers if i not in used]


def _choose_currency(candidates, requested):
    """Pick the price currency when headers name currencies."""
    msrp = {m.currency for _, m in candidates.get("unit_msrp", [])}
    price = {m.currency for _, m in candidates.get("unit_cost", [])}
    named = sorted((msrp | price) - {None})
    complete = [c for c in named if msrp & {c, None} and price & {c, None}]
    if requested:
        requested = requested.upper()
        if requested in complete or not named:
            return requested if named else None
        raise ConsumptionFileError(
            f"The file has no Unit MSRP and Unit Price columns in {requested} "
            f"(price currencies found: {', '.join(named)}).",
            currencies=complete,
        )
    if len(complete) > 1:
        raise ConsumptionFileError(
            "The file carries prices in several currencies "
            f"({', '.join(complete)}); choose which one to read.",
            currencies=complete,
        )
    if complete:
        return complete[0]
    if msrp and price and named:
        raise ConsumptionFileError(
            "Unit MSRP and Unit Price are given in different currencies "
            f"({', '.join(named)}).",
            currencies=named,
        )
    return None


def map_columns(
    cells, header_row_number: int, profile: Profile, currency: str | None = None
):
    """Map the header cells to fields as ``profile`` names them, or raise
    ConsumptionFileError."""
    headers: dict[int, str] = {}
    labels: list[str] = []
    candidates: dict[str, list[tuple[int, HeaderMatch]]] = {}
    for index, cell in enumerate(cells):
        text = cell_text(cell)
        headers[index] = text or f"Column {column_letter(index)}"
        labels += [text] if text else []
        match = profile.match(text)
        if match:
            candidates.setdefault(match.field, []).append((index, match))
    price_currency = _choose_currency(candidates, currency)
    indexes: dict[str, int] = {}
    others: dict[str, list[int]] = {}
    notes: list[str] = []
    for name, found in candidates.items():
        if name in PRICES:
            found = [(i, m) for i, m in found if m.currency in (price_currency, None)]
            found.sort(key=lambda item: item[1].currency is None)
        if not found:
            continue
        found.sort(key=lambda item: item[1].rank)
        index, best = found[0]
        twins = [
            i
            for i, m in found[1:]
            if (m.rank, m.currency) == (best.rank, best.currency)
        ]
        if twins and BY_NAME[name].required:
            letters = ", ".join(column_letter(i) for i in [index, *twins])
            raise ConsumptionFileError(
                f"Column '{headers[index]}' appears more than once "
                f"(columns {letters}); keep only one."
            )
        indexes[name] = index
        if found[1:]:
            others[name] = [i for i, _ in found[1:]]
    missing = [c.label for c in profile.required if c.field not in indexes]
    if missing:
        raise ConsumptionFileError(
            f"Required column(s) missing: {', '.join(missing)}. "
            f"Header row {header_row_number} has: {', '.join(labels)}.",
            missing_columns=missing,
        )
    if price_currency:
        used = [headers[indexes[n]] for n in PRICES]
        ignored = [
            headers[i]
            for n in PRICES
            for i, m in candidates[n]
            if m.currency not in (price_currency, None)
        ]
        note = f"Prices in {price_currency}, read from '{used[0]}' and '{used[1]}'"
        if ignored:
            note += f"; ignored {', '.join(repr(h) for h in ignored)}"
        notes.append(note + ".")
    return ColumnMap(indexes, headers, profile, price_currency, notes, others)


def no_header_error() -> ConsumptionFileError:
    labels = ", ".join(f.label for f in REQUIRED)
    return ConsumptionFileError(
        f"No header row found in the first {HEADER_SCAN_ROWS} rows: expected "
        f"column headers such as {labels}.",
        missing_columns=[f.label for f in REQUIRED],
    )
