"""Schemas of the stored layers.

Each layer is a :class:`LayerSchema`: its fields with types, whether they are
required, allowed values for categorical fields, and the geometry types it
accepts. The importer, the validator and the store all read these, so a
field is declared once.

Concerns follow the Open311 GeoReport v2 request fields
(https://wiki.open311.org/GeoReport_v2): ``service_request_id``,
``service_code``, ``service_name``, ``description``, ``address``,
``requested_datetime``, ``updated_datetime`` and ``status`` (``open`` or
``closed``); ``lat``/``long`` are the point geometry. We add
``detailed_status``, ``time_of_day`` and ``source``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from layers.errors import UnusableInputError


class Layer(StrEnum):
    """The layers a store holds."""

    NEIGHBORHOODS = "neighborhoods"
    CONCERNS = "concerns"
    STREETLIGHTS = "streetlights"
    STREETS = "streets"
    BUILDINGS = "buildings"
    INCIDENTS = "incidents"
    PARCELS = "parcels"


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    REAL = "real"
    DATETIME = "datetime"


class ConcernStatus(StrEnum):
    """Open311 GeoReport v2 ``status``."""

    OPEN = "open"
    CLOSED = "closed"


class DetailedStatus(StrEnum):
    """Our finer status; each maps to an Open311 status by :data:`OPEN311_STATUS`."""

    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in progress"
    ACTION_SCHEDULED = "action scheduled"
    FIXED = "fixed"
    NOT_FIXED = "not fixed - no further action"
    DUPLICATE = "duplicate"
    REFERRED = "referred"
    CLOSED = "closed"


OPEN311_STATUS: dict[DetailedStatus, ConcernStatus] = {
    DetailedStatus.SUBMITTED: ConcernStatus.OPEN,
    DetailedStatus.ACKNOWLEDGED: ConcernStatus.OPEN,
    DetailedStatus.IN_PROGRESS: ConcernStatus.OPEN,
    DetailedStatus.ACTION_SCHEDULED: ConcernStatus.OPEN,
    DetailedStatus.FIXED: ConcernStatus.CLOSED,
    DetailedStatus.NOT_FIXED: ConcernStatus.CLOSED,
    DetailedStatus.DUPLICATE: ConcernStatus.CLOSED,
    DetailedStatus.REFERRED: ConcernStatus.CLOSED,
    DetailedStatus.CLOSED: ConcernStatus.CLOSED,
}


class TimeOfDay(StrEnum):
    DAY = "day"
    NIGHT = "night"
    UNKNOWN = "unknown"


class LightStatus(StrEnum):
    WORKING = "working"
    OUT = "out"
    UNKNOWN = "unknown"


class StreetClass(StrEnum):
    """Street classes, as used for lighting targets (IES RP-8 road classes)."""

    ARTERIAL = "arterial"
    COLLECTOR = "collector"
    LOCAL = "local"
    ALLEY = "alley"
    PATH = "path"


class OneWay(StrEnum):
    """A street's one-way code, against the direction its line is drawn (digitised) in."""

    NO = "no"            # both ways
    YES = "yes"          # only from the line's first point to its last
    REVERSE = "reverse"  # only from the line's last point to its first


class ParcelStatus(StrEnum):
    """What stands on a parcel, as far as the city's file says."""

    VACANT_LOT = "vacant_lot"
    VACANT_BUILDING = "vacant_building"
    OCCUPIED = "occupied"
    UNKNOWN = "unknown"


class OwnerType(StrEnum):
    """Who owns a parcel, by kind (never an owner's name)."""

    PUBLIC = "public"
    LAND_BANK = "land_bank"
    PRIVATE = "private"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class FieldSpec:
    """One attribute of a layer.

    ``aliases`` are other names the importer accepts for this field, compared
    after folding case and turning spaces and hyphens into underscores.
    """

    name: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""
    #: When set, an empty value is filled from this template (``{id}`` is the row's id).
    fill: str | None = None


