"""Hooks through which higher layers plug into the front desk without guide importing them (a
lower layer never imports a higher one):

- default escort: who walks a client through the hospital when nobody was chosen at the desk
  (VIP's named escort, seed: 就诊时客户服务部应安排专人引导): `register_default_escort(fn,
  many=None)`, fn(client) -> a user or None. The first answer that is not None wins. `many`,
  many(client_ids) -> {client_id: user}, answers for a whole list in one query (the board names
  each VIP's escort on its row); a hook without it is asked client by client.

Apps register in their AppConfig.ready().
"""

from collections.abc import Callable

_default_escorts: list[Callable] = []
_default_escorts_many: dict[Callable, Callable] = {}


def register_default_escort(fn: Callable, *, many: Callable | None = None) -> None:
    if fn not in _default_escorts:
        _default_escorts.append(fn)
    if many is not None:
        _default_escorts_many[fn] = many


def default_escort(client):
    """The escort a new visit of `client` gets when the desk chose none, or None."""
    for fn in _default_escorts:
        escort = fn(client)
        if escort is not None:
            return escort
    return None


def default_escorts(clients) -> dict:
    """default_escort for a list of clients (objects with `pk` and `is_vip`): {client id: user}
    for those who have one; each hook asked once for the list when it registered `many`."""
    clients = {client.pk: client for client in clients}
    found: dict = {}
    for fn in _default_escorts:
        missing = [pk for pk in clients if pk not in found]
        if not missing:
            break
        many = _default_escorts_many.get(fn)
        answers = many(missing) if many else {pk: fn(clients[pk]) for pk in missing}
        found.update({pk: user for pk, user in answers.items() if user is not None})
    return found
