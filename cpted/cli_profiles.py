"""``cpted profile``: draft an import profile from a file, check one, list the shipped
and saved ones.

A profile describes a file; the import that uses it goes through the access layer like
any other (``cpted import --profile``). Profiles saved in the store (on the Import page)
are read through the door too, by name, and only from a store that exists: listing or
checking profiles never creates one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cpted.i18n import _, ngettext
from layers.errors import ProfileError, UsageError
from layers.schema import Layer, parse_layer

if TYPE_CHECKING:
    from layers.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("profile", help=_("import profiles: draft one from a file (suggest), "
                                         "check one against a file (check), list the shipped "
                                         "ones (list)"))
    psub = p.add_subparsers(dest="action", required=True)
    q = psub.add_parser("suggest", help=_("write a draft profile from a file's headers and "
                                          "values; every guess is marked # REVIEW"))
    q.add_argument("path", type=Path, help=_("the data file"))
    q.add_argument("--layer", required=True, help=", ".join(x.value for x in Layer))
    q.add_argument("-o", "--out", type=Path, help=_("the .toml file to write (default: print)"))
    q.add_argument("--force", action="store_true", help=_("overwrite --out if it exists"))
    q.add_argument("--format", dest="fmt", help=_("the file's format (default: from the ending)"))
    q.add_argument("--encoding", help=_("CSV text encoding (default: detected)"))
    q.add_argument("--tz", help=_("the time zone the file's times are written in (default: "
                                  "the project's)"))
    q = psub.add_parser("check", help=_("check a profile; with a file, show how its columns "
                                        "map onto the layer (the mapping plan)"))
    q.add_argument("profile", help=_("a .toml file, or the name of a shipped profile or of "
                                     "one saved in the store"))
    q.add_argument("path", nargs="?", type=Path, help=_("a data file to plan the mapping of"))
    _db_arg(q)
    q = psub.add_parser("list", help=_("the shipped profiles and those saved in the store"))
    _db_arg(q)


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help=_("database URL or file path of the store whose saved profiles "
                                  "to use (default: $CPTED_DB_URL, else var/cpted.gpkg)"))


@contextmanager
def _door(args: argparse.Namespace, settings: Settings) -> Iterator[Any]:
    """The store's door as the operator, or ``None`` when the store does not exist (a
    file not made yet: listing saved profiles never creates one)."""
    from cpted import accounts
    from cpted.access import Access
    from layers.store import open_store, resolve_url

    url = resolve_url(args.db or settings.db_url)
    if not url.startswith("postgres"):
        path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:") else Path(url)
        if not path.is_file():
            yield None
            return
    with open_store(url) as store:
        yield Access(store, accounts.operator(), settings)


def _find(ref: str, args: argparse.Namespace, settings: Settings) -> Any:
    """The profile ``ref`` names: a file or shipped one, else one saved in the store."""
    from layers.profiles import load_profile, shipped_profiles

    if Path(ref).is_file() or ref in shipped_profiles():
        return load_profile(ref)
    with _door(args, settings) as door:
        if door is None:
            try:
                return load_profile(ref)
            except ProfileError as exc:
                raise ProfileError(_("{problem} (and no store to look for a saved profile "
                                     "in)").format(problem=exc)) from None
        return door.find_profile(ref)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from layers.profiles import load_profile, shipped_profiles

    if args.action == "list":
        for name, path in shipped_profiles().items():
            prof = load_profile(path)
            print(_("{name}: {title} (layer {layer})").format(name=name, title=prof.name,
                                                              layer=prof.layer.value))
        with _door(args, settings) as door:
            for saved in door.saved_profiles() if door is not None else ():
                if saved.profile is None:
                    print(_("{name}: cannot be read (saved): {problem}").format(
                        name=saved.name, problem=saved.problem))
                else:
                    print(_("{name}: layer {layer} (saved)").format(
                        name=saved.name, layer=saved.profile.layer.value))
        return 0
    if args.action == "check":
        prof = _find(args.profile, args, settings)
        print(_("{source}: {name!r}, layer {layer}: no problems").format(
            source=prof.source, name=prof.name, layer=prof.layer.value))
        if args.path is not None:
            from layers.importer import read_and_plan

            plan = read_and_plan(args.path, prof.layer, profile=prof, settings=settings).plan
            print(plan.text())
            if plan.refusals:
                print("\n" + _("an import would be refused:") + "\n" + "\n".join(
                    f"  - {r}" for r in plan.refusals), file=sys.stderr)
                return 1
        return 0
    from layers.suggest import suggest_profile

    if args.out is not None and args.out.exists() and not args.force:
        raise UsageError(_("{path} exists; give --force to overwrite it").format(
            path=args.out))
    text = suggest_profile(args.path, parse_layer(args.layer), fmt=args.fmt,
                           encoding=args.encoding, timezone=args.tz or settings.timezone,
                           settings=settings)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        marks = text.count("# REVIEW")
        print(ngettext("wrote {out}: {n} line marked # REVIEW to check before importing "
                       "with: cpted import {path} --layer {layer} --profile {out}",
                       "wrote {out}: {n} lines marked # REVIEW to check before importing "
                       "with: cpted import {path} --layer {layer} --profile {out}",
                       marks).format(out=args.out, n=marks, path=args.path, layer=args.layer))
    return 0
