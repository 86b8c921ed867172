"""Rows in Sophos's layout: the columns of the core's ``SOPHOS_HEADER``."""

import itertools


def table(rows):
    """The header of ``rows`` (dicts keyed by the core's ``SOPHOS_HEADER``),
    the columns they have in Sophos's order, then the values of each row in
    that order: what a sheet or a CSV file holds."""
    # Imported here: the core (pandas...) only for the scripts that write.
    from sophos_ppu.core.sample import SOPHOS_HEADER

    rows = iter(rows)
    first = next(rows)
    header = [column for column in SOPHOS_HEADER if column in first]
    unknown = set(first) - set(header)
    if unknown:
        raise ValueError(f"not Sophos columns: {sorted(unknown)}")
    yield header
    for row in itertools.chain([first], rows):
        yield [row[column] for column in header]
