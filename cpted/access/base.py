"""The door's bookkeeping: one transaction per write with its rate count and change-log
entry, and the privacy rules every read shares."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from cpted import concerns as cc
from cpted.access.permissions import Action, RateLimitError, can, require
from cpted.accounts import Actor
from cpted.i18n import _, ngettext
from cpted.privacy import Role
from layers.clock import iso, now_iso
from layers.errors import CptedError
from layers.repos import changelog
from layers.services import sensitive_codes
from layers.settings import Settings
from layers.store import Store, database_error, write_error

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

T = TypeVar("T")
#: Keys of the public's writes in the request log start with this (see ``Actor.key``).
PUBLIC_PREFIX = "public:"


class Door:
    """The store as one actor may use it (the shared part of :class:`cpted.access.Access`)."""

    def __init__(self, store: Store, actor: Actor, settings: Settings | None = None) -> None:
        self.store = store
        self.actor = actor
        self.settings = settings or Settings()

    # -- who may see what ------------------------------------------------------
    @property
    def exact(self) -> bool:
        """Whether this actor sees sensitive reports as they are (else blurred, no text)."""
        return can(self.actor.role, Action.SEE_EXACT_SENSITIVE)

    @property
    def staff(self) -> bool:
        """Whether this actor sees internal notes and who made each change."""
        return can(self.actor.role, Action.SEE_INTERNAL_NOTES)

    @property
    def privacy_role(self) -> Role:
        return self.actor.role if self.exact else Role.PUBLIC

    def sensitive_codes(self) -> set[str]:
        """Category codes whose reports the public sees blurred and without text."""
        return set(sensitive_codes(cc.services(self.store).values()))

    def _default_visibility(self, service_code: str | None) -> cc.Visibility:
        return "internal" if service_code in self.sensitive_codes() else "public"

    # -- bookkeeping -----------------------------------------------------------
    def _log(self, conn: Connection, action: str, kind: str, target: str,
             detail: Mapping[str, Any] | None = None) -> None:
        changelog.add_entry(conn, at=now_iso(), actor=self.actor.username or "public",
                            actor_role=self.actor.role.value, action=action,
                            target_kind=kind, target_id=target,
                            detail=json.dumps(dict(detail or {}), sort_keys=True,
                                              default=str))

    def _count_write(self, conn: Connection, now: datetime | None = None, *,
                     key: str | None = None) -> None:
        """Record one write; refuse it past the actor's (or ``key``'s) or the public's
        per-minute limit (the refusal rolls back with the write)."""
        now = now or datetime.now(UTC)
        since = iso(now - timedelta(minutes=1))
        key = key or self.actor.key
        whom = (_("from this API key") if (self.actor.username or "").startswith("api:")
                else _("from this account") if self.actor.username else _("from this address"))
        limits = [(changelog.writes_since(conn, key, since), self.settings.max_writes_per_minute,
                   whom, "max_writes_per_minute")]
        if key.startswith(PUBLIC_PREFIX):
            limits.append((changelog.writes_since_prefix(conn, PUBLIC_PREFIX, since),
                           self.settings.max_public_writes_per_minute,
                           _("from the public as a whole"), "max_public_writes_per_minute"))
        for recent, limit, whom, setting in limits:
            if len(recent) >= limit and not self.actor.operator:
                oldest = pd.Timestamp(recent[0])
                wait = max(1, int((oldest + pd.Timedelta(minutes=1) - pd.Timestamp(now))
                                  .total_seconds()) + 1)
                raise RateLimitError(ngettext(
                    "{n} change in the last minute {whom}; the limit is {limit} a minute "
                    "(setting {setting}). Nothing was saved; try again in {wait} s",
                    "{n} changes in the last minute {whom}; the limit is {limit} a minute "
                    "(setting {setting}). Nothing was saved; try again in {wait} s",
                    len(recent)).format(n=len(recent), whom=whom, limit=limit, setting=setting,
                                        wait=wait),
                    retry_after_s=wait)
        # older than any window that reads them (a minute here, an hour for sign-in)
        changelog.prune_writes(conn, iso(now - timedelta(hours=1)), prefix="public:")
        changelog.prune_writes(conn, iso(now - timedelta(hours=1)), prefix="user:")
        changelog.record_write(conn, key, iso(now))

    def _write(self, what: str, action: Action, fn: Callable[[Connection], T], *,
               now: datetime | None = None, key: str | None = None, bump: bool = True) -> T:
        """Check ``action``, then run ``fn(conn)`` in one transaction counted against the
        rate limit (of ``key`` when given, else the actor's). Database failures become a
        :class:`~layers.errors.StoreError` saying nothing was stored. ``bump=False`` for
        writes no page shows (the outbox's bookkeeping), so cached reads stay."""
        require(self.actor, action)
        try:
            with self.store.transaction() as conn:
                self._count_write(conn, now, key=key)
                out = fn(conn)
                if bump:
                    self.store.bump(conn)
            return out
        except CptedError:
            raise
        except Exception as exc:
            if database_error(exc):
                raise write_error(exc, what) from exc
            raise
