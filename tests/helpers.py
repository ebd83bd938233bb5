"""Small helpers shared by tests."""

from __future__ import annotations

from cpted import accounts
from cpted.access import Access
from layers.store import Store


def exporter(store: Store, *, public: bool) -> Access:
    """The door as the public (``public``) or as the command line's operator (an admin)."""
    return Access(store, accounts.public() if public else accounts.operator())
