"""Validated settings: limits and defaults in one documented object.

Every value can be overridden by an environment variable ``CPTED_<NAME>``
(upper case), read once by :func:`load_settings`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from layers.errors import SettingsError

#: Where the embedded store lives when neither ``--db`` nor ``CPTED_DB_URL`` is given.
DEFAULT_DB_PATH = Path("var") / "cpted.gpkg"


@dataclass(frozen=True)
class Settings:
    """Limits and defaults.

    Attributes
    ----------
    db_url
        Database URL or plain file path of the embedded store.
    max_upload_mb
        Largest file accepted by an import, in megabytes.
    max_unzip_mb
        Largest total an uploaded zip may unpack to, in megabytes, however large
        the zip itself is.
    max_unzip_ratio
        An uploaded zip may also unpack to at most this many times its own size
        (but always to at least 1 MB). Zipped Shapefiles pack 3 to 20 times; a
        zip bomb hundreds of times. With the defaults a 1 MB zip may unpack to
        100 MB, and a zip at the upload limit to ``max_unzip_mb``. The bytes are
        counted as they are decompressed, so a lying header cannot pass.
    max_zip_entries
        Most entries a zip may hold.
    outlier_distance_km
        With no neighborhoods stored, a point further than this from the
        median of an import's points is rejected as outside the project area.
    area_margin_m
        With neighborhoods stored, the project area is their extent grown by
        this many metres; points outside it are rejected.
    timezone
        IANA time zone in which times without a zone are read and shown.
    map_point_limit
        Past this many concerns the Map page aggregates them into cells
        instead of drawing one marker each.
    sensitive_grid_m
        Public views show concerns in sensitive categories at the centre of a
        square cell of this many metres.
    staff_mode
        For a single-user demo with no accounts: the pages offer an "Acting as"
        role picker instead of sign-in. Off by default; never for a shared deployment.
    max_import_rows
        Most rows one import may hold; a larger file is refused before anything is stored.
    max_writes_per_minute
        Most changes (reports, supports, status changes, imports...) one account,
        or one client of the public (its address, see ``trusted_proxies``), may make in
        a minute.
    max_public_writes_per_minute
        Most changes the public as a whole may make in a minute: a budget that many
        addresses cannot get around.
    trusted_proxies
        Comma-separated addresses of reverse proxies in front of the app. Only when the
        connection comes from one of them is its ``X-Forwarded-For`` header believed
        (its last address not itself a trusted proxy is the client); otherwise the
        connection's own address is the client. Empty (the default): headers are ignored.
    max_failed_sign_ins
        Wrong passwords one browser session may make for one user name within an
        hour before each further attempt from it waits (1 s, then 2 s, 4 s... at most
        15 minutes); other sessions are not slowed (see :mod:`cpted.accounts`).
    instrument_path
        A CPTED audit instrument (TOML) to use instead of the bundled one.
    basemap_dir
        Where the base map's tiles are built (one folder per content); empty for the
        user's cache folder (``$XDG_CACHE_HOME/cpted-mapper/basemap``).
    tile_url
        A tile server to draw under the store's own base map, as a Leaflet URL template
        (``https://tiles.example.org/{z}/{x}/{y}.png``); empty (the default) for none.
        Every map then loads tiles from it, so set it only to a server the app's users
        can reach and may use.
    tile_attribution
        The credit that tile server asks for, shown on every map; required with
        ``tile_url``.
    secret_key
        The key that signs the links in follow messages (confirm, unsubscribe, an area's
        feed) with HMAC-SHA256. Empty (the default): one is made once and kept in the
        store's settings table, so every process of a deployment shares it. Changing it
        makes every link sent so far invalid.
    public_url
        Where people reach the app (scheme, host, port and any path), for the links in
        messages and feeds.
    smtp_host
        The mail server messages are sent through; empty (the default): messages are
        written as ``.eml`` files to ``outbox_dir`` instead.
    smtp_port
        Its port (587, mail submission, by default).
    smtp_starttls
        Upgrade the connection with STARTTLS before sending (and before signing in).
    smtp_user
        The user name to sign in to the mail server with; empty for none.
    smtp_password
        Its password.
    mail_from
        The sender of every message (``Name <address>``).
    outbox_dir
        Where messages go as ``.eml`` files when no ``smtp_host`` is set.
    """

    db_url: str = str(DEFAULT_DB_PATH)
    max_upload_mb: float = 200.0
    max_unzip_mb: float = 1000.0
    max_unzip_ratio: float = 100.0
    max_zip_entries: int = 1000
    outlier_distance_km: float = 50.0
    area_margin_m: float = 5000.0
    timezone: str = "America/Chicago"
    map_point_limit: int = 5000
    sensitive_grid_m: float = 250.0
    staff_mode: bool = False
    instrument_path: str = ""
    max_import_rows: int = 2_000_000
    max_writes_per_minute: int = 30
    max_public_writes_per_minute: int = 300
    trusted_proxies: str = ""
    max_failed_sign_ins: int = 3
    basemap_dir: str = ""
    tile_url: str = ""
    tile_attribution: str = ""
    secret_key: str = field(default="", repr=False)
    public_url: str = "http://localhost:8501"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    mail_from: str = "cpted-mapper <noreply@localhost>"
    outbox_dir: str = str(Path("var") / "outbox")

    def __post_init__(self) -> None:
        problems = []
        for name in ("max_upload_mb", "max_unzip_mb", "max_unzip_ratio", "outlier_distance_km",
                     "sensitive_grid_m"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.area_margin_m < 0:
            problems.append(f"area_margin_m must be >= 0, got {self.area_margin_m!r}")
        for name in ("max_zip_entries", "map_point_limit", "max_import_rows",
                     "max_writes_per_minute", "max_public_writes_per_minute",
                     "max_failed_sign_ins"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, got {getattr(self, name)!r}")
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.timezone)
        except Exception:
            problems.append(f"timezone {self.timezone!r} is not an IANA time zone name")
        if self.tile_url:
            if not self.tile_url.startswith(("https://", "http://")) or not all(
                    part in self.tile_url for part in ("{z}", "{x}", "{y}")):
                problems.append("tile_url must be an http(s) URL template with {z}, {x} and "
                                f"{{y}}, got {self.tile_url!r}")
            if not self.tile_attribution.strip():
                problems.append("tile_attribution must give the credit the tile server "
                                "asks for when tile_url is set")
        problems += self._mail_problems()
        if problems:
            raise SettingsError("invalid settings: " + "; ".join(problems))

    def _mail_problems(self) -> list[str]:
        from email.utils import parseaddr
        from urllib.parse import urlsplit

        problems = []
        url = urlsplit(self.public_url)
        if url.scheme not in ("http", "https") or not url.hostname or url.query \
                or url.fragment:
            problems.append("public_url must be an http(s) address without a query, like "
                            f"https://safety.example.org, got {self.public_url!r}")
        if not 0 < self.smtp_port < 65536:
            problems.append(f"smtp_port must be between 1 and 65535, got {self.smtp_port!r}")
        address = parseaddr(self.mail_from)[1]
        if "@" not in address or any(c in self.mail_from for c in "\r\n"):
            problems.append("mail_from must be an e-mail address, optionally with a name "
                            f"(Name <noreply@example.org>), got {self.mail_from!r}")
        if self.secret_key and len(self.secret_key) < 16:
            problems.append("secret_key must have at least 16 characters (or be empty, to "
                            "let the store keep one of its own)")
        return problems

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_upload_widget_mb(self) -> int:
        """``max_upload_mb`` as the whole megabytes an upload widget takes, rounded up
        (the import checks the exact limit again)."""
        return max(1, math.ceil(self.max_upload_mb))

    @property
    def link_base(self) -> str:
        """``public_url`` without a trailing slash, for joining paths to it."""
        return self.public_url.rstrip("/")

    @property
    def max_unzip_bytes(self) -> int:
        return int(self.max_unzip_mb * 1024 * 1024)


def load_settings(**overrides: object) -> Settings:
    """Settings from defaults, then ``CPTED_*`` environment variables, then ``overrides``."""
    values: dict[str, Any] = {}
    for f in fields(Settings):
        env = os.environ.get(f"CPTED_{f.name.upper()}")
        if env is None:
            continue
        kind = type(getattr(Settings, f.name))
        try:
            if kind is bool:
                if env.strip().lower() not in ("1", "0", "true", "false", "yes", "no", ""):
                    raise ValueError
                values[f.name] = env.strip().lower() in ("1", "true", "yes")
                continue
            values[f.name] = kind(env)
        except ValueError:
            raise SettingsError(
                f"environment variable CPTED_{f.name.upper()} should be a {kind.__name__}, "
                f"got {env!r}"
            ) from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(Settings(), **values)
