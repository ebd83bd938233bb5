"""A checked import profile written back as TOML (the reverse of
:func:`layers.profiles.parse_profile`).

:func:`profile_document` turns a :class:`~layers.profiles.Profile` into the tables its
TOML holds, :func:`profile_toml` writes such tables with ``tomli_w`` and reads the text
back through :func:`~layers.profiles.parse_profile`, so nothing is written that would
not load. ``parse_profile(profile_toml(profile_document(p)))`` is ``p`` (its source
aside).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tomli_w

from layers.profiles import DuplicateIds, Profile, RowFilter, ValueMap, parse_profile


def _columns(columns: tuple[str, ...]) -> str | list[str]:
    if not columns:
        return ""
    return columns[0] if len(columns) == 1 else list(columns)


def value_table(vm: ValueMap) -> dict[str, str]:
    """A ``[values.FIELD]`` table: each file value as written, then ``"*"``."""
    out = {vm.written.get(k, k): target for k, target in vm.entries.items()}
    if vm.default is not None:
        out["*"] = vm.default
    return out


def _filter(f: RowFilter) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if f.keep is not None:
        out["in"] = list(f.keep)
    if f.drop is not None:
        out["not_in"] = list(f.drop)
    if f.at_least is not None:
        out["at_least"] = f.at_least
    if f.at_most is not None:
        out["at_most"] = f.at_most
    return out


def profile_document(profile: Profile) -> dict[str, Any]:
    """``profile`` as the tables of its TOML (``[profile]``, ``[columns]``...); empty
    tables are left out."""
    head: dict[str, Any] = {"name": profile.name, "layer": profile.layer.value}
    for key in ("description", "format", "crs", "timezone", "encoding"):
        value = getattr(profile, key)
        if value:
            head[key] = value
    if profile.duplicate_ids is not DuplicateIds.ERROR:
        head["duplicate_ids"] = profile.duplicate_ids.value
    columns: dict[str, Any] = {f: _columns(c) for f, c in profile.columns.items()}
    if profile.coordinates is not None:
        a, b = ("x", "y") if profile.projected else ("lon", "lat")
        columns[a], columns[b] = profile.coordinates
    doc: dict[str, Any] = {
        "profile": head,
        "columns": columns,
        "values": {f: value_table(vm) for f, vm in profile.values.items()},
        "constants": dict(profile.constants),
        "date_formats": {f: list(v) for f, v in profile.date_formats.items()},
        "units": dict(profile.units),
        "filters": {f.column: _filter(f) for f in profile.filters},
    }
    return {k: v for k, v in doc.items() if v}


def profile_toml(doc: Mapping[str, Any], *, source: str = "(written)",
                 comment: str = "") -> tuple[str, Profile]:
    """Write ``doc`` (tables as :func:`profile_document` gives them) as TOML and check it.

    Parameters
    ----------
    comment
        Lines put at the top of the text as TOML comments (``# ...``), e.g. where the
        profile came from.

    Returns
    -------
    tuple of str and Profile
        The text, and the profile it reads back as.

    Raises
    ------
    ProfileError
        The tables do not make a valid profile (every problem listed).
    """
    tables = {k: v for k, v in doc.items() if v}
    text = tomli_w.dumps(tables)
    if comment:
        text = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines()) + "\n" + text
    return text, parse_profile(text, source=source)
