"""Apps that act on orders as an import writes them (loyalty points) register a hook here.

The importer calls every hook inside its transaction, so what a hook writes commits or rolls
back with the orders: ``before()`` just before the orders are written (it returns a marker, such
as the highest order id so far), ``after(marker, source=..., changed=...)`` once they are.
A hook registered with ``touched=True`` also receives ``touched=``: an SQL query (no parameters)
of the ids of the customers whose stored orders the import updated, each order's customer
before and after (an order may move to another customer), or None when it updated none (new
orders lie above the marker). The query reads the import's temporary tables: run it inside
``after`` only.
Ingest imports no app above it; the app registers itself from its ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["OrdersHook", "orders_hook_register", "orders_hooks"]


@dataclass(frozen=True)
class OrdersHook:
    name: str
    before: Callable[[], Any]
    after: Callable[..., None]
    touched: bool = False


_HOOKS: dict[str, OrdersHook] = {}


def orders_hook_register(hook: OrdersHook) -> None:
    """Register (or replace, by name) a hook run around every import of orders."""
    _HOOKS[hook.name] = hook


def orders_hooks() -> tuple[OrdersHook, ...]:
    return tuple(_HOOKS.values())
