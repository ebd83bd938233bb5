"""Where import profiles are found: shipped with the package, in the project's
``profiles/`` folder, and saved in the store by name.

A saved profile is kept in the store's settings table under ``profile:`` and its name
in lower case (:mod:`layers.repos.profiles`), as the TOML text
:func:`layers.profile_writer.profile_toml` writes; its ``[profile] name`` is the name
it is saved and found by. Names are plain (:func:`check_name`), so that none looks
like a file path or shadows a shipped profile. Every saved text is checked by
:func:`~layers.profiles.parse_profile` when it is saved and again when it is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from layers.errors import ProfileError
from layers.profiles import Profile, load_profile, parse_profile, shipped_profiles
from layers.repos.profiles import PREFIX

#: The project's own folder of profiles for other cities' files (not installed with the
#: package: found only when running from the source tree).
PROJECT_DIR = Path(__file__).resolve().parents[1] / "profiles"
#: The longest name a saved profile may have, in characters.
MAX_NAME_CHARS = 60
_NAME = re.compile(r"[^\W_][\w .,()'&+-]*", re.UNICODE)


def check_name(name: str) -> str:
    """``name`` with its spaces tidied, if it may name a saved profile.

    Raises
    ------
    ProfileError
        Empty, longer than :data:`MAX_NAME_CHARS`, with characters other than letters,
        digits, spaces and ``. , ( ) ' & + - _``, not starting with a letter or digit,
        ending in ``.toml``, or the name of a shipped profile.
    """
    tidy = " ".join(str(name).split())
    if not tidy:
        raise ProfileError("a saved profile needs a name, e.g. \"City 311 export\"")
    if len(tidy) > MAX_NAME_CHARS:
        raise ProfileError(f"a profile's name is at most {MAX_NAME_CHARS} characters; "
                           f"this one has {len(tidy)}")
    if not _NAME.fullmatch(tidy):
        bad = sorted({c for c in tidy if not re.fullmatch(r"[\w .,()'&+-]", c)})
        why = (f"it holds {', '.join(repr(c) for c in bad)}" if bad
               else "it starts with a character other than a letter or digit")
        raise ProfileError(f"a profile's name is letters, digits, spaces and . , ( ) ' & + - _ "
                           f"starting with a letter or digit; {why}")
    if tidy.lower().endswith(".toml"):
        raise ProfileError("a saved profile's name does not end in .toml (that is how a "
                           "profile file is named); leave the ending out")
    if tidy.casefold() in {n.casefold() for n in shipped_profiles()}:
        raise ProfileError(f"{tidy!r} is the name of a profile shipped with the program; "
                           "choose another name")
    return tidy


def setting_key(name: str) -> str:
    """The settings-table key of the saved profile called ``name`` (any case)."""
    return PREFIX + " ".join(name.split()).casefold()


@dataclass(frozen=True)
class SavedProfile:
    """One saved profile: its name, and the profile or why it cannot be read."""

    name: str
    text: str
    profile: Profile | None
    problem: str = ""


def parse_saved(key: str, text: str) -> Profile:
    """A saved profile's text (stored under ``key``) checked; its source is its name."""
    prof = parse_profile(text, source=f"{key} (saved)")
    return replace(prof, source=f"{prof.name} (saved)")


def read_saved(texts: Mapping[str, str]) -> list[SavedProfile]:
    """The saved profiles from their stored texts (key -> TOML), each checked; one that
    no longer loads (a field removed since, say) is listed with its problem."""
    out = []
    for key, text in texts.items():
        try:
            prof = parse_saved(key, text)
        except ProfileError as exc:
            out.append(SavedProfile(key, text, None, str(exc)))
        else:
            out.append(SavedProfile(prof.name, text, prof))
    return sorted(out, key=lambda p: p.name.casefold())


def project_profiles(folder: Path = PROJECT_DIR) -> dict[str, Path]:
    """The profiles in the project's folder by their path in it (``chicago-311-requests``)."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).with_suffix("").as_posix(): p
            for p in sorted(folder.rglob("*.toml"))}


def find_profile(ref: str | Path, saved: Mapping[str, str]) -> Profile:
    """The profile ``ref`` names: a file, else a shipped profile, else a saved one
    (``saved``: key -> TOML text, as :func:`layers.repos.profiles.saved_texts` gives).

    Raises
    ------
    ProfileError
        None of these, naming the shipped and saved ones; or the profile has problems.
    """
    text = str(ref)
    if Path(ref).is_file() or text in shipped_profiles():
        return load_profile(ref)
    key = setting_key(text)[len(PREFIX):]
    if key in saved:
        return parse_saved(key, saved[key])
    shipped = ", ".join(shipped_profiles()) or "none"
    names = ", ".join(p.name for p in read_saved(saved)) or "none"
    raise ProfileError(f"no profile file at {ref}, and no shipped or saved profile of that "
                       f"name (shipped: {shipped}; saved: {names})")
