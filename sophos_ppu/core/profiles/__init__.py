"""The layouts of consumption file the reader knows, best guess first.

The reader reads a file with the profile whose aliases name its header row
best (:func:`..columns.choose_profile`); on a tie, the earlier one. Adding a
layout is adding a module here, its profile to :data:`PROFILES` and its
tests.
"""

from .partner_api import PARTNER_API
from .sophos import SOPHOS

PROFILES = (SOPHOS, PARTNER_API)

__all__ = ["PARTNER_API", "PROFILES", "SOPHOS"]
