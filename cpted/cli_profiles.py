"""``cpted profile``: draft an import profile from a file, check one, list the shipped ones.

Nothing here reads or writes the store: a profile describes a file, and the import
that uses it goes through the access layer like any other (``cpted import --profile``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from layers.errors import UsageError
from layers.schema import Layer, parse_layer

if TYPE_CHECKING:
    from layers.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("profile", help="import profiles: draft one from a file (suggest), "
                                       "check one against a file (check), list the shipped "
                                       "ones (list)")
    psub = p.add_subparsers(dest="action", required=True)
    q = psub.add_parser("suggest", help="write a draft profile from a file's headers and "
                                        "values; every guess is marked # REVIEW")
    q.add_argument("path", type=Path, help="the data file")
    q.add_argument("--layer", required=True, help=", ".join(x.value for x in Layer))
    q.add_argument("-o", "--out", type=Path, help="the .toml file to write (default: print)")
    q.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    q.add_argument("--format", dest="fmt", help="the file's format (default: from the ending)")
    q.add_argument("--encoding", help="CSV text encoding (default: detected)")
    q.add_argument("--tz", help="the time zone the file's times are written in (default: "
                                "the project's)")
    q = psub.add_parser("check", help="check a profile; with a file, show how its columns "
                                      "map onto the layer (the mapping plan)")
    q.add_argument("profile", help="a .toml file, or a shipped profile's name")
    q.add_argument("path", nargs="?", type=Path, help="a data file to plan the mapping of")
    psub.add_parser("list", help="the shipped profiles")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from layers.profiles import load_profile, shipped_profiles

    if args.action == "list":
        for name, path in shipped_profiles().items():
            prof = load_profile(path)
            print(f"{name}: {prof.name} (layer {prof.layer.value})")
        return 0
    if args.action == "check":
        prof = load_profile(args.profile)
        print(f"{prof.source}: {prof.name!r}, layer {prof.layer.value}: no problems")
        if args.path is not None:
            from layers.importer import plan_file

            plan = plan_file(args.path, prof.layer, profile=prof, settings=settings)
            print(plan.text())
            if plan.refusals:
                print("\nan import would be refused:\n" + "\n".join(
                    f"  - {r}" for r in plan.refusals), file=sys.stderr)
                return 1
        return 0
    from layers.suggest import suggest_profile

    if args.out is not None and args.out.exists() and not args.force:
        raise UsageError(f"{args.out} exists; give --force to overwrite it")
    text = suggest_profile(args.path, parse_layer(args.layer), fmt=args.fmt,
                           encoding=args.encoding, timezone=args.tz or settings.timezone,
                           settings=settings)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        marks = text.count("# REVIEW")
        print(f"wrote {args.out}: {marks} line(s) marked # REVIEW to check before importing "
              f"with: cpted import {args.path} --layer {args.layer} --profile {args.out}")
    return 0