@dataclass(frozen=True)
class LayerSchema:
    layer: Layer
    id_field: str
    geometry_types: tuple[str, ...]
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)
    title: str = ""

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def spec(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def is_point(self) -> bool:
        return self.geometry_types == ("Point",)


def _choices(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(e.value for e in enum)


_ID_ALIASES = ("id", "fid", "objectid", "object_id", "uid", "uuid")

SCHEMAS: dict[Layer, LayerSchema] = {
    Layer.NEIGHBORHOODS: LayerSchema(
        Layer.NEIGHBORHOODS,
        id_field="id",
        geometry_types=("Polygon", "MultiPolygon"),
        title="Neighborhoods",
        fields=(
            FieldSpec("id", FieldType.TEXT, required=True,
                      aliases=("neighborhood_id", "nbhid", "nbh_id", "nhood_id", *_ID_ALIASES)),
            FieldSpec("name", FieldType.TEXT, required=True, fill="Unnamed area {id}",
                      aliases=("nbhname", "nbh_name", "neighborhood", "neighborhood_name",
                               "nhood", "label")),
            FieldSpec("population", FieldType.INTEGER, minimum=0,
                      aliases=("pop", "residents", "pop_total", "total_pop")),
        ),
    ),
    Layer.CONCERNS: LayerSchema(
        Layer.CONCERNS,
        id_field="service_request_id",
        geometry_types=("Point",),
        title="Concerns",
        fields=(
            FieldSpec("service_request_id", FieldType.TEXT, required=True,
                      aliases=("request_id", "case_id", "case_number", *_ID_ALIASES)),
            FieldSpec("service_code", FieldType.TEXT, required=True,
                      aliases=("category", "category_code", "type_code")),
            FieldSpec("service_name", FieldType.TEXT, aliases=("category_name", "type")),
            FieldSpec("description", FieldType.TEXT, aliases=("details", "comment", "notes")),
            FieldSpec("address", FieldType.TEXT, aliases=("street_address", "location")),
            FieldSpec("requested_datetime", FieldType.DATETIME, required=True,
                      aliases=("requested", "created", "created_at", "creation_date",
                               "date_reported", "reported_at", "opened")),
            FieldSpec("updated_datetime", FieldType.DATETIME,
                      aliases=("updated", "updated_at", "last_updated")),
            FieldSpec("status", FieldType.TEXT, required=True, choices=_choices(ConcernStatus)),
            FieldSpec("detailed_status", FieldType.TEXT, choices=_choices(DetailedStatus)),
            FieldSpec("time_of_day", FieldType.TEXT, choices=_choices(TimeOfDay)),
            FieldSpec("source", FieldType.TEXT, aliases=("channel", "origin")),
            FieldSpec("attributes", FieldType.TEXT,
                      description="JSON object of answers to the service's questions"),
        ),
    ),
    Layer.STREETLIGHTS: LayerSchema(
        Layer.STREETLIGHTS,
        id_field="id",
        geometry_types=("Point",),
        title="Streetlights",
        fields=(
            FieldSpec("id", FieldType.TEXT, required=True,
                      aliases=("poleid", "pole_id", "light_id", *_ID_ALIASES)),
            FieldSpec("lumens", FieldType.REAL, minimum=0, aliases=("lm", "lumen")),
            FieldSpec("watts", FieldType.REAL, minimum=0, aliases=("wattage", "watt", "w")),
            FieldSpec("mounting_height_m", FieldType.REAL, minimum=0, maximum=60,
                      aliases=("height_m", "mount_height_m", "height")),
            FieldSpec("status", FieldType.TEXT, choices=_choices(LightStatus),
                      aliases=("state", "condition")),
            FieldSpec("fixture_type", FieldType.TEXT,
                      aliases=("fixture", "lamp_type", "luminaire")),
        ),
    ),
    Layer.STREETS: LayerSchema(
        Layer.STREETS,
        id_field="id",
        geometry_types=("LineString", "MultiLineString"),
        title="Streets",
        fields=(
            FieldSpec("id", FieldType.TEXT, required=True,
                      aliases=("street_id", "segment_id", "osmid", *_ID_ALIASES)),
            FieldSpec("name", FieldType.TEXT, aliases=("street_name", "fullname", "full_name")),
            FieldSpec("class", FieldType.TEXT, choices=_choices(StreetClass),
                      aliases=("street_class", "road_class", "functional_class", "fclass")),
            # schema v9: for street networks built from centrelines (cpted.network)
            FieldSpec("level", FieldType.INTEGER, minimum=-10, maximum=10,
                      aliases=("z_level", "zlevel", "zlev"),
                      description="0 (or empty) at grade; above 0 on a bridge, below 0 in "
                                  "an underpass or tunnel. Lines on different levels join "
                                  "only where they share an end."),
            FieldSpec("oneway", FieldType.TEXT, choices=_choices(OneWay),
                      aliases=("one_way",),
                      description="no (or empty): both ways; yes: only in the direction the "
                                  "line is drawn; reverse: only against it."),
        ),
    ),
    Layer.BUILDINGS: LayerSchema(
        Layer.BUILDINGS,
        id_field="id",
        geometry_types=("Polygon", "MultiPolygon"),
        title="Buildings",
        fields=(
            FieldSpec("id", FieldType.TEXT, required=True,
                      aliases=("building_id", "bldg_id", *_ID_ALIASES)),
            FieldSpec("height_m", FieldType.REAL, minimum=0, maximum=1000,
                      aliases=("height", "bldg_height_m")),
        ),
    ),
    Layer.INCIDENTS: LayerSchema(
        Layer.INCIDENTS,
        id_field="id",
        geometry_types=("Point",),
        title="Incidents",
        fields=(
            FieldSpec("id", FieldType.TEXT, required=True,
                      aliases=("incident_id", "report_no", "case_id", *_ID_ALIASES)),
            FieldSpec("category", FieldType.TEXT, required=True,
                      aliases=("crime", "offense", "offence", "type", "description")),
            FieldSpec("occurred_datetime", FieldType.DATETIME, required=True,
                      aliases=("occurred", "occurred_at", "datetime", "date_time", "date")),
            FieldSpec("source", FieldType.TEXT),
        ),
    ),
    # schema v9: a city's parcel or vacant-property file, as polygons or as points
    Layer.PARCELS: LayerSchema(
        Layer.PARCELS,
        id_field="id",
        geometry_types=("Polygon", "MultiPolygon", "Point"),
        title="Parcels",
        fields=(
            FieldSpec("id", FieldType.TEXT, required=True,
                      aliases=("parcel_id", "parcelid", "parcel_number", "pin", "apn",
                               *_ID_ALIASES)),
            FieldSpec("status", FieldType.TEXT, choices=_choices(ParcelStatus),
                      aliases=("vacancy", "vacancy_status", "vacant_status"),
                      description="vacant_lot, vacant_building, occupied or unknown"),
            FieldSpec("owner_type", FieldType.TEXT, choices=_choices(OwnerType),
                      aliases=("ownership", "owner_class", "ownership_type"),
                      description="public, land_bank, private or unknown: a kind of owner, "
                                  "never a name"),
            FieldSpec("source", FieldType.TEXT, aliases=("data_source",)),
        ),
    ),
}


#: Each field in plain words, for people choosing a file's columns: ``(layer, field)`` ->
#: words. A field without an entry is shown by its name with underscores as spaces.
FIELD_WORDS: dict[tuple[Layer, str], str] = {
    (Layer.NEIGHBORHOODS, "id"): "Neighborhood id",
    (Layer.NEIGHBORHOODS, "name"): "Neighborhood name",
    (Layer.NEIGHBORHOODS, "population"): "Population",
    (Layer.CONCERNS, "service_request_id"): "Report number",
    (Layer.CONCERNS, "service_code"): "Category code",
    (Layer.CONCERNS, "service_name"): "Category name",
    (Layer.CONCERNS, "description"): "Description",
    (Layer.CONCERNS, "address"): "Address",
    (Layer.CONCERNS, "requested_datetime"): "Reported on",
    (Layer.CONCERNS, "updated_datetime"): "Last updated",
    (Layer.CONCERNS, "status"): "Open or closed",
    (Layer.CONCERNS, "detailed_status"): "Detailed status",
    (Layer.CONCERNS, "time_of_day"): "Day or night",
    (Layer.CONCERNS, "source"): "Where it came from",
    (Layer.CONCERNS, "attributes"): "Answers to the category's questions",
    (Layer.STREETLIGHTS, "id"): "Pole number",
    (Layer.STREETLIGHTS, "lumens"): "Light output (lumens)",
    (Layer.STREETLIGHTS, "watts"): "Power (watts)",
    (Layer.STREETLIGHTS, "mounting_height_m"): "Mounting height (m)",
    (Layer.STREETLIGHTS, "status"): "Working or out",
    (Layer.STREETLIGHTS, "fixture_type"): "Fixture type",
    (Layer.STREETS, "id"): "Street segment id",
    (Layer.STREETS, "name"): "Street name",
    (Layer.STREETS, "class"): "Street class",
    (Layer.STREETS, "level"): "Level (bridge or underpass)",
    (Layer.STREETS, "oneway"): "One way",
    (Layer.BUILDINGS, "id"): "Building id",
    (Layer.BUILDINGS, "height_m"): "Height (m)",
    (Layer.INCIDENTS, "id"): "Incident number",
    (Layer.INCIDENTS, "category"): "Offense or call type",
    (Layer.INCIDENTS, "occurred_datetime"): "Happened on",
    (Layer.INCIDENTS, "source"): "Where it came from",
    (Layer.PARCELS, "id"): "Parcel number",
    (Layer.PARCELS, "status"): "Vacant or occupied",
    (Layer.PARCELS, "owner_type"): "Kind of owner",
    (Layer.PARCELS, "source"): "Where it came from",
}


def field_words(layer: Layer, name: str) -> str:
    """A field in plain words: ``(CONCERNS, "requested_datetime")`` -> ``"Reported on"``."""
    return FIELD_WORDS.get((layer, name)) or name.replace("_", " ").capitalize()


E = TypeVar("E", bound=StrEnum)


def parse_choice(enum: type[E], name: str, what: str) -> E:
    """The member of ``enum`` called ``name`` (case-insensitive); a wrong name lists the
    allowed ones, e.g. "unknown layer 'x'; expected one of: ..."."""
    try:
        return enum(name.strip().lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise UnusableInputError(f"unknown {what} {name!r}; expected one of: {allowed}") from None


def parse_layer(name: str) -> Layer:
    return parse_choice(Layer, name, "layer")
