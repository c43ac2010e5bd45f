"""The logic engine of the test server (sans-I/O).

- :mod:`.nodes`, :mod:`.operators`, :mod:`.dates`, :mod:`.aggregates`,
  :mod:`.expr`: the expression language, compiled once and evaluated often;
- :mod:`.computed`, :mod:`.constraints`, :mod:`.views`: the three kinds of
  definitions;
- :mod:`.engine`: :class:`LogicEngine`, which ties them to a store.
"""

from .engine import LogicEngine, ViewPush
from .expr import OPERATORS, compile_expr, evaluate
from .nodes import ExprError

__all__ = ["OPERATORS", "ExprError", "LogicEngine", "ViewPush", "compile_expr", "evaluate"]
