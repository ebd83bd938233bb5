"""Configuration, imports, exports, accounts and the change log through the door."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cpted import accounts as acc
from cpted import apikeys
from cpted import concerns as cc
from cpted.access.permissions import Action, require
from cpted.access.places import PlacesDoor
from cpted.access.profiles import ProfilesDoor
from cpted.i18n import _, number
from cpted.privacy import Role
from layers.errors import CptedError, UnusableInputError
from layers.repos import accounts as repo
from layers.repos import changelog
from layers.schema import Layer
from layers.services import Service
from layers.store import OnConflict, database_error, write_error

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class AdminDoor(PlacesDoor, ProfilesDoor):
    # -- reading ---------------------------------------------------------------
    def services(self) -> dict[str, Service]:
        """The categories (public: they are what the Report form offers)."""
        return cc.services(self.store)

    def audit_trail(self, *, target_id: str | None = None, limit: int = 500) -> pd.DataFrame:
        """Who changed what and when, newest first."""
        require(self.actor, Action.SEE_AUDIT)
        with self.store.engine.connect() as conn:
            rows = changelog.entries(conn, target_id=target_id, limit=limit)
        out = pd.DataFrame(rows, columns=list(changelog.ENTRY_COLUMNS))
        out["at"] = pd.to_datetime(out["at"], utc=True, format="ISO8601")
        return out

    def export(self, layer: Layer, path: Path | str, fmt: str, *,
               partitioned: bool = False) -> int:
        """Write ``layer`` to ``path`` as this actor may see it: sensitive reports
        blurred and without text for roles without exact access, public notes only for
        others than staff, and never reporter contact. ``partitioned``: ``path`` is a
        folder of spatially partitioned GeoParquet (``fmt`` ``parquet``)."""
        from cpted.exports import write_export

        rows = self.layer(layer)
        if self.exact and "location_precision" in rows.columns:
            rows = rows.drop(columns="location_precision")
        notes: dict[str, str] = {}
        if layer is Layer.CONCERNS and fmt == "open311":
            notes = self.status_notes()
        return int(write_export(self.store, rows, layer, path, fmt, status_notes=notes,
                                settings=self.settings, partitioned=partitioned))

    def status_notes(self, request_ids: Sequence[str] | None = None) -> dict[str, str]:
        """Each report's latest status note as this actor may see it (Open311
        ``status_notes``): staff every note, others public notes of reports that are not
        of a sensitive category. Of ``request_ids`` only, when given."""
        return self._status_notes(request_ids, None)

    def _status_notes(self, request_ids: Sequence[str] | None,
                      rows: pd.DataFrame | None) -> dict[str, str]:
        """:meth:`status_notes`, told the reports' categories by ``rows`` when read."""
        from layers.repos import notes

        with self.store.engine.connect() as conn:
            out = notes.latest_status_notes(conn, public_only=not self.staff,
                                            request_ids=request_ids)
        if self.exact:
            return out
        if rows is None:
            rows = self.store.read(Layer.CONCERNS, ids=request_ids)
        hidden = set(rows.loc[rows["service_code"].isin(list(self.sensitive_codes())),
                              "service_request_id"])
        return {k: v for k, v in out.items() if k not in hidden}

    def open311_requests(self, *, ids: Sequence[str] | None = None,
                         where: Mapping[str, Sequence[Any]] | None = None,
                         time: tuple[str, Any, Any] | None = None,
                         limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Concerns as Open311 GeoReport v2 request objects, as this actor may see them:
        record for record what :meth:`export` writes in the ``open311`` format, for the
        rows :meth:`concerns` reads with the same filters and page (the Open311 API's
        ``requests.json``)."""
        from cpted.exports import open311_records

        rows = self.concerns(where=where, time=time, ids=ids, limit=limit, offset=offset)
        notes = self._status_notes(rows["service_request_id"].tolist(), rows)
        return open311_records(self.store, rows, status_notes=notes, settings=self.settings)

    def accounts(self) -> pd.DataFrame:
        require(self.actor, Action.MANAGE_ACCOUNTS)
        return acc.list_accounts(self.store)

    def load_sample(self) -> list[Any]:
        """Load the bundled sample district (an empty store's first step)."""
        from cpted.sample import load_sample

        # checked and counted first; the layers then load one import (transaction) each,
        # as ``cpted sample`` does, and the change log records the whole
        self._write("the sample district", Action.LOAD_SAMPLE, lambda conn: None)
        out = load_sample(self.store)
        with self.store.transaction() as conn:
            self._log(conn, "sample loaded", "store", "sample district",
                      {"layers": len(out)})
        return out

    # -- configuration ---------------------------------------------------------
    def save_services(self, items: Sequence[Any], *, keep_local: bool = False) -> int:
        """Add or replace categories. An edit in the app takes effect as made
        (``keep_local=False``); a city's Open311 list keeps local settings (``True``)."""

        def run(conn: Connection) -> int:
            n = cc.save_services(self.store, items, conn=conn, keep_local=keep_local)
            self._log(conn, "categories", "services",
                      ",".join(s.service_code for s in items), {"count": n})
            return n

        return int(self._write("the categories", Action.EDIT_CATEGORIES, run))

    def add_instrument(self, text: str) -> Any:
        """Store a new CPTED instrument version (TOML text) and return it."""
        require(self.actor, Action.EDIT_INSTRUMENT)
        from cpted.assessments import use_instrument
        from cpted.instrument import parse_instrument

        inst = parse_instrument(text)

        def run(conn: Connection) -> None:
            use_instrument(self.store, inst, conn=conn)
            self._log(conn, "instrument", "instrument", f"{inst.id}@{inst.version}")

        self._write("the instrument", Action.EDIT_INSTRUMENT, run)
        return inst

    def import_file(self, path: Any, layer: Layer, **options: Any) -> Any:
        """Check and store a file as ``layer`` in one transaction (see
        :func:`layers.importer.import_file`); bounded by the upload and row limits.
        A ``profile`` given by name may be a saved one (:meth:`find_profile`)."""
        require(self.actor, Action.IMPORT)
        from layers.chunked import NotChunked
        from layers.importer import prepare_import

        if not Path(path).is_file():  # a missing file is a refusal, not a traceback
            raise UnusableInputError(_("no file at {path}").format(path=path))
        size = Path(path).stat().st_size
        if size > self.settings.max_upload_bytes:
            raise UnusableInputError(_(
                "the file is {size} MB; this deployment takes at most {limit:g} MB "
                "(setting max_upload_mb)").format(size=number(size / 1e6, digits=1),
                                                  limit=self.settings.max_upload_mb))
        on_conflict = options.pop("on_conflict", "error")
        progress = options.pop("progress", None)
        dry_run = bool(options.pop("dry_run", False))
        options.pop("settings", None)
        if isinstance(options.get("profile"), str | Path):  # a file, shipped, or saved
            options["profile"] = self.find_profile(options["profile"])
        try:
            return self._import_in_chunks(path, layer, on_conflict=on_conflict,
                                          progress=progress, dry_run=dry_run, **options)
        except NotChunked:
            pass
        prepared = prepare_import(self.store, path, layer, settings=self.settings, **options)
        prepared.summary.dry_run = dry_run
        if not dry_run:
            self.commit_import(prepared, on_conflict=on_conflict, progress=progress)
        return prepared.summary

    def _import_in_chunks(self, path: Any, layer: Layer, *, on_conflict: OnConflict,
                          progress: Any, dry_run: bool, **options: Any) -> Any:
        """A CSV read and stored in parts (:mod:`layers.chunked`), in one transaction with
        its audit entry; :class:`~layers.chunked.NotChunked` for other files."""
        from layers.chunked import import_in_chunks

        def write(fn: Callable[[Connection | None], Any]) -> Any:
            def run(conn: Connection) -> Any:
                summary = fn(conn)
                self._log(conn, "import", layer.value, summary.source,
                          {"rows": summary.accepted})
                return summary

            return self._write("the import", Action.IMPORT, run)

        return import_in_chunks(self.store, path, layer, on_conflict=on_conflict,
                                progress=progress, dry_run=dry_run, write=write,
                                settings=self.settings, **options)

    def commit_import(self, prepared: Any, *, on_conflict: OnConflict = "error",
                      progress: Any = None) -> int:
        """Store a checked import (:func:`layers.importer.prepare_import`) in one
        transaction, with its audit entry; return the rows written."""
        require(self.actor, Action.IMPORT)
        from layers.importer import commit_import

        def run(conn: Connection) -> int:
            written = commit_import(self.store, prepared, on_conflict=on_conflict,
                                    progress=progress, conn=conn)
            self._log(conn, "import", prepared.layer.value, prepared.summary.source,
                        {"rows": written})
            return written

        return int(self._write("the import", Action.IMPORT, run))

    # -- accounts --------------------------------------------------------------
    def create_account(self, username: str, display_name: str, role: Role | str,
                       password: str | None, *, email: str | None = None) -> None:
        require(self.actor, Action.MANAGE_ACCOUNTS)

        def run(conn: Connection) -> None:
            acc.insert_account(conn, username, display_name, role, password, email)
            self._log(conn, "account created", "account", username, {"role": str(role)})

        self._write("the new account", Action.MANAGE_ACCOUNTS, run)

    def set_role(self, username: str, role: Role | str, *,
                 expected_version: int | None = None) -> None:
        require(self.actor, Action.MANAGE_ACCOUNTS)
        new = Role(role)
        if new is Role.PUBLIC:
            raise UnusableInputError(_("the public role is for people who are not signed in"))

        def run(conn: Connection) -> None:
            row = repo.get(conn, username)
            if row is None:
                raise UnusableInputError(_("there is no account {name!r}").format(name=username))
            seen = row.version if expected_version is None else expected_version
            if (new is not Role.ADMIN and row.role == Role.ADMIN.value
                    and repo.count_enabled(conn, Role.ADMIN.value) <= 1):
                raise UnusableInputError(_("this is the last administrator; make another "
                                           "account an administrator first"))
            if not repo.set_role(conn, username, new.value, expected_version=seen):
                from layers.errors import ConflictError

                raise ConflictError(_("the account {name!r} was changed by someone else "
                                      "since you opened it; nothing was saved. Reload and "
                                      "retry").format(name=username))
            self._log(conn, "role", "account", username, {"from": row.role, "to": new.value})

        self._write("the role change", Action.MANAGE_ACCOUNTS, run)

    def set_disabled(self, username: str, disabled: bool) -> None:
        require(self.actor, Action.MANAGE_ACCOUNTS)
        if disabled and username == self.actor.username:
            raise UnusableInputError(_("you cannot disable your own account"))

        def run(conn: Connection) -> None:
            if not repo.set_disabled(conn, username, disabled):
                raise UnusableInputError(_("there is no account {name!r}").format(name=username))
            self._log(conn, "disabled" if disabled else "enabled", "account", username)

        self._write("the account change", Action.MANAGE_ACCOUNTS, run)

    # -- Open311 API keys --------------------------------------------------------
    def api_keys(self) -> pd.DataFrame:
        """Every API key without its secret (see :func:`cpted.apikeys.list_keys`)."""
        require(self.actor, Action.MANAGE_API_KEYS)
        return apikeys.list_keys(self.store)

    def create_api_key(self, name: str) -> apikeys.NewKey:
        """Make a key for the Open311 client ``name``; its secret is in the answer only."""
        def run(conn: Connection) -> apikeys.NewKey:
            new = apikeys.insert_key(conn, name, created_by=self.actor.username or "public")
            self._log(conn, "api key created", "api_key", new.key_id, {"name": new.name})
            return new

        return self._write("the API key", Action.MANAGE_API_KEYS, run)

    def revoke_api_key(self, key_id: str) -> None:
        """Revoke a key: its client's next request is refused."""
        def run(conn: Connection) -> None:
            apikeys.revoke_key(conn, key_id)
            self._log(conn, "api key revoked", "api_key", key_id)

        self._write("the revocation", Action.MANAGE_API_KEYS, run)


def store_error_message(exc: BaseException) -> str:
    """What a page shows for a refused write: our own message, else a database one."""
    if isinstance(exc, CptedError):
        return str(exc)
    if database_error(exc):
        return str(write_error(exc))
    raise exc
