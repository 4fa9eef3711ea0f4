"""Bulk upload: CSV, GeoJSON and Accord JSON files turned into item objects, row by row.

Each row becomes either an item object (validated later by the core, exactly as the API would) or its own
errors; one bad row never blocks the others. Other formats plug in with ``register_format`` — the STIX 2.1
bundle reader lives in ``accord.stix`` and registers itself there (``register_format("stix", "STIX 2.1 bundle",
parse)``, with ``parse(bytes) -> list[Row]``); until it does, a bundle is refused with a message saying so.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from accord.errors import FieldError, ValidationFailed
from accord.http.web.coords import CoordinateError, parse_position
from accord.http.web.forms import split_list

__all__ = ["Row", "formats", "parse", "register_format"]

MAX_ROWS = 10_000


@dataclass
class Row:
    number: int  # 1-based line (CSV: the header is line 1) or feature/object index
    raw: dict[str, Any] | None
    errors: list[FieldError] = field(default_factory=list)
    summary: str = ""


_FORMATS: dict[str, tuple[str, Callable[[bytes], list[Row]]]] = {}


def register_format(name: str, label: str, parser: Callable[[bytes], list[Row]]) -> None:
    _FORMATS[name] = (label, parser)


def formats() -> list[tuple[str, str]]:
    _load_plugins()
    return [("auto", "auto"), *((k, v[0]) for k, v in _FORMATS.items())]


def _load_plugins() -> None:
    if "stix" in _FORMATS:
        return
    with contextlib.suppress(ImportError):
        import accord.stix  # noqa: F401 - registers its reader on import when it exists


# ----- CSV ---------------------------------------------------------------------------------------------------
_HANDLING_COLS = {"tlp", "classification", "release_scope", "release_members", "consumers", "reliability",
                  "credibility", "tags", "language", "kind", "id"}


def _whole(value: str) -> int | str:
    """A cell's whole number; any other text as it is, for validation to name. Not ``isdigit``: it admits
    superscripts ('²'), which ``int`` refuses."""
    return int(value) if value.isdecimal() and len(value) <= 9 else value


def _csv_row(rec: dict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    errors: list[FieldError] = []
    r = {k.strip().lower(): (v or "").strip() for k, v in rec.items() if k}
    kind = r.get("kind") or ("observation" if r.get("lat") or r.get("position") else "report")
    content: dict[str, Any] = {}
    if kind == "observation":
        if r.get("position"):
            try:
                lat, lon, how = parse_position(r["position"])
                content.update(lat=lat, lon=lon)
                if how not in ("decimal", "dms", "mgrs"):
                    content.setdefault("place_name", how)
            except CoordinateError as exc:
                errors.append(FieldError("position", str(exc)))
        else:
            for key in ("lat", "lon"):
                try:
                    content[key] = float(r.get(key, ""))
                except ValueError:
                    errors.append(FieldError(f"content.{key}", "must be a number in decimal degrees"))
        for key in ("observed_from", "observed_to", "place_name", "description"):
            if r.get(key):
                content[key] = r[key]
        if r.get("precision_m"):
            try:
                content["precision_m"] = float(r["precision_m"])
            except ValueError:
                errors.append(FieldError("content.precision_m", "must be a number of metres"))
    elif kind == "entity":
        content = {"entity_type": r.get("entity_type", ""), "name": r.get("name", ""),
                   "aliases": split_list(r.get("aliases", ""), ";|")}
        if r.get("formerly_known_as"):
            content["formerly_known_as"] = split_list(r["formerly_known_as"], ";| ")
        if r.get("description"):
            content["description"] = r["description"]
    elif kind == "relationship":
        content = {k: r.get(k, "") for k in ("relationship_type", "source_ref", "target_ref")}
        if r.get("description"):
            content["description"] = r["description"]
    elif kind == "note":
        content = {"object_refs": split_list(r.get("object_refs", ""), ";| "), "content": r.get("content", "")}
    else:
        content = {"title": r.get("title", ""), "body": r.get("body", "")}
    raw: dict[str, Any] = {"kind": kind, "content": content}
    if r.get("id"):
        raw["id"] = r["id"]
    scope = r.get("release_scope") or ("members" if r.get("release_members") else "")
    handling: dict[str, Any] = {}
    if r.get("tlp"):
        handling["tlp"] = r["tlp"]
    if r.get("classification"):
        handling["classification"] = _whole(r["classification"])
    if scope:
        handling["release"] = {"scope": scope, "members": split_list(r.get("release_members", ""), ";| "),
                               "consumers": r.get("consumers", "").lower() in ("1", "true", "yes")}
    if handling:
        raw["handling"] = handling
    grading: dict[str, Any] = {}
    if r.get("reliability"):
        grading["reliability"] = r["reliability"].upper()
    if r.get("credibility"):
        grading["credibility"] = _whole(r["credibility"])
    if grading:
        raw["grading"] = grading
    if r.get("tags"):
        raw["tags"] = split_list(r["tags"], ";|")
    if r.get("language"):
        raw["language"] = r["language"]
    return raw, errors


def parse_csv(content: bytes) -> list[Row]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.one("file", "a CSV file must be UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ValidationFailed.one("file", "the CSV file has no header row")
    rows: list[Row] = []
    for n, rec in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise ValidationFailed.one("file", f"at most {MAX_ROWS} rows per upload")
        if not any((v or "").strip() for v in rec.values() if isinstance(v, str)):
            continue
        raw, errors = _csv_row(rec)
        rows.append(Row(n, raw, errors))
    return rows


# ----- GeoJSON -----------------------------------------------------------------------------------------------
def parse_geojson(doc: dict[str, Any]) -> list[Row]:
    feats = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    if not isinstance(feats, list):
        raise ValidationFailed.one("file", "a GeoJSON FeatureCollection needs a features list")
    rows: list[Row] = []
    for n, feat in enumerate(feats, start=1):
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        props = dict(feat.get("properties") or {}) if isinstance(feat, dict) else {}
        if not isinstance(geom, dict) or geom.get("type") != "Point" or not isinstance(geom.get("coordinates"), list) \
                or len(geom["coordinates"]) < 2:
            rows.append(Row(n, None, [FieldError("geometry", "each feature must be a Point [lon, lat]")]))
            continue
        lon, lat = geom["coordinates"][:2]
        rec = {k: ("; ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in props.items()
               if v is not None}
        rec.update(kind="observation", lat=str(lat), lon=str(lon))
        rec.pop("position", None)
        raw, errors = _csv_row(rec)
        rows.append(Row(n, raw, errors))
    return rows


def parse_json(content: bytes) -> list[Row]:
    try:
        doc = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed.one("file", f"not valid JSON ({exc.msg})") from None
    if isinstance(doc, dict) and doc.get("type") in ("FeatureCollection", "Feature"):
        return parse_geojson(doc)
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        _load_plugins()
        if "stix" in _FORMATS:
            return _FORMATS["stix"][1](content)
        raise ValidationFailed.one("file", "STIX bundles are read by the STIX module, which is not installed here")
    objs = doc.get("items") if isinstance(doc, dict) else doc
    if not isinstance(objs, list):
        raise ValidationFailed.one("file", "Accord JSON is a list of items or {\"items\": [...]}")
    if len(objs) > MAX_ROWS:
        raise ValidationFailed.one("file", f"at most {MAX_ROWS} rows per upload")
    return [Row(n, o if isinstance(o, dict) else None,
                [] if isinstance(o, dict) else [FieldError("", "an item must be a JSON object")])
            for n, o in enumerate(objs, start=1)]


register_format("csv", "CSV", parse_csv)
register_format("geojson", "GeoJSON", lambda b: parse_json(b))
register_format("json", "Accord JSON", parse_json)


def parse(filename: str, content: bytes, fmt: str = "auto") -> list[Row]:
    _load_plugins()
    if fmt == "auto":
        name = filename.lower()
        fmt = "csv" if name.endswith((".csv", ".txt")) else "json"
    if fmt not in _FORMATS:
        raise ValidationFailed.one("format", "is not a format this page reads")
    rows = _FORMATS[fmt][1](content)
    if not rows:
        raise ValidationFailed.one("file", "the file holds no rows")
    return rows
