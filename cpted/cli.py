"""The ``cpted`` command line: every batch job the app does, for scripting.

Exit status: 0 on success, 1 when the input or the store refused the work
(one clear message on standard error, the store unchanged), 2 for wrong usage.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cpted import cli_cluster, cli_profiles, i18n
from cpted.i18n import N_, _, ngettext, number
from layers.errors import CptedError, UsageError
from layers.schema import Layer, parse_layer
from layers.settings import load_settings

if TYPE_CHECKING:
    from cpted.access import Access
    from layers.settings import Settings
    from layers.store import Store

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help=_("database URL or file path of the embedded store "
                                  "(default: $CPTED_DB_URL, else var/cpted.gpkg)"))


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="cpted", description=_(
        "The ``cpted`` command line: every batch job the app does, for scripting."))
    ap.add_argument("--language", metavar="CODE",
                    help=_("the language to speak, e.g. es or en (default: from LC_ALL, "
                           "LC_MESSAGES or LANG, else English); JSON output keeps its "
                           "English keys"))
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help=_("load the bundled sample district into the store"))
    _db_arg(p)
    p.add_argument("--regenerate", metavar="DIR", type=Path,
                   help=_("write the sample district's files to DIR instead of loading them"))
    p.add_argument("--seed", type=int, default=None, help=_("random seed for --regenerate"))

    p = sub.add_parser("import", help=_("import a file into a layer"))
    p.add_argument("path", type=Path)
    p.add_argument("--layer", required=True, help=", ".join(layer.value for layer in Layer))
    p.add_argument("--format", dest="fmt",
                   help=_("csv, geojson, gpkg, shapefile, parquet, open311, or kc311 (the same as "
                          "--profile kc311) (default: from the ending)"))
    p.add_argument("--profile", metavar="PROFILE",
                   help=_("an import profile: a .toml file, or by name one shipped (kc311) or "
                          "saved in the store (on the Import page); options given here win "
                          "over the profile's"))
    p.add_argument("--crs", help=_("source CRS of x/y columns or of a file that declares none"))
    p.add_argument("--lon-col")
    p.add_argument("--lat-col")
    p.add_argument("--x-col")
    p.add_argument("--y-col")
    p.add_argument("--encoding", help=_("CSV text encoding (default: UTF-8, else latin-1)"))
    p.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                   help=_("use COLUMN for FIELD (repeatable)"))
    p.add_argument("--tz", help=_("time zone of times written without one"))
    p.add_argument("--on-conflict", choices=["error", "skip", "replace"], default="error",
                   help=_("ids already stored: refuse (default), keep stored, or overwrite"))
    p.add_argument("--no-repair", action="store_true",
                   help=_("reject invalid polygons instead of repairing them"))
    p.add_argument("--dry-run", action="store_true", help=_("check and summarise; store nothing"))
    p.add_argument("--json", action="store_true", help=_("print the summary as one JSON object"))
    _db_arg(p)

    cli_profiles.add_parser(sub)

    p = sub.add_parser("export", help=_("write a stored layer to a file"))
    p.add_argument("--layer", required=True)
    p.add_argument("--format", dest="fmt", required=True,
                   help=_("geojson, gpkg, csv, parquet, or open311 (concerns as GeoReport v2 "
                          "JSON)"))
    p.add_argument("--out", type=Path)
    p.add_argument("--partitioned", metavar="DIR", type=Path,
                   help=_("instead of --out: a folder of spatially partitioned GeoParquet "
                          "(--format parquet) for `overlay`/`hotspots --engine dask`"))
    p.add_argument("--public", action="store_true",
                   help=_("apply the public rules: sensitive categories blurred to a grid"))
    _db_arg(p)

    p = sub.add_parser("services", help=_("the service list (categories) as Open311 JSON"))
    p.add_argument("action", choices=["import", "export", "list"])
    p.add_argument("path", nargs="?", type=Path, help=_("services.json to import or write"))
    _db_arg(p)

    p = sub.add_parser("overlay", help=_("concerns per neighborhood: counts, rates, scorecard"))
    p.add_argument("--out", required=True, type=Path, help=_("a .csv or .geojson file"))
    p.add_argument("--category", action="append", help=_("service code (repeatable)"))
    p.add_argument("--status", choices=["open", "closed"])
    p.add_argument("--time-of-day", choices=["day", "night", "unknown"])
    p.add_argument("--since", help=_("reported on or after this date (YYYY-MM-DD, local)"))
    p.add_argument("--until", help=_("reported before this date (YYYY-MM-DD, local)"))
    cli_cluster.add_engine_args(p)
    _db_arg(p)

    p = sub.add_parser("db", help=_("the database: upgrade its schema, back it up, restore it"))
    dbsub = p.add_subparsers(dest="db_command", required=True)
    q = dbsub.add_parser("upgrade", help=_("apply pending schema migrations"))
    _db_arg(q)
    q = dbsub.add_parser("backup", help=_("copy every table to a new GeoPackage file"))
    _db_arg(q)
    q.add_argument("--out", type=Path, required=True, help=_("the backup file (.gpkg) to write"))
    q.add_argument("--force", action="store_true", help=_("overwrite --out if it exists"))
    q = dbsub.add_parser("restore", help=_("replace the store's contents with a backup"))
    _db_arg(q)
    q.add_argument("path", type=Path, help=_("a backup made by `cpted db backup`"))
    q.add_argument("--force", action="store_true",
                   help=_("replace a store that already holds data"))

    p = sub.add_parser("accounts", help=_("sign-in accounts: add one, list them, set a role"))
    acsub = p.add_subparsers(dest="accounts_command", required=True)
    q = acsub.add_parser("add", help=_("add an account; the password is read from standard "
                                       "input (or $CPTED_NEW_PASSWORD), never from an argument"))
    _db_arg(q)
    q.add_argument("username")
    q.add_argument("--name", required=True, help=_("the name others see"))
    q.add_argument("--role", required=True,
                   help=_("resident, coordinator, officer, planner or admin"))
    q.add_argument("--email", help=_("for sign-in through an identity provider (OpenID Connect)"))
    q.add_argument("--no-password", action="store_true",
                   help=_("an account that signs in only through the identity provider"))
    q = acsub.add_parser("list", help=_("every account and its role"))
    _db_arg(q)

    p = sub.add_parser("notify", help=_("build the digests that are due and send the outbox "
                                        "(over SMTP, or as .eml files without smtp_host)"))
    p.add_argument("--every", type=float, metavar="SECONDS",
                   help=_("keep running, once every SECONDS (a worker); default: once"))
    p.add_argument("--limit", type=int, default=500,
                   help=_("most messages sent in one run (default 500)"))
    _db_arg(p)

    p = sub.add_parser("apikeys", help=_("Open311 API keys: make one, list them, revoke one"))
    aksub = p.add_subparsers(dest="apikeys_command", required=True)
    q = aksub.add_parser("add", help=_("make a key for the client NAME; the key is printed "
                                       "once, on standard output, and never kept"))
    _db_arg(q)
    q.add_argument("name", help=_("who or what uses the key (for example the city's 311 app)"))
    q = aksub.add_parser("list", help=_("every key: its client, when made, whether revoked"))
    _db_arg(q)
    q = aksub.add_parser("revoke", help=_("revoke a key: its client is refused at once"))
    _db_arg(q)
    q.add_argument("key_id", help=_("the key's id (ak_ and 12 hex digits; see list)"))

    p = sub.add_parser("api", help=_("serve the Open311 GeoReport v2 API under /open311/v2/ "
                                     "(uvicorn)"))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1",
                   help=_("the address to listen on (default 127.0.0.1: this machine only)"))
    _db_arg(p)

    p = sub.add_parser("info", help=_("what the store holds"))
    _db_arg(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("assessments", help=_("list the CPTED audits (id, place, date, score)"))
    p.add_argument("--neighborhood", help=_("only audits in this neighborhood id"))
    _db_arg(p)

    p = sub.add_parser("report", help=_("a printable report of one CPTED assessment"))
    p.add_argument("--assessment", required=True, metavar="ID")
    p.add_argument("--out", required=True, type=Path, help=_("a .pdf or .html file"))
    _db_arg(p)

    p = sub.add_parser("brief", help=_("a neighborhood brief for meetings: audits, open "
                                       "concerns, what changed since the last brief"))
    p.add_argument("--neighborhood", required=True, metavar="ID")
    p.add_argument("--out", required=True, type=Path, help=_("a .pdf or .html file"))
    p.add_argument("--since", help=_("count changes from this date (YYYY-MM-DD, local; default: "
                                     "the last brief of this neighborhood, else 90 days ago)"))
    _db_arg(p)

    p = sub.add_parser("lighting", help=_("modelled lux along every street, and which are dark"))
    p.add_argument("--out", required=True, type=Path,
                   help=_("a .csv, .geojson or .gpkg file (one row per street segment)"))
    _db_arg(p)

    p = sub.add_parser("priorities", help=_("a streetlight work list within a budget"))
    p.add_argument("--budget", required=True, type=float, metavar="USD")
    p.add_argument("--out", required=True, type=Path, help=_("a .csv, .geojson or .gpkg file"))
    p.add_argument("--repair-usd", type=float, help=_("cost of repairing a pole that is out"))
    p.add_argument("--upgrade-usd", type=float, help=_("cost of upgrading a low-output luminaire"))
    p.add_argument("--new-pole-usd", type=float, help=_("cost of a new pole"))
    p.add_argument("--check", action="store_true",
                   help=_("also solve exactly (HiGHS, 60 s limit) and print the gap"))
    _db_arg(p)

    def _evidence(p: argparse.ArgumentParser) -> None:
        p.add_argument("--source", action="append", default=[], metavar="KIND[:WEIGHT]",
                       help=_("what counts: concerns (open), night, audits (weak CPTED scores), "
                              "incidents or parcels (vacant lots and buildings), with an "
                              "optional weight; repeat for several (default: all five, weight "
                              "1, parcels 0.5)"))
        p.add_argument("--since", help=_("only events from this date (YYYY-MM-DD, local)"))
        p.add_argument("--until", help=_("only events before this date (YYYY-MM-DD, local)"))
        p.add_argument("--night-only", action="store_true",
                       help=_("only events at night (19:00-07:00 local, or tagged night)"))
        p.add_argument("--cell-size", type=float, help=_("cell size in metres (default: the "
                                                         "cell size rule)"))
        p.add_argument("--shape", choices=("square", "hex"), default="square")
        p.add_argument("--bandwidth", type=float, help=_("KDE radius in metres (default: the "
                                                         "bandwidth rule)"))
        p.add_argument("--permutations", type=int, default=999)

    p = sub.add_parser("hotspots", help=_("hotspot cells by kernel density or Gi* (with FDR), "
                                          "or emerging hot spots over time"))
    p.add_argument("--method", choices=("kde", "gi", "counts", "emerging"), default="gi",
                   help=_("emerging: Gi* in each slice of time and a trend test per cell, "
                          "each cell classed as new, consecutive, intensifying, persistent, "
                          "diminishing, sporadic, oscillating or historical hot or cold spot"))
    p.add_argument("--slice", choices=("month", "week"), default="month",
                   help=_("with --method emerging: the length of a slice of time"))
    p.add_argument("--time-steps", type=int, default=1,
                   help=_("with --method emerging: earlier slices in each cell's "
                          "neighbourhood (0: the same slice only)"))
    p.add_argument("--out", required=True, type=Path, help=_("a .geojson, .gpkg or .csv file"))
    p.add_argument("--evaluate-after", metavar="DATE",
                   help=_("make hotspots and forecasts from events before DATE, choose a "
                          "method on a validation window before DATE, and print how well "
                          "each caught the events from DATE on (hit rate, PAI, PEI*, RRI at "
                          "1%% and 5%% of area)"))
    p.add_argument("--json", action="store_true",
                   help=_("with --evaluate-after: also print the evaluation as one JSON "
                          "object on the last line"))
    cli_cluster.add_engine_args(p)
    _evidence(p)
    _db_arg(p)

    p = sub.add_parser("route", help=_("bike patrol routes through hotspots, as GPX"))
    p.add_argument("--network", type=Path, help=_("an OpenStreetMap .osm file or street lines "
                     "(.geojson, .gpkg, .parquet); default: the store's streets"))
    p.add_argument("--station", required=True, metavar="LON,LAT",
                   help=_("write it with '=' when the longitude is negative: "
                          "--station=-94.57,39.04"))
    p.add_argument("--shift-min", type=float, default=240.0)
    p.add_argument("--officers", type=int, default=1)
    p.add_argument("--speed-kmh", type=float, default=12.0)
    p.add_argument("--dwell-min", type=float, default=12.0,
                   help=_("minutes at each stop, at most 15: deterrence stops growing after "
                          "about 15 minutes (Koper 1995)"))
    p.add_argument("--must", action="append", default=[], metavar="LON,LAT[,LABEL]",
                   help=_("a place every plan must visit; repeat for several"))
    p.add_argument("--stops-from", choices=("forecast", "gi", "kde", "counts"),
                   default="forecast",
                   help=_("which cells become candidate stops: forecast (default) takes the "
                          "method that did best on a validation window; gi keeps strong "
                          "single cells beside the Gi* hot spots"))
    p.add_argument("--max-stops", type=int, default=200)
    p.add_argument("--start", help=_("shift start (YYYY-MM-DDTHH:MM, local) for clock times"))
    p.add_argument("--out", required=True, type=Path, help=_("a .gpx file"))
    p.add_argument("--sheet", type=Path, help=_("also write a printable sheet (.html)"))
    p.add_argument("--time-limit", type=float, default=20.0, help=_("seconds of search"))
    _evidence(p)
    _db_arg(p)
    return ap


def _column_map(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        field, sep, col = item.partition("=")
        if not sep or not field or not col:
            raise UsageError(_("--map takes FIELD=COLUMN, got {item!r}").format(item=item))
        out[field.strip()] = col.strip()
    return out


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from layers import backup
    from layers.migrations import LATEST, migrate
    from layers.store import open_store

    url = args.db or settings.db_url
    if args.db_command == "upgrade":
        with open_store(url, upgrade=False) as store:
            before = store.schema_version()
            with store.engine.begin() as conn:
                applied = migrate(conn)
            done = (_("applied {versions}").format(versions=", ".join(map(str, applied)))
                    if applied else _("nothing to apply"))
            print(_("{store}: schema version {before} -> {latest} ({done})").format(
                store=store.label, before=before, latest=LATEST, done=done))
        return 0
    with open_store(url) as store:
        def progress(table: str, n: int) -> None:
            print(ngettext("  {table}: {n} row", "  {table}: {n} rows", n).format(
                table=table, n=number(n)), file=sys.stderr)

        if args.db_command == "backup":
            copied = backup.backup(store, args.out, force=args.force, progress=progress)
            n = sum(copied.values())
            print(ngettext("backed up {n} row from {store} to {out}",
                           "backed up {n} rows from {store} to {out}", n).format(
                               n=number(n), store=store.label, out=args.out))
        else:
            copied = backup.restore(store, args.path, force=args.force, progress=progress)
            n = sum(copied.values())
            print(ngettext("restored {n} row from {path} into {store}",
                           "restored {n} rows from {path} into {store}", n).format(
                               n=number(n), path=args.path, store=store.label))
    return 0


def _accounts(store: Store, args: argparse.Namespace) -> int:
    import getpass
    import os

    from cpted import accounts

    if args.accounts_command == "list":
        table = accounts.list_accounts(store)
        print(table.drop(columns=["version"]).to_string(index=False) if len(table)
              else _("no accounts"))
        return 0
    password = None
    if not args.no_password:
        password = os.environ.get("CPTED_NEW_PASSWORD")
        if password is None:
            password = (getpass.getpass(_("password: ")) if sys.stdin.isatty()
                        else sys.stdin.readline().rstrip("\n"))
    accounts.create_account(store, args.username, args.name, args.role,
                            password, email=args.email)
    print(_("added {name} ({role})").format(name=args.username, role=args.role))
    return 0


def _notify(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    """One run of the outbox (digests due, then messages due), or one every
    ``--every`` seconds until interrupted; a run that fails (the database away) is
    reported and the next one tried."""
    import time
    from datetime import UTC, datetime

    from cpted import accounts
    from cpted.access import Access
    from cpted.mail import transport_for
    from layers.redact import hide_credentials
    from layers.store import database_error

    if args.every is not None and args.every <= 0:
        raise UsageError(_("--every takes a number of seconds above 0, got {n:g}").format(
            n=args.every))
    if args.limit < 1:
        raise UsageError(_("--limit takes a number of messages of at least 1, got {n}").format(
            n=args.limit))
    door = Access(store, accounts.operator(), settings)

    def run_once() -> None:
        digests = door.build_digests()
        with transport_for(settings) as transport:
            done = door.deliver(transport.send, limit=args.limit)
        stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z"
        said = _("{stamp} {digests} digest(s) queued; {sent} message(s) sent to {to}").format(
            stamp=stamp, digests=digests, sent=done.sent, to=transport.describe())
        if done.failed:
            said = _("{said}, {n} failed").format(said=said, n=done.failed)
        if done.stopped:
            said = _("{said} (stopped: the server cannot be reached)").format(said=said)
        print(said, flush=True)
        for error in done.errors:
            print(f"  {error}", file=sys.stderr, flush=True)

    if args.every is None:
        run_once()
        return 0
    try:
        while True:
            try:
                run_once()
            except Exception as exc:  # the database away: say so, and try again next time
                if not isinstance(exc, CptedError) and not database_error(exc):
                    raise
                print(f"cpted notify: {hide_credentials(str(exc))}", file=sys.stderr,
                      flush=True)
            time.sleep(args.every)
    except KeyboardInterrupt:
        return 0

def _apikeys(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    from cpted import accounts
    from cpted.access import Access

    door = Access(store, accounts.operator(), settings)
    if args.apikeys_command == "add":
        new = door.create_api_key(args.name)
        print(new.key)
        print(_("made API key {id} for {name!r}; the key above is shown this once (only a "
                "digest of it is kept): give it to the client now").format(
                    id=new.key_id, name=new.name), file=sys.stderr)
    elif args.apikeys_command == "revoke":
        door.revoke_api_key(args.key_id)
        print(_("revoked {id}").format(id=args.key_id))
    else:
        keys = door.api_keys()
        if keys.empty:
            print(_("no API keys"))
            return 0
        tz = store.get_setting("timezone") or settings.timezone
        table = keys.assign(
            made=keys["created_at"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M"),
            state=[_("revoked {when}").format(when=f"{t.tz_convert(tz):%Y-%m-%d %H:%M}")
                   if t == t else _("in use") for t in keys["revoked_at"]])
        table = table[["name", "made", "created_by", "state", "key_id"]].rename(columns={
            "name": _("client"), "made": _("made"), "created_by": _("made by"),
            "state": _("state"), "key_id": _("key id")})
        print(table.to_string(index=False))
    return 0


def _api(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    import uvicorn

    from cpted.api import create_app

    if args.db:
        settings = replace(settings, db_url=args.db)
    # the client's address is decided by the trusted_proxies setting, never by
    # uvicorn believing X-Forwarded-For from this machine
    uvicorn.run(create_app(settings), host=args.host, port=args.port, proxy_headers=False,
                log_level="info")
    return 0


def language(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """The language the command speaks: ``--language`` when given, else the first of
    ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` that is set (``es_MX.UTF-8`` -> ``"es"``;
    ``C`` or one without a catalogue -> English), as :func:`cpted.i18n.negotiate` matches
    them to the catalogues."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--language")
    known, _rest = pre.parse_known_args(argv)
    if known.language:
        return i18n.negotiate(known.language)
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := env.get(var):
            return i18n.negotiate(value.split(".")[0].split("@")[0])
    return i18n.SOURCE


#: argparse's own words that people read (usage, headings, wrong usage), for the
#: catalogue; argparse asks for them through its module's ``_`` and ``ngettext``.
ARGPARSE_WORDS = (
    N_("usage: "), N_("positional arguments"), N_("options"),
    N_("show this help message and exit"), N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"), N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("expected one argument"),
    N_("expected at most one argument"), N_("expected at least one argument"),
    N_("invalid %(type)s value: %(value)r"), N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
)
ngettext("expected %s argument", "expected %s arguments", 2)  # marks argparse's plural


@contextlib.contextmanager
def _argparse_speaks() -> Iterator[None]:
    """argparse's words from our catalogue, in the language in use, inside the block."""
    names = vars(argparse)  # argparse looks these up in its module at each call
    saved = names["_"], names["ngettext"]
    names["_"], names["ngettext"] = _, ngettext
    try:
        yield
    finally:
        names["_"], names["ngettext"] = saved


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    with i18n.use(language(argv)), _argparse_speaks():
        return _main(argv)


def _main(argv: Sequence[str]) -> int:
    from layers.redact import hide_credentials
    from layers.store import database_error

    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except Exception as exc:
        # a refusal of ours, or the database's: one line, any password in it masked
        if not isinstance(exc, CptedError | ValueError) and not database_error(exc):
            raise
        print(f"cpted {args.command}: {hide_credentials(str(exc))}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from cpted import accounts
    from cpted.access import Access
    from layers.store import open_store

    settings = load_settings()
    if args.command == "sample" and args.regenerate:
        from layers.sample import DEFAULT_SEED, write_sample

        paths = write_sample(args.regenerate, seed=args.seed or DEFAULT_SEED)
        for name, path in paths.items():
            print(_("wrote {name}: {path}").format(name=name, path=path))
        return 0
    if args.command == "db":
        return _db(args, settings)
    if args.command == "api":
        return _api(args, settings)
    if args.command == "profile":
        return cli_profiles.run(args, settings)
    with open_store(args.db or settings.db_url) as store:
        if args.command == "accounts":
            return _accounts(store, args)
        if args.command == "notify":
            return _notify(store, args, settings)
        if args.command == "apikeys":
            return _apikeys(store, args, settings)
        door = Access(store, accounts.public() if getattr(args, "public", False)
                      else accounts.operator(), settings)
        if args.command == "sample":
            for summary in door.load_sample():
                print(summary.text())
            print(_("store: {store}").format(store=store.label))
        elif args.command == "import":
            summary = door.import_file(
                args.path, parse_layer(args.layer), fmt=args.fmt, crs=args.crs,
                lon_col=args.lon_col, lat_col=args.lat_col, x_col=args.x_col, y_col=args.y_col,
                encoding=args.encoding, column_map=_column_map(args.map), tz=args.tz,
                repair=not args.no_repair, on_conflict=args.on_conflict, dry_run=args.dry_run,
                profile=args.profile,
            )
            if args.json:
                d = summary.to_dict()
                d["rejections"] = [r.__dict__ for r in summary.rejections]
                print(json.dumps(d, default=str))
            else:
                print(summary.text())
        elif args.command == "export":
            from cpted.exports import EXPORT_FORMATS

            layer = parse_layer(args.layer)
            if args.fmt not in EXPORT_FORMATS:
                raise UsageError(_("unknown output format {format!r}; expected one of: "
                                   "{formats}").format(format=args.fmt,
                                                       formats=", ".join(EXPORT_FORMATS)))
            if (args.out is None) == (args.partitioned is None):
                raise UsageError(_("give one of --out FILE or --partitioned DIR"))
            n = door.export(layer, args.out or args.partitioned, args.fmt,
                            partitioned=args.partitioned is not None)
            where = args.out or _("{folder} (spatially partitioned)").format(
                folder=args.partitioned)
            said = (_("wrote {n} {layer} to {where} (public: sensitive categories blurred)")
                    if args.public else _("wrote {n} {layer} to {where}"))
            print(said.format(n=number(n), layer=layer.value, where=where))
        elif args.command == "services":
            _services(store, args)
        elif args.command in ("overlay", "hotspots") and cli_cluster.wants_dask(args):
            getattr(cli_cluster, args.command)(door, args, settings)
        elif args.command == "overlay":
            _overlay(store, args, settings)
        elif args.command == "hotspots" and args.method == "emerging":
            _emerging_command(door, store, args, settings)
        elif args.command in ("hotspots", "route"):
            _patrol_commands(door, args, settings)
        elif args.command in ("lighting", "priorities"):
            _lighting_commands(store, args)
        elif args.command in ("assessments", "report", "brief"):
            _assessment_commands(store, args, settings)
        elif args.command == "info":
            counts = {layer.value: n for layer, n in store.counts().items()}
            if args.json:
                print(json.dumps({"db": store.label, "schema_version": store.schema_version(),
                                  "counts": counts}))
            else:
                print(_("store: {store} (schema version {version})").format(
                    store=store.label, version=store.schema_version()))
                for name, n in counts.items():
                    print(f"  {name}: {number(n)}")
    return 0


def _write_table(frame: object, path: Path) -> None:
    import geopandas as gpd

    from layers.csvsafe import write_csv

    assert isinstance(frame, gpd.GeoDataFrame)
    kind = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == ".csv":
        out = frame.drop(columns="geometry")
        import shapely

        mid = shapely.point_on_surface(frame.geometry.values)
        out["lon"], out["lat"] = shapely.get_x(mid), shapely.get_y(mid)
        write_csv(out, path)
    elif kind in (".geojson", ".gpkg"):
        frame.to_file(path, driver="GeoJSON" if kind == ".geojson" else "GPKG")
    else:
        raise UsageError(_("--out must end in .csv, .geojson or .gpkg, got {name!r}").format(
            name=path.name))


def _lighting_commands(store: Store, args: argparse.Namespace) -> None:
    import geopandas as gpd

    from cpted import lighting as lt
    from cpted import priorities as pr

    src = pr.from_store(store)
    if warning := src.inv.warning():
        print(_("note: {note}").format(note=warning), file=sys.stderr)
    if len(src.outages):
        print(ngettext("{n} open 'streetlight out' report matched to poles within 30 m; "
                       "those poles are modelled as out",
                       "{n} open 'streetlight out' reports matched to poles within 30 m; "
                       "those poles are modelled as out", len(src.outages)).format(
                           n=len(src.outages)), file=sys.stderr)
    if args.command == "lighting":
        seg = lt.segment_lux(src.streets, src.inv, src.data)
        frame = gpd.GeoDataFrame(seg, geometry=src.streets.geometry.values, crs=4326)
        _write_table(frame, args.out)
        dark = seg["dark"]
        print(ngettext("wrote lux for {n} street segment to {out}: {dark} dark ({dark_km} of "
                       "{km} km)",
                       "wrote lux for {n} street segments to {out}: {dark} dark ({dark_km} "
                       "of {km} km)", len(seg)).format(
                           n=number(len(seg)), out=args.out, dark=number(int(dark.sum())),
                           dark_km=number(seg.loc[dark, "length_m"].sum() / 1000, digits=1),
                           km=number(seg["length_m"].sum() / 1000, digits=1)))
        return
    base = pr.Costs.default()
    costs = pr.Costs(args.repair_usd or base.repair_usd, args.upgrade_usd or base.upgrade_usd,
                     args.new_pole_usd or base.new_pole_usd)
    plan = pr.candidates_for(src.streets, src.inv, src.data, costs, night_concerns=src.night)
    pr.choose(plan, args.budget)
    _write_table(plan.work_list(), args.out)
    print(plan.summary_text())
    print(ngettext("wrote the work list ({n} item) to {out}",
                   "wrote the work list ({n} items) to {out}", len(plan.chosen)).format(
                       n=len(plan.chosen), out=args.out))
    if args.check:
        ex = pr.exact_plan(plan, args.budget, time_limit_s=60)
        gap = 1 - plan.value() / ex.bound if ex.bound else 0.0
        print(_("exact check: greedy benefit {greedy}, exact {exact}, bound {bound} ({how}); "
                "greedy within {gap} of the bound").format(
                    greedy=number(plan.value(), digits=0), exact=number(ex.value, digits=0),
                    bound=number(ex.bound, digits=0),
                    how=_("optimal") if ex.optimal else _("time limit"),
                    gap=i18n.percent(gap, digits=2)))


def _lonlat(text: str, what: str) -> tuple[float, float, str]:
    parts = [p.strip() for p in text.split(",", 2)]
    try:
        lon, lat = float(parts[0]), float(parts[1])
    except (ValueError, IndexError):
        raise UsageError(_("{option} takes LON,LAT (for example -94.57,39.04), got "
                           "{text!r}").format(option=what, text=text)) from None
    return lon, lat, parts[2] if len(parts) > 2 else ""


def _patrol_commands(door: Access, args: argparse.Namespace, settings: Settings) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import pandas as pd

    from cpted import forecast as fc
    from cpted import hotspots as hs
    from cpted import patrol as pt

    tz = door.store.get_setting("timezone") or settings.timezone
    start = pd.Timestamp(args.since, tz=tz) if args.since else None
    end = pd.Timestamp(args.until, tz=tz) if args.until else None
    sources = pt.parse_sources(args.source, start=start, end=end, night_only=args.night_only)
    every = door.patrol_events(sources, tz=tz)
    events, later, cut = every, None, None
    if getattr(args, "evaluate_after", None):
        cut = pd.Timestamp(args.evaluate_after, tz=tz)
        events, later = pt.split_events(every, cut)
        if later.empty:
            raise UsageError(_("no events on or after {date} to evaluate with").format(
                date=args.evaluate_after))
    hoods = door.layer(Layer.NEIGHBORHOODS)
    hot = hs.analyse(events, boundary=hoods, cell_size=args.cell_size, shape=args.shape,
                     radius=args.bandwidth, permutations=args.permutations)
    print(hot.describe())
    evaluation = None
    if cut is not None or (args.command == "route" and args.stops_from == "forecast"):
        try:
            evaluation = fc.evaluate_methods(
                every, hot.grid, cut, end=end, factors_at=fc.factors_from(
                    hot.grid, parcels=door.layer(Layer.PARCELS),
                    concerns=door.layer(Layer.CONCERNS),
                    streetlights=door.layer(Layer.STREETLIGHTS)))
        except fc.ForecastError as exc:
            if cut is not None:
                raise
            print(_("note: no forecast to take stops from ({reason}); using Gi* hot spots "
                    "and strong single cells").format(reason=exc))
            args.stops_from = "gi"
    if args.command == "hotspots":
        frame = hot.frame()
        if args.method == "kde":
            frame = frame[frame["density"] > 0][["cell", "count", "density", "geometry"]]
        elif args.method == "counts":
            frame = frame[frame["count"] > 0][["cell", "count", "geometry"]]
        _write_table(frame, args.out)
        hot_n = int((hot.gi.bins > 0).sum())
        cold_n = int((hot.gi.bins < 0).sum())
        cuts = ", ".join(f"{i18n.percent(c)} p < {v:.2g}"
                         for c, v in sorted(hot.gi.thresholds.items()))
        print(_("Gi*: {hot} hot and {cold} cold cell(s) at {share} confidence or more (FDR "
                "cut-offs: {cuts})").format(hot=number(hot_n), cold=number(cold_n),
                                             share=i18n.percent(0.9), cuts=cuts))
        print(hot.cold.describe())
        print(_("the cells with the most events, beside their Gi* result:"))
        for row in hot.top_by_count(5).itertuples():
            print(_("  cell {cell}: {n:g} events, {near:g} in its neighbours: {result} "
                    "(z {z:.2f})").format(cell=row.Cell, n=row[2], near=row[3],
                                          result=row[4].lower(), z=row[5]))
        print(_("wrote {n} cell(s) to {out}").format(n=number(len(frame)), out=args.out))
        if evaluation is not None and later is not None:
            print(ngettext("evaluated on {n} later event, {windows}:",
                           "evaluated on {n} later events, {windows}:", len(later)).format(
                               n=number(len(later)), windows=evaluation.windows.describe(tz)))
            for line in fc.table_text(evaluation):
                print(line)
            if evaluation.prospective is not None:
                print(_("prospective hotspotting: {result}").format(
                    result=evaluation.prospective.describe()))
            if evaluation.risk is not None:
                for r in evaluation.risk.relative_risks().itertuples():
                    print(_("risk factor: {factor}: relative risk {risk:.2f} per {step:.3g} "
                            "(one SD)").format(factor=r.Factor, risk=r[2], step=r[3]))
            for note in evaluation.notes:
                print(_("note: {note}").format(note=note))
            print(evaluation.verdict())
            if args.json:
                print(json.dumps({"rows": evaluation.rows()}))
        return
    if args.out.suffix.lower() != ".gpx":
        raise UsageError(_("--out must end in .gpx, got {name!r}").format(name=args.out.name))
    from cpted import network as nw

    if args.network is not None:
        net = nw.read_network(args.network)
    else:
        streets = door.layer(Layer.STREETS)
        if streets.empty:
            raise UsageError(_("the store holds no streets: import centrelines or give "
                               "--network"))
        net = nw.from_lines(streets, source=_("the store's streets"))
    print(_("network: {network}").format(network=net.describe()))
    if net.noding is not None:
        print(_("joining the lines: {noding}").format(noding=net.noding.describe()))
    lon, lat, _label = _lonlat(args.station, "--station")
    if evaluation is not None:
        print(_("candidate stops from {method}, the method that did best on the validation "
                "window").format(method=fc.NAMES[evaluation.chosen]))
        candidates = pt.candidates_from(hot, "forecast", limit=args.max_stops,
                                        forecast=evaluation.expected,
                                        forecast_name=fc.NAMES[evaluation.chosen])
    else:
        candidates = pt.candidates_from(hot, args.stops_from, limit=args.max_stops)
    for k, text in enumerate(args.must, start=1):
        mlon, mlat, label = _lonlat(text, "--must")
        candidates.append(pt.Candidate(label or _("Must-visit {k}").format(k=k), mlon, mlat,
                                       0.0, must=True))
    when = (datetime.fromisoformat(args.start).replace(tzinfo=ZoneInfo(tz))
            if args.start else None)
    plan = pt.plan_patrol(net, candidates, pt.PatrolSettings(
        (lon, lat), shift_min=args.shift_min, speed_kmh=args.speed_kmh,
        dwell_min=args.dwell_min, officers=args.officers, start=when),
        time_limit=args.time_limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(pt.to_gpx(plan), encoding="utf-8")
    print(plan.summary())
    for note in plan.notes:
        print(_("note: {note}").format(note=note))
    for r in plan.routes:
        print(_("officer {officer}: {stops}; back after {minutes:.0f} min").format(
            officer=r.officer, minutes=r.total_min, stops=" -> ".join(
                f"{s.order} ({plan.clock(s.arrive_min)})" for s in r.stops)))
    stops = sum(len(r.stops) for r in plan.routes)
    print(_("wrote {stops} to {out}").format(
        stops=_("{stops} and {tracks}").format(
            stops=ngettext("{n} stop", "{n} stops", stops).format(n=stops),
            tracks=ngettext("{n} track", "{n} tracks", len(plan.routes)).format(
                n=len(plan.routes))), out=args.out))
    if args.sheet is not None:
        args.sheet.parent.mkdir(parents=True, exist_ok=True)
        args.sheet.write_text(pt.sheet_html(plan, net=net), encoding="utf-8")
        print(_("wrote the printable sheet to {path}").format(path=args.sheet))


def _emerging_command(door: Access, store: Store, args: argparse.Namespace,
                      settings: Settings) -> None:
    """``cpted hotspots --method emerging``: the classes per cell to a file, a count each."""
    import pandas as pd

    from cpted import emerging as em
    from cpted import patrol as pt
    from cpted.trend import smallest_trend_p

    if args.evaluate_after:
        raise UsageError(_("--evaluate-after tests hotspots on a later period; emerging hot "
                           "spots describe the whole period: leave one of them out"))
    tz = store.get_setting("timezone") or settings.timezone
    start = pd.Timestamp(args.since, tz=tz) if args.since else None
    end = pd.Timestamp(args.until, tz=tz) if args.until else None
    sources = pt.parse_sources(args.source, start=start, end=end, night_only=args.night_only)
    events = door.patrol_events(sources, tz=tz)
    found = em.analyse(events, boundary=door.layer(Layer.NEIGHBORHOODS),
                       cell_size=args.cell_size, shape=args.shape, slice_length=args.slice,
                       time_steps=args.time_steps, tz=tz, start=start, end=end)
    print(found.describe())
    if args.permutations != 999:
        print(_("note: --permutations does not apply to emerging hot spots, whose "
                "significance comes from the exact moments of the permutation distribution"))
    frame = found.frame()
    _write_table(frame[frame["pattern"] != em.Pattern.NONE.value], args.out)
    counts = found.counts_by_pattern()
    print(_("cells per pattern:"))
    for row in counts.itertuples():
        print(f"  {row.pattern}: {number(row.cells)} ({row.meaning})")
    if found.slices < em.FEW_SLICES:
        few = (ngettext("note: only {n} month; no trend can be surer than p = {p:.2f}",
                        "note: only {n} months; no trend can be surer than p = {p:.2f}",
                        found.slices) if args.slice == "month" else
               ngettext("note: only {n} week; no trend can be surer than p = {p:.2f}",
                        "note: only {n} weeks; no trend can be surer than p = {p:.2f}",
                        found.slices))
        print(few.format(n=found.slices, p=smallest_trend_p(found.slices)))
    shown = int((frame["pattern"] != em.Pattern.NONE.value).sum())
    print(_("wrote {n} cell(s) with a pattern to {out}").format(n=number(shown), out=args.out))


def _out_kind(path: Path) -> str:
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("pdf", "html"):
        raise UsageError(_("--out must end in .pdf or .html, got {name!r}").format(
            name=path.name))
    return kind


def _assessment_commands(store: Store, args: argparse.Namespace, settings: Settings) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from cpted import reports
    from cpted.assessments import list_assessments
    from layers.settings import Settings
    from layers.store import Store

    assert isinstance(store, Store) and isinstance(settings, Settings)
    tz = store.get_setting("timezone") or settings.timezone
    if args.command == "assessments":
        audits = list_assessments(store, neighborhood_id=args.neighborhood)
        for row in audits.itertuples():
            score = (f"{row.overall:.0f}" if row.enough_answers and row.overall == row.overall
                     else row.label.lower())
            print(f"{row.id}  {row.assessed_at.tz_convert(tz):%Y-%m-%d}  {row.period:5}  "
                  f"{score:>10}  {row.place_name}")
        print(ngettext("{n} audit", "{n} audits", len(audits)).format(n=len(audits)))
        return
    kind = _out_kind(args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.command == "report":
        r = reports.assessment_report(store, args.assessment)
        data = reports.report_pdf(r, tz=tz) if kind == "pdf" else reports.report_html(
            r, tz=tz).encode()
        args.out.write_bytes(data)
        print(_("wrote the report of {id} ({place}) to {out}").format(
            id=args.assessment, place=r.assessment.place_name, out=args.out))
        return
    key = f"brief_made:{args.neighborhood}"
    since = None
    if args.since:
        since = datetime.fromisoformat(args.since).replace(tzinfo=ZoneInfo(tz))
    elif (last := store.get_setting(key)) is not None:
        since = datetime.fromisoformat(last)
    from cpted import accounts
    from cpted.access import Access

    b = Access(store, accounts.operator()).neighborhood_brief(args.neighborhood, since=since)
    data = reports.brief_pdf(b, tz=tz) if kind == "pdf" else reports.brief_html(b, tz=tz).encode()
    args.out.write_bytes(data)
    store.set_setting(key, b.until.isoformat())
    print(_("wrote the brief of {name} to {out} (changes since {since})").format(
        name=b.name, out=args.out, since=f"{b.since.tz_convert(tz):%Y-%m-%d}"))


def _services(store: Store, args: argparse.Namespace) -> None:
    from cpted.concerns import services
    from layers import open311
    from layers.store import Store

    assert isinstance(store, Store)
    if args.action == "list":
        for code, s in services(store).items():
            print(_("{code}: {name} (sensitive)").format(code=code, name=s.service_name)
                  if s.sensitive else f"{code}: {s.service_name}")
        return
    if args.path is None:
        raise UsageError(_("services {action} needs a file path").format(action=args.action))
    if args.action == "import":
        from cpted import accounts
        from cpted.access import Access

        n = Access(store, accounts.operator()).save_services(open311.read_services(args.path),
                                                             keep_local=True)
        print(_("imported {n} service(s) from {path}").format(n=n, path=args.path))
    else:
        open311.write_json(open311.services_json(services(store).values()), args.path)
        print(_("wrote the service list to {path}").format(path=args.path))


def _overlay(store: Store, args: argparse.Namespace, settings: Settings) -> None:
    import pandas as pd

    from cpted.concerns import reopened_ids, services
    from cpted.overlay import overlay
    from layers.store import Store

    assert isinstance(store, Store)
    tz = store.get_setting("timezone") or settings.timezone
    where: dict[str, list[str]] = {}
    if args.category:
        where["service_code"] = args.category
    if args.status:
        where["status"] = [args.status]
    if args.time_of_day:
        where["time_of_day"] = [args.time_of_day]
    start = pd.Timestamp(args.since, tz=tz) if args.since else None
    end = pd.Timestamp(args.until, tz=tz) if args.until else None
    concerns = store.read(Layer.CONCERNS, where=where, time=("requested_datetime", start, end))
    hoods = store.read(Layer.NEIGHBORHOODS)
    if hoods.empty:
        raise UsageError(_("the store holds no neighborhoods to overlay on; import some "
                           "first"))
    table = overlay(concerns, hoods, reopened=reopened_ids(store),
                    target_days={c: s.target_days for c, s in services(store).items()})
    suffix = args.out.suffix.lower()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        from layers.csvsafe import write_csv

        write_csv(table, args.out)
    elif suffix in (".geojson", ".json"):
        import geopandas as gpd

        gdf = gpd.GeoDataFrame(table, geometry=hoods.geometry.values, crs=hoods.crs)
        gdf.to_file(args.out, driver="GeoJSON")
    else:
        raise UsageError(_("--out should end in .csv or .geojson, got {name!r}").format(
            name=args.out.name))
    print(ngettext("wrote {n} neighborhood ({inside} concerns inside it of {selected} "
                   "selected) to {out}",
                   "wrote {n} neighborhoods ({inside} concerns inside them of {selected} "
                   "selected) to {out}", len(table)).format(
                       n=len(table), inside=number(int(table["count"].sum())),
                       selected=number(len(concerns)), out=args.out))


if __name__ == "__main__":
    raise SystemExit(main())
