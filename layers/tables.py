"""Every table the store holds, declared once.

The feature layers (one table per :class:`~layers.schema.Layer`, built from the
layer schemas), our bookkeeping (migrations, settings, import log) and the tables of
the concern workflow, CPTED assessments, patrol visits, accounts and the change log.
Reporter contact lives in its own table, ``concern_contacts``, which no public read
joins: a public view or export cannot leak what it never reads.

Only :mod:`layers` reads or writes these tables (the store, the migrations and the
repositories in :mod:`layers.repos`); the domain goes through
:class:`cpted.access.Access`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from layers.schema import SCHEMAS, FieldType, Layer, LayerSchema


class _Declared(sa.types.UserDefinedType[Any]):
    """A column type whose declared name is what GeoPackage readers look for.

    On PostgreSQL the same names become PostGIS types (``geometry(Point,4326)``)
    and ``DATETIME`` becomes text holding the same ISO 8601 UTC strings.
    """

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **_: Any) -> str:
        return self.name


GEOMETRY_NAMES = ("POINT", "MULTIPOLYGON", "GEOMETRY")


@compiles(_Declared, "postgresql")
def _declared_on_postgres(type_: _Declared, compiler: Any, **_: Any) -> str:
    if type_.name == "DATETIME":
        return "TEXT"
    if type_.name == "POINT":
        return "geometry(Point,4326)"
    # polygons and multipolygons share a layer, so only points are typed tighter
    return "geometry(Geometry,4326)"


def geometry_type_name(schema: LayerSchema) -> str:
    types = schema.geometry_types
    if types == ("Point",):
        return "POINT"
    if types[-1] == "MultiPolygon":
        return "MULTIPOLYGON"
    return "GEOMETRY"


def _sql_type(ftype: FieldType) -> sa.types.TypeEngine[Any]:
    types: dict[FieldType, sa.types.TypeEngine[Any]] = {
        FieldType.TEXT: sa.Text(),
        FieldType.INTEGER: sa.Integer(),
        FieldType.REAL: sa.Float(),
        FieldType.DATETIME: _Declared("DATETIME"),
    }
    return types[ftype]


def build_metadata() -> tuple[sa.MetaData, dict[Layer, sa.Table]]:
    """SQLAlchemy tables for every layer plus our bookkeeping tables."""
    md = sa.MetaData()
    tables: dict[Layer, sa.Table] = {}
    for layer, schema in SCHEMAS.items():
        cols: list[sa.Column[Any]] = [
            sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
        ]
        for spec in schema.fields:
            cols.append(sa.Column(
                spec.name, _sql_type(spec.type),
                nullable=not spec.required,
                unique=spec.name == schema.id_field,
            ))
        cols.append(sa.Column("geom", _Declared(geometry_type_name(schema))))
        # row version (schema v5): a save names the version it read, so a stale one is refused
        cols.append(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        tables[layer] = sa.Table(layer.value, md, *cols, sqlite_autoincrement=True)
    sa.Table("cpted_migrations", md,
             sa.Column("version", sa.Integer, primary_key=True),
             sa.Column("description", sa.Text, nullable=False),
             sa.Column("applied_at", sa.Text, nullable=False))
    sa.Table("cpted_settings", md,
             sa.Column("key", sa.Text, primary_key=True),
             sa.Column("value", sa.Text, nullable=False))
    sa.Table("cpted_imports", md,
             sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
             sa.Column("layer", sa.Text, nullable=False),
             sa.Column("source", sa.Text, nullable=False),
             sa.Column("imported_at", sa.Text, nullable=False),
             sa.Column("summary", sa.Text, nullable=False))
    return md, tables


METADATA, TABLES = build_metadata()

# -- the concern workflow (schema version 2) ---------------------------------------



services = sa.Table(
    "services", METADATA,
    sa.Column("service_code", sa.Text, primary_key=True),
    sa.Column("service_name", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("group_name", sa.Text),
    sa.Column("keywords", sa.Text),
    sa.Column("sensitive", sa.Integer, nullable=False, server_default="0"),
    sa.Column("duplicate_radius_m", sa.Float, nullable=False),
    sa.Column("duplicate_window_days", sa.Float, nullable=False),
    sa.Column("target_days", sa.Float, nullable=False),
    sa.Column("attributes", sa.Text, nullable=False, server_default="[]"),
)

concern_contacts = sa.Table(
    "concern_contacts", METADATA,
    sa.Column("service_request_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("phone", sa.Text),
)

concern_events = sa.Table(
    "concern_events", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("service_request_id", sa.Text, nullable=False, index=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # created, status, reopened, support, linked
    sa.Column("actor", sa.Text),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text),
    sa.Column("note", sa.Text),
    # schema v6: "public" notes reach public views; "internal" ones only staff
    sa.Column("visibility", sa.Text, nullable=False, server_default="internal"),
)

concern_photos = sa.Table(
    "concern_photos", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("service_request_id", sa.Text, nullable=False, index=True),
    sa.Column("media_type", sa.Text, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

problem_spots = sa.Table(
    "problem_spots", METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("note", sa.Text),
)

spot_reports = sa.Table(
    "spot_reports", METADATA,
    sa.Column("spot_id", sa.Text, primary_key=True),
    sa.Column("service_request_id", sa.Text, primary_key=True),
)

action_plans = sa.Table(
    "action_plans", METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("spot_id", sa.Text),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("owner_kind", sa.Text, nullable=False),
    sa.Column("owner_name", sa.Text, nullable=False),
    sa.Column("due_date", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("note_visibility", sa.Text, nullable=False, server_default="internal"),  # v6
)

plan_reports = sa.Table(
    "plan_reports", METADATA,
    sa.Column("plan_id", sa.Text, primary_key=True),
    sa.Column("service_request_id", sa.Text, primary_key=True),
)


# -- CPTED assessments (schema version 3) ------------------------------------------

#: Every instrument an assessment was made with, kept verbatim so old audits stay
#: scoreable after the instrument changes.
instruments = sa.Table(
    "instruments", METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("added_at", sa.Text, nullable=False),
)

#: A GeoPackage feature table (``fid`` + ``geom``), so QGIS shows the audits too.
assessments = sa.Table(
    "assessments", METADATA,
    sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.Text, nullable=False, unique=True),
    sa.Column("place_name", sa.Text, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),  # a point on the place, for radius searches
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("neighborhood_id", sa.Text, index=True),
    sa.Column("assessor", sa.Text, nullable=False),
    sa.Column("assessed_at", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("instrument_id", sa.Text, nullable=False),
    sa.Column("instrument_version", sa.Text, nullable=False),
    sa.Column("answers", sa.Text, nullable=False),
    sa.Column("notes", sa.Text),
    sa.Column("overall", sa.Float),
    sa.Column("outcome", sa.Float),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    # schema v6: whose audit this is (an account's or a public session's quota key),
    # so its author may edit it and others may not
    sa.Column("author_key", sa.Text),
    sa.Column("geom", _Declared("GEOMETRY")),
    sqlite_autoincrement=True,
)

assessment_photos = sa.Table(
    "assessment_photos", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("assessment_id", sa.Text, nullable=False, index=True),
    sa.Column("caption", sa.Text),
    sa.Column("media_type", sa.Text, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# -- schema version 4 -------------------------------------------------------------

patrol_visits = sa.Table(
    "patrol_visits", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("officer", sa.Text, nullable=False),
    sa.Column("place", sa.Text, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("visited_at", sa.Text, nullable=False, index=True),
    sa.Column("note", sa.Text),
    sa.Column("recorded_at", sa.Text, nullable=False),
)

# -- schema version 5: a shared deployment ------------------------------------------

#: Local sign-in accounts. Only a password hash is kept (argon2id, via argon2-cffi);
#: deployments signing in through OpenID Connect keep a row per e-mail for the role.
accounts = sa.Table(
    "accounts", METADATA,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("disabled", sa.Integer, nullable=False, server_default="0"),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)

#: Who changed what and when: statuses, merges, deletions, role and account changes.
audit_log = sa.Table(
    "audit_log", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False, index=True),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_role", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target_kind", sa.Text, nullable=False),
    sa.Column("target_id", sa.Text, nullable=False),
    sa.Column("detail", sa.Text),
)

#: Writes per account, for the rate limit (old rows are pruned as new ones land).
request_log = sa.Table(
    "request_log", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Index("ix_request_log_account_at", "account", "at"),
)

# -- schema version 7: feedback that reaches people --------------------------------

#: Keys for Open311 clients that file reports through the API. Only a SHA-256 digest
#: of the secret is kept; ``key_id`` is the public part a client sends before it.
api_keys = sa.Table(
    "api_keys", METADATA,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("secret_hash", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("revoked_at", sa.Text),
)

#: Someone following a report or an area by e-mail. The address is private like a
#: reporter's contact. ``kind`` is ``report`` (``service_request_id``) or ``area``
#: (``neighborhood_id``, or ``area_geojson``: a drawn polygon or a circle around a point
#: already made a polygon); ``categories`` a JSON list of service codes, empty for all.
#: Nothing is sent before ``confirmed_at`` (double opt-in) or after ``ended_at``.
#: ``kind`` ``assigned`` is a staff account following the reports assigned to it
#: (``account``): its address is the account's, read when a message is written, so
#: ``email`` is empty and it is confirmed when made. ``language`` is the code of the
#: language its messages are written in (the follower's when they followed; v10).
follows = sa.Table(
    "follows", METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("service_request_id", sa.Text, index=True),
    sa.Column("neighborhood_id", sa.Text),
    sa.Column("area_geojson", sa.Text),
    sa.Column("categories", sa.Text, nullable=False, server_default="[]"),
    sa.Column("frequency", sa.Text, nullable=False, server_default="instant"),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("confirmed_at", sa.Text),
    sa.Column("ended_at", sa.Text),
    sa.Column("last_digest_at", sa.Text),
    sa.Column("account", sa.Text, index=True),
    sa.Column("language", sa.Text, nullable=False, server_default="en"),
)

#: Messages waiting to go, written in the same transaction as the change that causes
#: them. ``dedupe_key`` (the cause and the follow) makes a second write of the same
#: message a no-op; a message is sent when ``sent_at`` is empty and ``due_at`` past,
#: and ``attempts`` and ``last_error`` record failures for the backoff.
outbox = sa.Table(
    "outbox", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dedupe_key", sa.Text, nullable=False, unique=True),
    sa.Column("follow_id", sa.Text, index=True),
    sa.Column("to_address", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body_text", sa.Text, nullable=False),
    sa.Column("headers", sa.Text, nullable=False, server_default="{}"),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("due_at", sa.Text, nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", sa.Text),
)

#: Answers to the two-question perception survey, placed on the map. ``client`` is whose
#: answer it is (an account's or a browser session's key, never a network address), so
#: one person answers once a day for a neighborhood; no read returns it or the point.
survey_responses = sa.Table(
    "survey_responses", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False, index=True),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("neighborhood_id", sa.Text, index=True),
    sa.Column("safe_after_dark", sa.Integer, nullable=False),
    sa.Column("knows_contact", sa.Integer, nullable=False),
    sa.Column("client", sa.Text, nullable=False),
)

#: Followers' answers to "Is it fixed?", asked when a report is marked fixed: one per
#: follow and fix (``report_version``, the report's version the fix made), ``answer``
#: ``yes`` or ``no``. No address: the follow's id stands for whoever answered.
fixed_answers = sa.Table(
    "fixed_answers", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("follow_id", sa.Text, nullable=False),
    sa.Column("service_request_id", sa.Text, nullable=False, index=True),
    sa.Column("report_version", sa.Integer, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("answered_at", sa.Text, nullable=False),
    sa.UniqueConstraint("follow_id", "report_version", name="uq_fixed_answers_follow_fix"),
)

#: Which staff account a report is assigned to (at most one), by whom and when. Staff
#: only: the public never learns which staff member handles a report.
concern_assignments = sa.Table(
    "concern_assignments", METADATA,
    sa.Column("service_request_id", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, nullable=False, index=True),
    sa.Column("assigned_at", sa.Text, nullable=False),
    sa.Column("assigned_by", sa.Text, nullable=False),
)
