"""Tables of the concern workflow (schema version 2).

Reporter contact lives in its own table, ``concern_contacts``, which no
public read joins: a public view or export cannot leak what it never reads.
"""

from __future__ import annotations

import sqlalchemy as sa

from layers.store import METADATA, _Declared

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
