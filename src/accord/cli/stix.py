"""STIX 2.1 bundles in and out of the CLI: ``accord import bundle.json`` (detected) and ``accord export --format
stix``. Import streams the bundle's ``objects`` array with ijson, so memory stays bounded by one batch whatever the
file's size; export streams too, one page of the store at a time."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import ijson
import orjson

from accord.errors import ValidationFailed
from accord.services import Services
from accord.sharing.handling import Principal
from accord.stix import mapping

__all__ = ["DEFAULT_HANDLING", "export_bundle", "import_bundle", "is_stix_bundle"]

# Imported objects that carry no Accord extension and no TLP marking stay within the importing member.
DEFAULT_HANDLING: dict[str, Any] = {"tlp": "amber+strict", "classification": 0, "release": {"scope": "originator"}}


def is_stix_bundle(path: Path) -> bool:
    """True when the file is a JSON object with ``"type": "bundle"`` or an ``objects`` array at the top level.
    Reads only as far as it needs to."""
    with path.open("rb") as f:
        head = f.read(1024).lstrip()
        if not head.startswith(b"{"):
            return False
        f.seek(0)
        try:
            for n, (prefix, event, value) in enumerate(ijson.parse(f)):
                if prefix == "type" and event == "string":
                    return bool(value == "bundle")
                if prefix == "" and event == "map_key" and value == "objects":
                    return True
                if n > 10_000:
                    return False
        except ijson.JSONError:
            return False
    return False


def import_bundle(svc: Services, principal: Principal, path: Path, batch: int,
                  report: Callable[[str], None], progress: Callable[[int], None] | None = None,
                  default_handling: dict[str, Any] | None = None) -> tuple[int, int]:
    """Import a bundle in batches of ``batch`` objects; returns (accepted, rejected)."""
    accepted = rejected = 0
    handling = default_handling or DEFAULT_HANDLING
    chunk: list[Any] = []

    def flush() -> None:
        nonlocal accepted, rejected
        for o in svc.stix.ingest(principal, chunk, handling):
            if o.ok:
                accepted += 1
            else:
                rejected += 1
                report(f"{o.id or '(no id)'} {o.version}: {o.message}")
        if progress:
            progress(len(chunk))
        chunk.clear()

    def events(f: IO[bytes]) -> Iterator[tuple[str, str, Any]]:
        for prefix, event, value in ijson.parse(f, use_float=True):
            if prefix == "objects" and event not in ("start_array", "end_array"):
                raise ValidationFailed.one(f"{path.name}: objects", "must be a list of STIX objects")
            yield prefix, event, value

    seen = 0
    with path.open("rb") as f:
        try:
            for obj in ijson.items(events(f), "objects.item"):
                chunk.append(obj)
                seen += 1
                if len(chunk) >= batch:
                    flush()
        except ijson.JSONError as exc:  # the objects read so far in this chunk are dropped with it, not stored
            text = exc.args[0] if exc.args else ""
            text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
            first = (text.strip().splitlines() or ["parse error"])[0]
            raise ValidationFailed.one(path.name, f"not valid JSON after object {seen} ({first}); the "
                                                  f"{accepted + rejected} objects before this chunk were "
                                                  "imported") from None
    if chunk:
        flush()
    return accepted, rejected


def export_bundle(svc: Services, principal: Principal, out: IO[bytes]) -> int:
    """Write every version of every object ``principal`` may see as one STIX 2.1 bundle; returns the count."""
    out.write(b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'","objects":[')
    n = 0
    for obj in [*mapping.TLP_MARKINGS, mapping.accord_identity(), mapping.extension_definition()]:
        out.write((b"," if n else b"") + orjson.dumps(obj))
        n += 1
    for body in svc.taxii.export(principal):
        out.write(b"," + body.encode())
        n += 1
    out.write(b"]}\n")
    return n
