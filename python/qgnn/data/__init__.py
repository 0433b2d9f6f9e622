"""Data set importers: TU text format and Planetoid pickles -> GraphSet (.qgd). CLI: python3 -m qgnn.data."""

from .common import DataError
from .planetoid import import_planetoid
from .tu import import_tu

__all__ = ["DataError", "import_planetoid", "import_tu"]
