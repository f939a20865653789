"""The cell convention moved to shebao.core.cells (exports write it, imports read it back).

Kept only for shebao.batch.services, which still imports unsafe_cell from here; remove this
module once it imports shebao.core.cells.
"""

from shebao.core.cells import FORMULA_PREFIXES, safe_cell, unsafe_cell

__all__ = ["FORMULA_PREFIXES", "safe_cell", "unsafe_cell"]
