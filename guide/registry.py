"""Hooks through which higher layers plug into the front desk without guide importing them (a
lower layer never imports a higher one):

- default escort: who walks a client through the hospital when nobody was chosen at the desk
  (VIP's named escort, seed: 就诊时客户服务部应安排专人引导): `register_default_escort(fn)`,
  fn(client) -> a user or None. The first answer that is not None wins.

Apps register in their AppConfig.ready().
"""

from collections.abc import Callable

_default_escorts: list[Callable] = []


def register_default_escort(fn: Callable) -> None:
    if fn not in _default_escorts:
        _default_escorts.append(fn)


def default_escort(client):
    """The escort a new visit of `client` gets when the desk chose none, or None."""
    for fn in _default_escorts:
        escort = fn(client)
        if escort is not None:
            return escort
    return None
