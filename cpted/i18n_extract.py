"""Babel extractors for the texts people read that live in our data files, so that
``pybabel extract -F babel.cfg`` puts them in the catalogue template with the code's.

- :func:`extract_services`: the shipped categories (``layers/data/services.toml``):
  each name, description, group, question and answer offered.
- :func:`extract_instrument`: the shipped CPTED audit (``cpted/data/instrument.toml``):
  its title, description and note on weights, each principle's name and description,
  and each item's question, help, answer labels and recommendation. The sources are
  citations and stay as published.

A category or an instrument a deployment writes itself is its own text and is shown as
written.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

#: What Babel expects of an extractor: (line, function name, message, comments).
Found = tuple[int, str | None, str, list[str]]


def _line_of(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 0


def extract_services(fileobj: IO[bytes], keywords: Collection[str],
                     comment_tags: Collection[str], options: Mapping[str, Any]
                     ) -> Iterator[Found]:
    text = fileobj.read().decode("utf-8")
    data = tomllib.loads(text)
    for service in data.get("service", []):
        code = service.get("service_code", "")
        for key in ("service_name", "description", "group"):
            if value := service.get(key):
                yield _line_of(text, value), None, value, [f"category {code}: {key}"]
        for a in service.get("attributes", []):
            if value := a.get("description"):
                yield _line_of(text, value), None, value, [f"category {code}: a question"]
            for v in a.get("values", []):
                yield _line_of(text, v), None, v, [f"category {code}: an answer offered"]


#: An item's texts for people, in the order a translator meets them on the form.
_ITEM_TEXTS = ("question", "help", "recommendation")


def extract_instrument(fileobj: IO[bytes], keywords: Collection[str],
                       comment_tags: Collection[str], options: Mapping[str, Any]
                       ) -> Iterator[Found]:
    text = fileobj.read().decode("utf-8")
    data = tomllib.loads(text)
    head = data.get("instrument", {})
    for key in ("title", "description", "weights_note"):
        if value := head.get(key):
            yield _line_of(text, value[:30]), None, value.strip(), [
                f"CPTED instrument: its {key}"]
    for p in data.get("principles", []):
        for key in ("name", "description"):
            if value := p.get(key):
                yield _line_of(text, value), None, value.strip(), [
                    f"CPTED principle {p.get('id', '')}: its {key}"]
    for item in data.get("items", []):
        iid = item.get("id", "")
        for key in _ITEM_TEXTS:
            if value := item.get(key):
                yield _line_of(text, value), None, value.strip(), [
                    f"CPTED item {iid}: its {key}"]
        for label in item.get("labels", []):
            yield _line_of(text, str(label)), None, str(label), [
                f"CPTED item {iid}: an answer"]
