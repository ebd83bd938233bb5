"""Who may do what, enforced where the work is done.

:data:`PERMISSIONS` is the permission table: each protected action and the
roles allowed it. :class:`Access` is the domain API the pages call for one
:class:`~cpted.accounts.Actor`: every method checks the table first, so a page
that forgot to hide a button still cannot act past its role, and reads return
only what the role may see (the public and residents get sensitive categories
blurred to a grid cell and never reporter contact, whatever they call).

Changes that matter later (statuses, merges, deletions, categories, the
instrument, accounts and roles, imports) are written to the audit trail in
the same transaction as the change itself. Writes count against the actor's
rate limit (``max_writes_per_minute``), kept in the database so that every
app process of a deployment sees the same count.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from cpted import accounts as acc
from cpted import concerns as cc
from cpted.accounts import Actor
from cpted.privacy import Role, concerns_for
from layers import tables as wt
from layers.errors import CptedError, StoreError, UnusableInputError
from layers.repos import accounts as repo
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store, database_error, now_iso, write_error


class Action(StrEnum):
    SEE_EXACT_SENSITIVE = "see exact locations of sensitive categories"
    SEE_CONTACT = "see reporter contact"
    CHANGE_STATUS = "change statuses"
    MERGE = "merge duplicate reports"
    DELETE = "delete reports"
    EDIT_CATEGORIES = "edit categories"
    EDIT_INSTRUMENT = "edit the CPTED instrument"
    MANAGE_ACCOUNTS = "manage accounts and roles"
    SEE_AUDIT = "see the change log (audit trail)"
    IMPORT = "import data"


_STAFF = {Role.COORDINATOR, Role.OFFICER, Role.PLANNER, Role.ADMIN}

#: The permission table. Anyone, the public included, may report a concern and
#: support one; everything below needs one of the roles listed.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.SEE_EXACT_SENSITIVE: frozenset(_STAFF),
    Action.SEE_CONTACT: frozenset({Role.COORDINATOR, Role.OFFICER, Role.ADMIN}),
    Action.CHANGE_STATUS: frozenset(_STAFF),
    Action.MERGE: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.DELETE: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.EDIT_CATEGORIES: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.EDIT_INSTRUMENT: frozenset({Role.PLANNER, Role.ADMIN}),
    Action.MANAGE_ACCOUNTS: frozenset({Role.ADMIN}),
    Action.SEE_AUDIT: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.IMPORT: frozenset({Role.COORDINATOR, Role.PLANNER, Role.ADMIN}),
}


class PermissionDeniedError(CptedError):
    """The actor's role may not do this; the message says which roles may."""


class RateLimitError(CptedError):
    """Too many writes from one account in the last minute."""


def can(role: Role | str, action: Action) -> bool:
    return Role(role) in PERMISSIONS[action]


