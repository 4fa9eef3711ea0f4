"""Turning the share and edit forms into the item shape the core validates, and back.

The forms send flat fields; the core's validator stays the one judge of what is valid, so every error it
reports names a field of the item (``content.title``), which the templates show next to the matching input.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import FormData

from accord import clock
from accord.errors import FieldError
from accord.http.web.coords import CoordinateError, parse_position
from accord.http.web.store import Defaults

__all__ = ["defaults_from_item", "item_from_form", "local_ts", "split_list"]


def split_list(value: str, seps: str = "\n;,") -> list[str]:
    out = [value]
    for sep in seps:
        out = [part for chunk in out for part in chunk.split(sep)]
    return [p.strip() for p in out if p.strip()]


def local_ts(value: str, field: str, errors: list[FieldError]) -> str | None:
    """``datetime-local`` inputs carry no zone; the forms say the times are UTC."""
    value = value.strip()
    if not value:
        return None
    try:
        if "T" in value and len(value) <= 19:
            return clock.format_ts(datetime.fromisoformat(value).replace(tzinfo=UTC))
        return clock.format_ts(clock.parse_ts(value))
    except (ValueError, TypeError):
        errors.append(FieldError(field, "must be a date and time such as 2026-01-31T12:00"))
        return None


def _handling(data: FormData) -> dict[str, Any]:
    scope = str(data.get("release_scope", "members"))
    members = [str(m) for m in data.getlist("release_members")] if scope == "members" else []
    try:
        classification: Any = int(str(data.get("classification", "0")))
    except ValueError:
        classification = str(data.get("classification"))
    return {"tlp": str(data.get("tlp", "amber")), "classification": classification,
            "release": {"scope": scope, "members": members, "consumers": data.get("release_consumers") == "1"}}


def _grading(data: FormData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.get("reliability"):
        out["reliability"] = str(data.get("reliability"))
    if data.get("credibility"):
        try:
            out["credibility"] = int(str(data.get("credibility")))
        except ValueError:
            out["credibility"] = str(data.get("credibility"))
    return out


def item_from_form(kind: str, data: FormData) -> tuple[dict[str, Any], list[FieldError]]:
    """(raw item, errors found before the core validator sees it, e.g. an unreadable position)."""
    errors: list[FieldError] = []
    text = {k: str(v) for k, v in data.items() if isinstance(v, str)}
    content: dict[str, Any] = {}
    if kind == "report":
        content = {"title": text.get("title", ""), "body": text.get("body", "")}
    elif kind == "observation":
        try:
            lat, lon, how = parse_position(text.get("position", ""))
            content = {"lat": lat, "lon": lon}
            if how not in ("decimal", "dms", "mgrs") and not text.get("place_name"):
                content["place_name"] = how
        except CoordinateError as exc:
            errors.append(FieldError("position", str(exc)))
            content = {"lat": 0.0, "lon": 0.0}
        content["observed_from"] = local_ts(text.get("observed_from", ""), "content.observed_from", errors)
        if content["observed_from"] is None:
            del content["observed_from"]
        end = local_ts(text.get("observed_to", ""), "content.observed_to", errors)
        if end:
            content["observed_to"] = end
        for key in ("place_name", "description"):
            if text.get(key, "").strip():
                content[key] = text[key].strip()
        if text.get("precision_m", "").strip():
            try:
                content["precision_m"] = float(text["precision_m"])
            except ValueError:
                errors.append(FieldError("content.precision_m", "must be a number of metres"))
    elif kind == "entity":
        content = {"entity_type": text.get("entity_type", ""), "name": text.get("name", ""),
                   "aliases": split_list(text.get("aliases", ""), "\n;"),
                   "formerly_known_as": split_list(text.get("formerly_known_as", ""))}
        if text.get("description", "").strip():
            content["description"] = text["description"]
    elif kind == "relationship":
        content = {"relationship_type": text.get("relationship_type", "").strip(),
                   "source_ref": text.get("source_ref", "").strip(), "target_ref": text.get("target_ref", "").strip()}
        if text.get("description", "").strip():
            content["description"] = text["description"]
    elif kind == "note":
        content = {"object_refs": split_list(text.get("object_refs", "")), "content": text.get("content", "")}
    raw: dict[str, Any] = {"kind": kind, "content": content, "handling": _handling(data), "grading": _grading(data),
                           "tags": split_list(text.get("tags", ""), ",;\n")}
    if text.get("language"):
        raw["language"] = text["language"]
    return raw, errors


def defaults_from_item(item: dict[str, Any]) -> Defaults:
    h = item["handling"]
    return Defaults(h["tlp"], h["classification"], h["release"]["scope"], list(h["release"]["members"]),
                    h["release"]["consumers"], item["grading"].get("reliability"), item["grading"].get("credibility"))


def form_values(item: dict[str, Any]) -> dict[str, str]:
    """The flat form fields for an existing item (the edit form)."""
    c = item["content"]
    v: dict[str, str] = {"tags": ", ".join(item["tags"]), "language": item.get("language") or ""}
    if item["kind"] == "report":
        v.update(title=c["title"], body=c.get("body", ""))
    elif item["kind"] == "observation":
        v.update(position=f"{c['lat']}, {c['lon']}", observed_from=c["observed_from"][:16],
                 observed_to=(c.get("observed_to") or "")[:16], place_name=c.get("place_name", ""),
                 description=c.get("description", ""), precision_m=str(c.get("precision_m", "")))
    elif item["kind"] == "entity":
        v.update(entity_type=c["entity_type"], name=c["name"], aliases="\n".join(c.get("aliases", [])),
                 formerly_known_as="\n".join(c.get("formerly_known_as", [])), description=c.get("description", ""))
    elif item["kind"] == "relationship":
        v.update(relationship_type=c["relationship_type"], source_ref=c["source_ref"], target_ref=c["target_ref"],
                 description=c.get("description", ""))
    return v
