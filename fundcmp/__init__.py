"""fundcmp: put grant programmes side by side, honestly."""

__version__ = "0.1.0"
