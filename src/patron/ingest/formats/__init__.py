"""Platform export presets: each platform's file described as data (presets/*.toml).

A preset says how a platform's export is recognised (its header names), which column feeds
which field, how its statuses map to Patron's, whether amounts are net of refunds, whether
an order total repeats on every item row, and which lines close the table (trailers).
Adding a platform means adding a TOML file and a fixture; no code.
"""

from patron.ingest.formats.preset import (
    GENERIC,
    Preset,
    detect_preset,
    load_presets,
    preset_by_name,
    trailer_pattern,
)

__all__ = [
    "GENERIC",
    "Preset",
    "detect_preset",
    "load_presets",
    "preset_by_name",
    "trailer_pattern",
]
