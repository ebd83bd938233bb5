"""Versioned schema migrations.

Each migration is a numbered function run once, in order, inside the same
transaction as the record of it in ``cpted_migrations``. A database made by
a newer version of the code than this one is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from layers import gpkg, rtree
from layers import tables as wt
from layers.clock import now_iso
from layers.errors import StoreError
from layers.schema import SCHEMAS, Layer
from layers.tables import METADATA, TABLES, geometry_type_name


def column_names(conn: Connection, table: str) -> set[str]:
    """A table's column names, without reflecting types (PostGIS types are unknown to
    SQLAlchemy, which would warn)."""
    if conn.dialect.name == "sqlite":
        return {r[1] for r in conn.execute(sa.text("SELECT * FROM pragma_table_info(:t)"),
                                           {"t": table})}
    return {r[0] for r in conn.execute(sa.text(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = :t"), {"t": table})}


#: The feature layers the first schema held; later layers come with their own migration
#: (parcels with v9), so an old store is brought up step by step.
V1_LAYERS = (Layer.NEIGHBORHOODS, Layer.CONCERNS, Layer.STREETLIGHTS, Layer.STREETS,
             Layer.BUILDINGS, Layer.INCIDENTS)


def _feature_table(conn: Connection, layer: Layer) -> None:
    """A layer's table, with its GeoPackage contents and geometry-column rows."""
    TABLES[layer].create(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        schema = SCHEMAS[layer]
        conn.execute(sa.text(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
            "last_change, srs_id) VALUES (:n, 'features', :n, :d, :t, 4326)"),
            {"n": TABLES[layer].name, "d": schema.title, "t": now_iso()})
        conn.execute(sa.text(
            "INSERT INTO gpkg_geometry_columns (table_name, column_name, "
            "geometry_type_name, srs_id, z, m) VALUES (:n, 'geom', :g, 4326, 0, 0)"),
            {"n": TABLES[layer].name, "g": geometry_type_name(schema)})


def _v1_initial(conn: Connection) -> None:

    sqlite = conn.dialect.name == "sqlite"
    if not sqlite:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA application_id = {gpkg.APPLICATION_ID}")
        conn.exec_driver_sql(f"PRAGMA user_version = {gpkg.USER_VERSION}")
        for ddl in gpkg.CORE_DDL:
            conn.exec_driver_sql(ddl)
        for row in gpkg.SRS_ROWS:
            conn.execute(sa.text(
                "INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, "
                "organization_coordsys_id, definition, description) "
                "VALUES (:a, :b, :c, :d, :e, :f)"),
                dict(zip("abcdef", row, strict=True)))
    METADATA.create_all(conn, tables=[METADATA.tables[n] for n in
                                      ("cpted_migrations", "cpted_settings", "cpted_imports")],
                        checkfirst=True)
    for layer in V1_LAYERS:
        _feature_table(conn, layer)


def _v2_concern_workflow(conn: Connection) -> None:
    from layers.services import load_default_services

    if "attributes" not in column_names(conn, "concerns"):
        conn.exec_driver_sql("ALTER TABLE concerns ADD COLUMN attributes TEXT")
    for table in (wt.services, wt.concern_contacts, wt.concern_events, wt.concern_photos,
                  wt.problem_spots, wt.spot_reports, wt.action_plans, wt.plan_reports):
        table.create(conn, checkfirst=True)
    for service in load_default_services():
        conn.execute(sa.insert(wt.services).values(**service.to_row()))


def _v3_assessments(conn: Connection) -> None:
    for table in (wt.instruments, wt.assessments, wt.assessment_photos):
        table.create(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
            "last_change, srs_id) VALUES ('assessments', 'features', 'assessments', "
            "'CPTED assessments', :t, 4326)"), {"t": now_iso()})
        conn.execute(sa.text(
            "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, "
            "srs_id, z, m) VALUES ('assessments', 'geom', 'GEOMETRY', 4326, 0, 0)"))


def _v4_patrol_visits(conn: Connection) -> None:
    wt.patrol_visits.create(conn, checkfirst=True)


def _v5_shared_deployment(conn: Connection) -> None:

    for layer in V1_LAYERS:
        if "version" not in column_names(conn, layer.value):
            conn.exec_driver_sql(
                f'ALTER TABLE "{layer.value}" ADD COLUMN version INTEGER NOT NULL DEFAULT 1')
    for table in (wt.accounts, wt.audit_log, wt.request_log):
        table.create(conn, checkfirst=True)
    # the Map page's filters: category and status first, then the date range
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_concerns_filter "
                         "ON concerns (service_code, status, requested_datetime)")
    if conn.dialect.name == "postgresql":
        for name in [*(TABLES[layer].name for layer in V1_LAYERS), "assessments"]:
            conn.exec_driver_sql(
                f'CREATE INDEX IF NOT EXISTS "ix_{name}_geom" ON "{name}" USING GIST (geom)')


def _v6_one_door(conn: Connection) -> None:
    """Notes get a visibility; audits remember their author.

    Notes written before visibility existed were shown to everyone, except that "me too"
    notes copied the supporter's description: those, and every note on a report of a
    sensitive category, become internal; other status and link notes stay public.
    """
    for table, column, ddl in (
            ("concern_events", "visibility", "TEXT NOT NULL DEFAULT 'internal'"),
            ("action_plans", "note_visibility", "TEXT NOT NULL DEFAULT 'internal'"),
            ("assessments", "author_key", "TEXT")):
        if column not in column_names(conn, table):
            conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN {column} {ddl}')
    e, s = wt.concern_events, wt.services
    c = TABLES[Layer.CONCERNS]
    sensitive = sa.select(c.c.service_request_id).join(
        s, s.c.service_code == c.c.service_code).where(s.c.sensitive != 0)
    conn.execute(sa.update(e).where(e.c.kind != "support",
                                    e.c.service_request_id.not_in(sensitive))
                 .values(visibility="public"))


