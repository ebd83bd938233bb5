"""Import profiles saved in the store, through the door.

A saved profile holds no records, only how one kind of file maps onto a layer; reading
them is for whoever may import (``IMPORT``), saving one for coordinators and
administrators (``SAVE_PROFILE``), counted and logged like any write. See
:mod:`layers.profile_catalog` for names and where else profiles are found.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cpted.access.base import Door
from cpted.access.permissions import Action, require
from cpted.i18n import _
from layers import profile_catalog as catalog
from layers.errors import ConflictError, ProfileError
from layers.profiles import Profile, parse_profile
from layers.repos import profiles as repo

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class ProfilesDoor(Door):
    def _saved_texts(self) -> dict[str, str]:
        with self.store.engine.connect() as conn:
            return repo.saved_texts(conn)

    def saved_profiles(self) -> list[catalog.SavedProfile]:
        """Every saved import profile by name, each checked as it is read."""
        require(self.actor, Action.IMPORT)
        return catalog.read_saved(self._saved_texts())

    def find_profile(self, ref: str | Path) -> Profile:
        """The profile ``ref`` names: a file, a shipped profile, or a saved one by name.

        Raises
        ------
        ProfileError
            No such profile (the shipped and saved ones are named), or it has problems.
        """
        require(self.actor, Action.IMPORT)
        return catalog.find_profile(ref, self._saved_texts())

    def save_profile(self, text: str, *, replace: bool = False) -> Profile:
        """Save the profile ``text`` (TOML) under its ``[profile] name``.

        Raises
        ------
        ProfileError
            The text is not a valid profile, or its name is not one a saved profile may
            have (:func:`layers.profile_catalog.check_name`).
        ConflictError
            A saved profile of that name (in any case) exists and ``replace`` is false.
        """
        require(self.actor, Action.SAVE_PROFILE)
        prof = parse_profile(text, source="the profile to save")
        name = catalog.check_name(prof.name)
        if name != prof.name:
            raise ProfileError(_("the profile's name {name!r} has extra spaces; write it as "
                                 "{clean!r}").format(name=prof.name, clean=name))
        key = catalog.setting_key(name)

        def run(conn: Connection) -> None:
            held = repo.saved_texts(conn).get(key[len(repo.PREFIX):])
            if held is not None and not replace:
                old = catalog.read_saved({key: held})[0].name
                raise ConflictError(_("a saved profile called {name!r} exists already; "
                                      "replace it, or choose another name. Nothing was saved"
                                      ).format(name=old))
            self.store._set_setting(conn, key, text)
            self._log(conn, "import profile saved", "import_profile", name,
                      {"layer": prof.layer.value, "replaced": held is not None})

        self._write("the import profile", Action.SAVE_PROFILE, run)
        return prof