def require(actor: Actor, action: Action) -> None:
    if can(actor.role, action):
        return
    allowed = ", ".join(r.value for r in Role if r in PERMISSIONS[action])
    who = "the public" if actor.role is Role.PUBLIC else f"a {actor.role.value}"
    raise PermissionDeniedError(f"{who} may not {action.value}; that needs one of: {allowed}")


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Access:
    """The store as one actor may use it. Every method checks :data:`PERMISSIONS`."""

    def __init__(self, store: Store, actor: Actor, settings: Settings | None = None) -> None:
        self.store = store
        self.actor = actor
        self.settings = settings or Settings()

    # -- bookkeeping -----------------------------------------------------------
    def _audit(self, conn: sa.Connection, action: str, kind: str, target: str,
               detail: Mapping[str, Any] | None = None) -> None:
        conn.execute(sa.insert(wt.audit_log).values(
            at=now_iso(), actor=self.actor.username or "public", actor_role=self.actor.role.value,
            action=action, target_kind=kind, target_id=target,
            detail=json.dumps(dict(detail or {}), sort_keys=True, default=str)))

    def _count_write(self, conn: sa.Connection, now: datetime | None = None) -> None:
        """Record one write; refuse it past the per-minute limit (rolled back with it)."""
        now = now or datetime.now(UTC)
        r = wt.request_log
        since = _iso(now - timedelta(minutes=1))
        limit = self.settings.max_writes_per_minute
        recent = conn.execute(sa.select(r.c.at).where(r.c.account == self.actor.key,
                                                      r.c.at >= since)
                              .order_by(r.c.at)).scalars().all()
        if len(recent) >= limit:
            oldest = pd.Timestamp(recent[0])
            wait = max(1, int((oldest + pd.Timedelta(minutes=1) - pd.Timestamp(now))
                              .total_seconds()) + 1)
            raise RateLimitError(
                f"{len(recent)} changes in the last minute from this account; the limit is "
                f"{limit} a minute (setting max_writes_per_minute). Nothing was saved; try "
                f"again in {wait} s")
        # older than any window that reads them (a minute here, an hour for sign-in)
        conn.execute(sa.delete(r).where(r.c.at < _iso(now - timedelta(hours=1))))
        conn.execute(sa.insert(r).values(account=self.actor.key, at=_iso(now)))

    def _write(self, what: str, fn: Any) -> Any:
        """Run ``fn(conn)`` in one transaction, counted against the rate limit; database
        failures become a :class:`StoreError` saying nothing was stored."""
        try:
            with self.store.transaction() as conn:
                self._count_write(conn)
                out = fn(conn)
                self.store.bump(conn)
            return out
        except CptedError:
            raise
        except Exception as exc:
            if database_error(exc):
                raise write_error(exc, what) from exc
            raise

    # -- reading ---------------------------------------------------------------
    def sensitive_codes(self) -> set[str]:
        from layers.services import sensitive_codes

        return set(sensitive_codes(cc.services(self.store).values()))

    def concerns(self, *, where: Mapping[str, Sequence[Any]] | None = None,
                 time: tuple[str, Any, Any] | None = None,
                 bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
        """Concerns as this actor may see them (see :func:`cpted.privacy.concerns_for`)."""
        rows = self.store.read(Layer.CONCERNS, where=where, time=time, bbox=bbox)
        return self.as_seen(rows)

    def as_seen(self, rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        role = self.actor.role if can(self.actor.role, Action.SEE_EXACT_SENSITIVE) \
            else Role.PUBLIC
        return concerns_for(role, rows, self.sensitive_codes(),
                            grid_m=self.settings.sensitive_grid_m)

    def concern(self, request_id: str) -> dict[str, Any]:
        """One concern as this actor may see it, with its version.

        The version is read first: should the row change in between, a save from this
        copy is refused as stale rather than accepted over a change not seen.
        """
        try:
            version = cc.version(self.store, request_id)
        except cc.ReportError:
            raise UnusableInputError(f"there is no concern {request_id!r}") from None
        rows = self.concerns(where={"service_request_id": [request_id]})
        if rows.empty:
            raise UnusableInputError(f"there is no concern {request_id!r}")
        out = rows.iloc[0].to_dict()
        out["version"] = version
        return out

    def history(self, request_id: str) -> pd.DataFrame:
        """The report's events. The public sees what happened, not which staff member did it."""
        out = cc.history(self.store, request_id)
        if not can(self.actor.role, Action.CHANGE_STATUS):
            out["actor"] = None
        return out

    def contact(self, request_id: str) -> dict[str, str | None] | None:
        require(self.actor, Action.SEE_CONTACT)
        return cc.contact(self.store, request_id)

    def audit_trail(self, *, target_id: str | None = None, limit: int = 500) -> pd.DataFrame:
        """Who changed what and when, newest first."""
        require(self.actor, Action.SEE_AUDIT)
        a = wt.audit_log
        q = sa.select(a.c.at, a.c.actor, a.c.actor_role, a.c.action, a.c.target_kind,
                      a.c.target_id, a.c.detail).order_by(a.c.id.desc()).limit(limit)
        if target_id is not None:
            q = q.where(a.c.target_id == target_id)
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        out = pd.DataFrame([dict(r) for r in rows],
                           columns=["at", "actor", "actor_role", "action", "target_kind",
                                    "target_id", "detail"])
        out["at"] = pd.to_datetime(out["at"], utc=True, format="ISO8601")
        return out

    def export(self, layer: Layer, path: Any, fmt: str) -> int:
        """Write ``layer`` to ``path``; roles without exact sensitive points get the
        public rules (blurred sensitive places; contact is never exported)."""
        from cpted.exports import export_layer

        public = not can(self.actor.role, Action.SEE_EXACT_SENSITIVE)
        return int(export_layer(self.store, layer, path, fmt, public=public,
                                settings=self.settings))

    def accounts(self) -> pd.DataFrame:
        require(self.actor, Action.MANAGE_ACCOUNTS)
        return acc.list_accounts(self.store)

    # -- concerns --------------------------------------------------------------
    def submit_report(self, draft: cc.ReportDraft, *, now: datetime | None = None) -> str:
        """Anyone may report; the report counts against the rate limit."""
        with self.store.transaction() as conn:
            self._count_write(conn, now)
        return cc.submit_report(self.store, draft, now=now,
                                actor=self.actor.username or "resident")

    def support(self, request_id: str, note: str | None = None) -> int:
        with self.store.transaction() as conn:
            self._count_write(conn)
        return cc.add_support(self.store, request_id, note=note,
                              actor=self.actor.username or "resident")

    def change_status(self, request_id: str, new_status: str, note: str, *,
                      expected_version: int | None = None) -> int:
        """Change a report's status; return its new version. A stale ``expected_version``
        is refused with :class:`~layers.errors.ConflictError`."""
        require(self.actor, Action.CHANGE_STATUS)

        def run(conn: sa.Connection) -> int:
            before = cc._require(conn, request_id)
            version = cc.change_status(self.store, request_id, new_status, note,
                                       actor=self.actor.name, conn=conn,
                                       expected_version=expected_version)
            self._audit(conn, "status", "concern", request_id,
                        {"from": before["detailed_status"], "to": str(new_status),
                         "note": note.strip()})
            return version

        return self._write("the status change", run)

    def merge(self, keep_id: str, duplicate_ids: Sequence[str], note: str) -> list[str]:
        require(self.actor, Action.MERGE)

        def run(conn: sa.Connection) -> list[str]:
            merged = cc.merge(self.store, keep_id, duplicate_ids, note, actor=self.actor.name,
                              conn=conn)
            self._audit(conn, "merge", "concern", keep_id,
                        {"merged": merged, "note": note.strip()})
            return merged

        return list(self._write("the merge", run))

    def delete_concern(self, request_id: str, reason: str) -> None:
        require(self.actor, Action.DELETE)
        if not (reason or "").strip():
            raise UnusableInputError("say why the report is deleted; the reason is kept")

        def run(conn: sa.Connection) -> None:
            cc.delete_concern(self.store, request_id, conn=conn)
            self._audit(conn, "delete", "concern", request_id, {"reason": reason.strip()})

        self._write("the deletion", run)

    # -- configuration ---------------------------------------------------------
    def save_services(self, items: Sequence[Any], *, keep_local: bool = False) -> int:
        """Add or replace categories. An edit in the app takes effect as made
        (``keep_local=False``); a city's Open311 list keeps local settings (``True``)."""
        require(self.actor, Action.EDIT_CATEGORIES)

        def run(conn: sa.Connection) -> int:
            n = cc.save_services(self.store, items, conn=conn, keep_local=keep_local)
            self._audit(conn, "categories", "services",
                        ",".join(s.service_code for s in items), {"count": n})
            return n

        return int(self._write("the categories", run))

    def add_instrument(self, text: str) -> Any:
        """Store a new CPTED instrument version (TOML text) and return it."""
        require(self.actor, Action.EDIT_INSTRUMENT)
        from cpted.assessments import use_instrument
        from cpted.instrument import parse_instrument

        inst = parse_instrument(text)

        def run(conn: sa.Connection) -> None:
            use_instrument(self.store, inst, conn=conn)
            self._audit(conn, "instrument", "instrument", f"{inst.id}@{inst.version}")

        self._write("the instrument", run)
        return inst

    def import_file(self, path: Any, layer: Layer, **options: Any) -> Any:
        """Check and store a file as ``layer`` in one transaction (see
        :func:`layers.importer.import_file`); bounded by the upload and row limits."""
        require(self.actor, Action.IMPORT)
        from pathlib import Path

        from layers.importer import prepare_import

        size = Path(path).stat().st_size
        if size > self.settings.max_upload_bytes:
            raise UnusableInputError(
                f"the file is {size / 1e6:.1f} MB; this deployment takes at most "
                f"{self.settings.max_upload_mb:g} MB (setting max_upload_mb)")
        on_conflict = options.pop("on_conflict", "error")
        progress = options.pop("progress", None)
        prepared = prepare_import(self.store, path, layer, settings=self.settings, **options)
        self.commit_import(prepared, on_conflict=on_conflict, progress=progress)
        return prepared.summary

    def commit_import(self, prepared: Any, *, on_conflict: str = "error",
                      progress: Any = None) -> int:
        """Store a checked import (:func:`layers.importer.prepare_import`) in one
        transaction, with its audit entry; return the rows written."""
        require(self.actor, Action.IMPORT)
        from layers.importer import commit_import

        def run(conn: sa.Connection) -> int:
            written = commit_import(self.store, prepared, on_conflict=on_conflict,
                                    progress=progress, conn=conn)
            self._audit(conn, "import", prepared.layer.value, prepared.summary.source,
                        {"rows": written})
            return written

        return int(self._write("the import", run))

    # -- accounts --------------------------------------------------------------
    def create_account(self, username: str, display_name: str, role: Role | str,
                       password: str | None, *, email: str | None = None) -> None:
        require(self.actor, Action.MANAGE_ACCOUNTS)

        def run(conn: sa.Connection) -> None:
            acc.insert_account(conn, username, display_name, role, password, email)
            self._audit(conn, "account created", "account", username, {"role": str(role)})

        self._write("the new account", run)

    def set_role(self, username: str, role: Role | str, *,
                 expected_version: int | None = None) -> None:
        require(self.actor, Action.MANAGE_ACCOUNTS)
        new = Role(role)
        if new is Role.PUBLIC:
            raise UnusableInputError("the public role is for people who are not signed in")

        def run(conn: sa.Connection) -> None:
            row = repo.get(conn, username)
            if row is None:
                raise UnusableInputError(f"there is no account {username!r}")
            seen = row.version if expected_version is None else expected_version
            if (new is not Role.ADMIN and row.role == Role.ADMIN.value
                    and repo.count_enabled(conn, Role.ADMIN.value) <= 1):
                raise UnusableInputError("this is the last administrator; make another "
                                         "account an administrator first")
            if not repo.set_role(conn, username, new.value, expected_version=seen):
                from layers.errors import ConflictError

                raise ConflictError(f"the account {username!r} was changed by someone else "
                                    "since you opened it; nothing was saved. Reload and retry")
            self._audit(conn, "role", "account", username, {"from": row.role, "to": new.value})

        self._write("the role change", run)

    def set_disabled(self, username: str, disabled: bool) -> None:
        require(self.actor, Action.MANAGE_ACCOUNTS)
        if disabled and username == self.actor.username:
            raise UnusableInputError("you cannot disable your own account")

        def run(conn: sa.Connection) -> None:
            if not repo.set_disabled(conn, username, disabled):
                raise UnusableInputError(f"there is no account {username!r}")
            self._audit(conn, "disabled" if disabled else "enabled", "account", username)

        self._write("the account change", run)


def store_error_message(exc: BaseException) -> str:
    """What a page shows for a refused write: our own message, else a database one."""
    if isinstance(exc, CptedError):
        return str(exc)
    if database_error(exc):
        return str(write_error(exc))
    raise exc


__all__ = ["PERMISSIONS", "Access", "Action", "PermissionDeniedError", "RateLimitError",
           "StoreError", "can", "require"]