def _v7_feedback(conn: Connection) -> None:
    """API keys, follows by e-mail, the outbox, perception-survey answers, followers'
    answers to "Is it fixed?" and reports assigned to staff."""
    for table in (wt.api_keys, wt.follows, wt.outbox, wt.survey_responses,
                  wt.fixed_answers, wt.concern_assignments):
        table.create(conn, checkfirst=True)


def _v8_rtree(conn: Connection) -> None:
    """GeoPackage R-tree indexes on every feature table (PostGIS has had GiST since v5)."""
    if conn.dialect.name != "sqlite":
        return
    for name in [*(TABLES[layer].name for layer in V1_LAYERS), "assessments"]:
        rtree.create(conn, name)


def _v9_parcels_and_street_levels(conn: Connection) -> None:
    """The parcels layer (with its GeoPackage rows and R-tree, or a GiST index on
    PostGIS), and the streets' ``level`` and ``oneway`` for street networks."""
    _feature_table(conn, Layer.PARCELS)
    name = TABLES[Layer.PARCELS].name
    if conn.dialect.name == "sqlite":
        rtree.create(conn, name)
    else:
        conn.exec_driver_sql(
            f'CREATE INDEX IF NOT EXISTS "ix_{name}_geom" ON "{name}" USING GIST (geom)')
    have = column_names(conn, "streets")
    for column, ddl in (("level", "INTEGER"), ("oneway", "TEXT")):
        if column not in have:
            conn.exec_driver_sql(f'ALTER TABLE streets ADD COLUMN "{column}" {ddl}')


def _v10_follow_language(conn: Connection) -> None:
    """Each follow remembers the language its messages are written in; follows made
    before had theirs in English."""
    if "language" not in column_names(conn, "follows"):
        conn.exec_driver_sql(
            "ALTER TABLE follows ADD COLUMN language TEXT NOT NULL DEFAULT 'en'")


def _v11_map_filter_index(conn: Connection) -> None:
    """The Map page's filter index covers time of day too, so that its counts and its
    newest rows are answered from the index alone; in the GeoPackage it holds the
    geometry as well (29 bytes a point), so that where the concerns are is read from it
    too: looking up a million rows of the table one by one takes ten times as long."""
    columns = "service_code, status, time_of_day, requested_datetime"
    if conn.dialect.name == "sqlite":
        columns += ", geom"
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_concerns_filter")
    conn.exec_driver_sql(f"CREATE INDEX ix_concerns_filter ON concerns ({columns})")


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "layers, settings and import log", _v1_initial),
    (2, "service list, contacts, status history, photos, problem spots, action plans",
     _v2_concern_workflow),
    (3, "CPTED instruments, assessments and their photos", _v3_assessments),
    (4, "patrol visit log", _v4_patrol_visits),
    (5, "row versions, accounts, audit trail, request log, spatial indexes",
     _v5_shared_deployment),
    (6, "note visibility, audit authors", _v6_one_door),
    (7, "API keys, follows, outbox, perception survey, fixed answers, assignments",
     _v7_feedback),
    (8, "GeoPackage R-tree spatial indexes", _v8_rtree),
    (9, "parcels layer; street levels and one-way codes", _v9_parcels_and_street_levels),
    (10, "the language of each follow's messages", _v10_follow_language),
    (11, "the Map page's filter index covers time of day and place", _v11_map_filter_index),
]

LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    insp = sa.inspect(conn)
    if not insp.has_table("cpted_migrations"):
        return 0
    v = conn.execute(sa.text("SELECT MAX(version) FROM cpted_migrations")).scalar()
    return int(v or 0)


def migrate(conn: Connection) -> list[int]:
    """Apply every pending migration; return the versions applied."""

    version = current_version(conn)
    if version > LATEST:
        raise StoreError(
            f"this database is at schema version {version}, newer than this program "
            f"understands ({LATEST}); upgrade cpted-mapper"
        )
    if version == 0 and conn.dialect.name == "sqlite":
        tables = set(sa.inspect(conn).get_table_names())
        foreign = tables - {"gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns",
                            "gpkg_ogr_contents", "gpkg_extensions", "sqlite_sequence"}
        if foreign:
            raise StoreError(
                "this file is a database that cpted-mapper did not create (it holds tables "
                f"{', '.join(sorted(foreign)[:5])}); give a new file for the store"
            )
    if version == 0 and conn.dialect.name == "postgresql":
        foreign = set(sa.inspect(conn).get_table_names()) - {"spatial_ref_sys"}
        if foreign:
            raise StoreError(
                "this database holds tables cpted-mapper did not create "
                f"({', '.join(sorted(foreign)[:5])}); give an empty database for the store")
    applied = []
    for number, description, step in MIGRATIONS:
        if number <= version:
            continue
        step(conn)
        conn.execute(sa.text("INSERT INTO cpted_migrations (version, description, applied_at) "
                             "VALUES (:v, :d, :t)"),
                     {"v": number, "d": description, "t": now_iso()})
        applied.append(number)
    return applied
