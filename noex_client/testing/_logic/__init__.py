"""The logic engine of the test server (sans-I/O).

:mod:`.nodes`, :mod:`.operators`, :mod:`.dates`, :mod:`.aggregates`,
:mod:`.expr`: the expression language, compiled once and evaluated often.
"""

from .expr import OPERATORS, compile_expr, evaluate
from .nodes import ExprError

__all__ = ["OPERATORS", "ExprError", "compile_expr", "evaluate"]
