"""The cell convention lives in shebao.core.cells: exports write it, the batch import reads it back.

This module keeps the old import path for shebao.exports.xlsx and shebao.batch.services;
remove it once both import shebao.core.cells.
"""

from shebao.core.cells import FORMULA_PREFIXES, safe_cell, unsafe_cell

__all__ = ["FORMULA_PREFIXES", "safe_cell", "unsafe_cell"]
