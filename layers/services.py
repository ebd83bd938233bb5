"""The service list: categories a concern can be filed under, kept as data.

The default list is ``layers/data/services.toml``; a store keeps its own copy
(table ``services``), seeded from the default and extendable by importing an
Open311 ``services.json``. Loading validates the whole list and reports every
problem at once.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from layers.errors import LayerSchemaError

DEFAULT_SERVICES = Path(__file__).with_name("data") / "services.toml"


class Datatype(StrEnum):
    """Open311 attribute datatypes (plus boolean)."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLE = "singlevaluelist"
    MULTI = "multivaluelist"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: Datatype
    description: str
    required: bool = False
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Service:
    service_code: str
    service_name: str
    description: str = ""
    group: str = ""
    keywords: tuple[str, ...] = ()
    sensitive: bool = False
    duplicate_radius_m: float = 50.0
    duplicate_window_days: float = 30.0
    target_days: float = 30.0
    attributes: tuple[Attribute, ...] = field(default_factory=tuple)

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["keywords"] = ",".join(self.keywords)
        row["attributes"] = json.dumps([asdict(a) for a in self.attributes])
        row["sensitive"] = int(self.sensitive)
        row["group_name"] = row.pop("group")
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Service:
        attrs = tuple(Attribute(a["code"], Datatype(a["datatype"]), a.get("description", ""),
                                bool(a.get("required", False)), tuple(a.get("values", ())))
                      for a in json.loads(row.get("attributes") or "[]"))
        return cls(row["service_code"], row["service_name"], row.get("description") or "",
                   row.get("group_name") or "",
                   tuple(k for k in (row.get("keywords") or "").split(",") if k),
                   bool(row.get("sensitive")), float(row["duplicate_radius_m"]),
                   float(row["duplicate_window_days"]), float(row["target_days"]), attrs)


def parse_services(items: list[dict[str, Any]], *, source: str) -> list[Service]:
    """Validate a list of service mappings; raise one error naming every problem."""
    problems: list[str] = []
    out: list[Service] = []
    seen: set[str] = set()
    for i, item in enumerate(items, start=1):
        where = f"{source} service {i}"
        code = str(item.get("service_code", "")).strip()
        name = str(item.get("service_name", "")).strip()
        if not code:
            problems.append(f"{where}: service_code is missing")
        elif code in seen:
            problems.append(f"{where}: service_code {code!r} appears twice")
        seen.add(code)
        if not name:
            problems.append(f"{where}: service_name is missing")
        attrs: list[Attribute] = []
        for j, a in enumerate(item.get("attributes", []) or [], start=1):
            try:
                dt = Datatype(str(a.get("datatype", "")))
            except ValueError:
                allowed = ", ".join(d.value for d in Datatype)
                problems.append(f"{where} attribute {j}: datatype {a.get('datatype')!r} is not "
                                f"one of: {allowed}")
                continue
            values = tuple(str(v.get("name", v.get("key")) if isinstance(v, dict) else v)
                           for v in a.get("values", []) or [])
            if dt in (Datatype.SINGLE, Datatype.MULTI) and not values:
                problems.append(f"{where} attribute {j}: a {dt.value} needs values")
            if not a.get("code"):
                problems.append(f"{where} attribute {j}: code is missing")
            attrs.append(Attribute(str(a.get("code", "")), dt, str(a.get("description", "")),
                                   bool(a.get("required", False)), values))
        numbers = {}
        for key, default in (("duplicate_radius_m", 50.0), ("duplicate_window_days", 30.0),
                             ("target_days", 30.0)):
            try:
                numbers[key] = float(item.get(key, default))
                if numbers[key] <= 0:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(f"{where}: {key} should be a positive number, "
                                f"got {item.get(key)!r}")
                numbers[key] = default
        keywords = item.get("keywords", ())
        if isinstance(keywords, str):
            keywords = [k.strip() for k in keywords.split(",") if k.strip()]
        out.append(Service(code, name, str(item.get("description") or ""),
                           str(item.get("group") or ""), tuple(keywords),
                           bool(item.get("sensitive", False)), **numbers,
                           attributes=tuple(attrs)))
    if problems:
        raise LayerSchemaError(f"the service list in {source} is not valid", problems)
    return out


def sensitive_codes(services: Iterable[Service]) -> list[str]:
    """Codes of the services shown publicly only at reduced precision."""
    return [s.service_code for s in services if s.sensitive]


def load_default_services(path: Path = DEFAULT_SERVICES) -> list[Service]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return parse_services(data.get("service", []), source=path.name)


def answer_problems(service: Service, answers: dict[str, Any]) -> dict[str, list[str]]:
    """Problems with a report's answers to ``service``'s attributes, by question.

    Parameters
    ----------
    service : Service
        The category answered.
    answers : dict of str to object
        The answers by attribute code.

    Returns
    -------
    dict of str to list of str
        Each attribute code that has a problem, in the service's order, with its
        problems; answers to questions the service does not ask come last under
        ``""``. Empty when every answer is fine.
    """
    out: dict[str, list[str]] = {}
    for a in service.attributes:
        value = answers.get(a.code)
        found = []
        if value in (None, "", []):
            if a.required:
                found.append(f"the question “{a.description or a.code}” needs an "
                             "answer")
        elif a.datatype is Datatype.SINGLE and value not in a.values:
            found.append(f"{a.code}: {value!r} is not one of: {', '.join(a.values)}")
        elif a.datatype is Datatype.MULTI and not set(value) <= set(a.values):
            found.append(f"{a.code}: choose among: {', '.join(a.values)}")
        elif a.datatype is Datatype.NUMBER:
            try:
                float(value)
            except (TypeError, ValueError):
                found.append(f"{a.code}: {value!r} is not a number")
        if found:
            out[a.code] = found
    unknown = set(answers) - {a.code for a in service.attributes}
    if unknown:
        out[""] = [f"answers to unknown questions: {', '.join(sorted(unknown))}"]
    return out


def check_answers(service: Service, answers: dict[str, Any]) -> list[str]:
    """Problems with a report's answers to ``service``'s attributes (empty when fine);
    :func:`answer_problems` gives them by question."""
    return [p for found in answer_problems(service, answers).values() for p in found]
