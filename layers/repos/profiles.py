"""The SQL for import profiles saved in the store; no rules (those are in
:mod:`layers.profile_catalog`).

A saved profile is one row of the settings table (``cpted_settings``): the key is
``profile:`` and the profile's name folded to lower case, the value its TOML text.
Every function takes a :class:`~sqlalchemy.engine.Connection` first and runs in the
caller's transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import tables as wt

#: Keys of saved profiles in the settings table start with this.
PREFIX = "profile:"


def saved_texts(conn: Connection) -> dict[str, str]:
    """Every saved profile's TOML text by its key (without :data:`PREFIX`), in key order."""
    t = wt.METADATA.tables["cpted_settings"]
    rows = conn.execute(sa.select(t.c.key, t.c.value)
                        .where(t.c.key.startswith(PREFIX, autoescape=True))
                        .order_by(t.c.key)).all()
    return {str(k)[len(PREFIX):]: str(v) for k, v in rows}
