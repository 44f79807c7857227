"""The price indices fundcmp ships, by name: what --index offers before any index is read.

Apart from fundcmp.prices so that building the command line does not import it (start-up).
"""

from __future__ import annotations

INDEX_NAMES = ("cpi", "gdp-deflator")
DEFAULT_INDEX = "cpi"
