"""A column profile: how one layout of consumption file names the row's
fields in its header.

A profile lists, per field of the row (:mod:`.row`), the header the layout
writes (its label, named when the column is missing) and the other headers
it is known under, best first. Headers are compared reduced to their
lower-case letters and digits ("End User Identifier", "end_user_id",
"endUserIdentifier" and "END USER IDENTIFIER:" all become
``enduseridentifier``/``enduserid``). A price header may also name its
currency before or after a price alias ("unitPrice.EUR", "Unit Price
(EUR)", "Unit Price in EUR", "msrpUSD", "EUR Unit MSRP", "Unit Price (€)").

The layouts are declared in :mod:`.profiles`; the reader picks the one
whose aliases name the header row best (:func:`.columns.choose_profile`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .row import BY_NAME, PRICES, REQUIRED
from .values import CURRENCY_CODES, cell_text


def normalise_header(text: str) -> str:
    """Lower-case letters and digits only, accents and symbols dropped."""
    text = text.replace("US$", " USD ")
    for symbol, code in (("€", "EUR"), ("£", "GBP"), ("$", "USD"), ("¥", "JPY")):
        text = text.replace(symbol, f" {code} ")
    text = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Column:
    """How a layout names one field of the row: ``label`` is the header it
    writes, ``aliases`` the headers it is read under (reduced), best
    first."""

    field: str
    label: str
    aliases: tuple[str, ...]

    @property
    def required(self) -> bool:
        return BY_NAME[self.field].required


def column(field: str, label: str, *others: str) -> Column:
    """The column of ``field``, written ``label``, also read as ``others``."""
    return Column(field, label, tuple(map(normalise_header, (label, *others))))


@dataclass(frozen=True)
class HeaderMatch:
    field: str
    rank: int
    currency: str | None = None


class Profile:
    """One layout: its columns, in the order its messages name them.

    Every required field of the row has a column; no header names two.
    """

    def __init__(self, name: str, columns: tuple[Column, ...]):
        self.name = name
        self.columns = columns
        self.by_field = {c.field: c for c in columns}
        self.required = tuple(c for c in columns if c.required)
        missing = set(REQUIRED) - set(self.by_field)
        assert not missing, f"profile {name}: no column for {sorted(missing)}"
        self._index: dict[str, tuple[str, int]] = {}
        for each in columns:
            assert each.field in BY_NAME, f"{each.field}: not a row field"
            for rank, key in enumerate(each.aliases):
                assert key not in self._index, f"{name}: alias {key!r} used twice"
                self._index[key] = (each.field, rank)

    def __repr__(self):
        return f"<Profile {self.name}>"

    def extend(self, name: str, **aliases: tuple[str, ...]) -> Profile:
        """A profile that reads what this one reads, and more: ``aliases``
        (headers by field) rank after this profile's own, so that a file
        holding both reads the base's column."""
        unknown = set(aliases) - set(self.by_field)
        assert not unknown, f"{name}: no base column for {sorted(unknown)}"
        return Profile(
            name,
            tuple(
                Column(
                    c.field,
                    c.label,
                    c.aliases + tuple(map(normalise_header, aliases.get(c.field, ()))),
                )
                for c in self.columns
            ),
        )

    def match(self, text: str | None) -> HeaderMatch | None:
        """The field a header names, with the currency the header carries."""
        if not text:
            return None
        key = normalise_header(text)
        if key in self._index:
            return HeaderMatch(*self._index[key])
        for stem, code in ((key[:-3], key[-3:]), (key[3:], key[:3])):
            currency = code.upper()
            if currency not in CURRENCY_CODES:
                continue
            for candidate in (stem, stem.removesuffix("in")):
                found = self._index.get(candidate)
                if found and found[0] in PRICES:
                    return HeaderMatch(found[0], found[1], currency)
        return None

    def score(self, cells) -> tuple[int, int, int]:
        """(required fields named, fields named, columns named) by ``cells``
        (a header row)."""
        matches = [m for m in map(self.match, map(cell_text, cells)) if m]
        found = {m.field for m in matches}
        required = sum(c.field in found for c in self.required)
        return required, len(found), len(matches)
