"""The logic engine's client side: :class:`LogicAPI` (``client.logic``) and :mod:`.expr`.

::

    from noex_client.logic import expr as e      # also: from noex_client import expr

    await client.logic.define_computed(
        "orders", {"total": {"depends": ["qty", "price"], "expr": e.multiply(e.f("qty"), e.f("price"))}}
    )
    assert await client.logic.evaluate_expr(e.add(2, 3)) == 5

``client.logic`` is the :class:`LogicAPI` instance of a client; this module is
where the class and the expression helpers are documented.
"""

from .._api.logic import LogicAPI
from . import expr

__all__ = ["LogicAPI", "expr"]
