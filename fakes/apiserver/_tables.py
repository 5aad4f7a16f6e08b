"""Server-side `Table` answers, as kubectl asks for them (`as=Table`): columns from a CRD's
additionalPrinterColumns (or Name and Age), cells from their JSONPaths, ages worded as kubectl words them."""

from __future__ import annotations

import re
from typing import Any

from notifier import KubeObject, parse_time

_NAME = {"name": "Name", "type": "string", "format": "name", "priority": 0,
         "description": "Name must be unique within a namespace."}


def columns(printed: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The column definitions, with their JSONPaths: a CRD's printer columns, or Name and Age."""
    if printed is None:
        return [_NAME, {"name": "Age", "type": "date", "format": "", "priority": 0, "description": "",
                        "jsonPath": ".metadata.creationTimestamp"}]
    return [_NAME, *({"name": c["name"], "type": c["type"], "format": c.get("format", ""),
                      "priority": c.get("priority", 0), "description": c.get("description", ""),
                      "jsonPath": c["jsonPath"]} for c in printed)]


def table(printed: list[dict[str, Any]] | None, now: float, items: list[KubeObject], version: str, *,
          headers: bool = True) -> dict[str, Any]:
    """A `meta.k8s.io/v1` Table: one row per object, cells from the columns' JSONPaths, ages at `now`."""
    defined = columns(printed)
    rows = [{"cells": [_cell(column, item, now) for column in defined],
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": item["metadata"]}} for item in items]
    definitions = [{k: v for k, v in c.items() if k != "jsonPath"} for c in defined] if headers else []
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": version},
            "columnDefinitions": definitions, "rows": rows}


def _cell(column: dict[str, Any], obj: KubeObject, now: float) -> Any:
    if column["format"] == "name":
        return obj["metadata"]["name"]
    value = jsonpath(obj, column["jsonPath"])
    if value is None:
        return None
    if column["type"] == "date" and isinstance(value, str):
        try:
            return human_duration(now - parse_time(value))
        except ValueError:
            return "<invalid>"
    return value


_STEP = re.compile(r"""\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*["']([^"']*)["']\)\]""")


def jsonpath(obj: Any, path: str) -> Any:
    """The value at a CRD printer column's JSONPath: fields, indexes and `[?(@.f=="v")]` filters."""
    values = [obj]
    pos = 0
    path = path.strip().removeprefix("{").removesuffix("}").removeprefix("$")
    while pos < len(path):
        match = _STEP.match(path, pos)
        if match is None:
            raise ValueError(f"unsupported JSONPath {path!r} at {pos}")
        pos = match.end()
        field_name, index, filter_field, filter_value = match.groups()
        out: list[Any] = []
        for value in values:
            if field_name is not None and isinstance(value, dict) and field_name in value:
                out.append(value[field_name])
            elif index is not None and isinstance(value, list) and int(index) < len(value):
                out.append(value[int(index)])
            elif filter_field is not None and isinstance(value, list):
                out += [item for item in value if isinstance(item, dict)
                        and str(jsonpath(item, "." + filter_field)) == filter_value]
        values = out
    return values[0] if values else None


def human_duration(seconds: float) -> str:
    """An age as kubectl prints it (apimachinery's `duration.HumanDuration`)."""
    if seconds < -1:
        return "<invalid>"
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years = hours // (24 * 365)
    if years < 8:
        days = (hours // 24) % 365
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{years}y"
