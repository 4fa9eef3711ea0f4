"""Random worlds for the property-based policy tests, and the independent oracle they are checked against.

A world is drawn as plain data (members, consumers, users, items with their first handling, the handling of each
later edit, revocations), then built through the services in a fresh SQLite file. The oracle below decides
visibility from that plain data alone, written from the rule in the issue, not from ``accord.sharing.policy``: an
item is seen under its current handling, and one of its versions when, besides, that version's own handling admits
the reader (the intersection).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from accord.config import load_settings
from accord.services import Services, build_services
from accord.sharing.handling import ITEM_KINDS, MEMBER_ROLES, RELEASE_SCOPES, TLP, USER_ROLES, Principal

# Words of the full-text vocabulary; tags and fixed words (relationship type "links") never share a token with it.
WORDS = ("kestrel", "heron", "osprey", "plover", "curlew", "avocet")
TAGS = ("tagone", "tagtwo", "tagthree")
OBSERVED = "2026-03-01T10:00:00.000Z"


@dataclass
class HandlingSpec:
    tlp: str
    classification: int
    scope: str
    named: list[int]  # member indexes, for scope "members"
    consumers: bool

    def api(self, codes: list[str]) -> dict[str, Any]:
        members = [codes[j] for j in self.named] if self.scope == "members" else []
        return {"tlp": self.tlp, "classification": self.classification,
                "release": {"scope": self.scope, "members": members, "consumers": self.consumers}}


@dataclass
class UserSpec:
    member: int
    role: str
    clearance: int


@dataclass
class ItemSpec:
    originator: int
    kind: str
    handling: HandlingSpec
    word: str
    tags: list[str]
    lat: float
    lon: float
    edits: list[HandlingSpec]  # each edit after creation replaces the handling (a new version each)
    revoked: bool

    @property
    def final(self) -> HandlingSpec:
        return self.edits[-1] if self.edits else self.handling

    @property
    def version_handling(self) -> list[HandlingSpec]:
        """The handling of versions 1, 2, ...: the first, each edit's, and the revocation's (unchanged)."""
        return [self.handling, *self.edits, *([self.final] if self.revoked else [])]


@dataclass
class WorldSpec:
    member_roles: list[str]
    consumer_counts: list[int]
    users: list[UserSpec]
    items: list[ItemSpec]

    @property
    def codes(self) -> list[str]:
        return [f"M{i}" for i in range(len(self.member_roles))]


def _handling(draw: Any, n_members: int) -> HandlingSpec:
    scope = draw(st.sampled_from(RELEASE_SCOPES))
    named = draw(st.lists(st.integers(0, n_members - 1), min_size=1, max_size=n_members, unique=True)) \
        if scope == "members" else []
    return HandlingSpec(draw(st.sampled_from(TLP)), draw(st.integers(0, 4)), scope, named, draw(st.booleans()))


def _edit(draw: Any, prev: HandlingSpec, n_members: int) -> HandlingSpec:
    """A new handling from the previous one by one kind of change an originator makes: widen or narrow the scope,
    lower (sanitise) or raise the classification, change the named members, flip the consumers flag, or anything."""
    how = draw(st.sampled_from(("widen", "narrow", "lower", "raise", "members", "consumers", "any")))
    h = HandlingSpec(prev.tlp, prev.classification, prev.scope, list(prev.named), prev.consumers)
    if how in ("widen", "narrow"):
        order = list(RELEASE_SCOPES)  # originator < members < all
        i = order.index(h.scope)
        h.scope = order[min(i + 1, 2)] if how == "widen" else order[max(i - 1, 0)]
        if h.scope == "members" and not h.named:
            h.named = [draw(st.integers(0, n_members - 1))]
    elif how == "lower":
        h.classification = draw(st.integers(0, h.classification))
    elif how == "raise":
        h.classification = draw(st.integers(h.classification, 4))
    elif how == "members":
        h.scope = "members"
        h.named = draw(st.lists(st.integers(0, n_members - 1), min_size=1, max_size=n_members, unique=True))
    elif how == "consumers":
        h.consumers = not h.consumers
    else:
        return _handling(draw, n_members)
    if h.scope != "members":
        h.named = []
    return h


@st.composite
def worlds(draw: Any, max_items: int = 24, max_users: int = 6, max_edits: int = 1) -> WorldSpec:
    """``max_edits``: with 1 (the read-path tests), one item in five is edited once, to any handling; above, every
    item gets up to that many edits, each a typical change of the one before (``_edit``)."""
    n = draw(st.integers(2, 4))
    roles = [draw(st.sampled_from(MEMBER_ROLES)) for _ in range(n)]
    consumer_counts = [draw(st.integers(0, 2)) for _ in range(n)]
    users = draw(st.lists(st.builds(UserSpec, st.integers(0, n - 1), st.sampled_from(USER_ROLES),
                                    st.integers(0, 4)), min_size=1, max_size=max_users))
    items = []
    for _ in range(draw(st.integers(1, max_items))):
        h = _handling(draw, n)
        edits: list[HandlingSpec] = []
        if max_edits == 1:
            edits = [_handling(draw, n)] if draw(st.integers(0, 4)) == 0 else []
        else:
            for _ in range(draw(st.integers(0, max_edits))):
                edits.append(_edit(draw, edits[-1] if edits else h, n))
        items.append(ItemSpec(
            originator=draw(st.integers(0, n - 1)), kind=draw(st.sampled_from(ITEM_KINDS)), handling=h,
            word=draw(st.sampled_from(WORDS)), tags=draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True)),
            lat=draw(st.integers(-89_000, 89_000)) / 1000, lon=draw(st.integers(-179_000, 179_000)) / 1000,
            edits=edits,
            revoked=draw(st.integers(0, 5)) == 0,
        ))
    return WorldSpec(roles, consumer_counts, users, items)


@dataclass
class Built:
    """A world stored through the services: who is who, and every item as the originator saw it."""

    spec: WorldSpec
    svc: Services
    tmp: tempfile.TemporaryDirectory[str]
    readers: dict[str, Principal] = field(default_factory=dict)  # username -> principal
    reader_specs: dict[str, tuple[int, str, int, bool]] = field(default_factory=dict)  # member, role, clearance
    tokens: dict[str, str] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)  # in creation (= seq) order
    specs: dict[str, ItemSpec] = field(default_factory=dict)
    modified: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    version_modified: dict[str, list[str]] = field(default_factory=dict)  # each version's ``modified``

    def close(self) -> None:
        self.svc.close()
        self.tmp.cleanup()

    # ----- the oracle ------------------------------------------------------------------------------------
    def admits(self, username: str, item_id: str, h: HandlingSpec) -> bool:
        """Whether handling ``h`` on this item (its originator's) admits the reader."""
        member, role, clearance, is_consumer = self.reader_specs[username]
        if role not in USER_ROLES or clearance < h.classification:
            return False
        originator = self.specs[item_id].originator
        reachable = (originator == member or h.scope == "all" or (h.scope == "members" and member in h.named))
        return reachable and (h.consumers or not is_consumer)

    def may_see(self, username: str, item_id: str) -> bool:
        return self.admits(username, item_id, self.specs[item_id].final)

    def visible_versions(self, username: str, item_id: str) -> list[int]:
        """The version numbers the reader may see: none unless the item now, then each whose own handling too."""
        if not self.may_see(username, item_id):
            return []
        return [n for n, h in enumerate(self.specs[item_id].version_handling, 1) if self.admits(username, item_id, h)]

    def visible_ids(self, username: str, *, revoked: bool = False, **match: Any) -> list[str]:
        """Visible ids in creation order, optionally filtered the way ItemFilter filters."""
        out = []
        for item_id in self.ids:
            s = self.specs[item_id]
            if not self.may_see(username, item_id) or (s.revoked and not revoked):
                continue
            if "kind" in match and s.kind != match["kind"]:
                continue
            if "originator" in match and self.spec.codes[s.originator] != match["originator"]:
                continue
            if "tag" in match and match["tag"] not in s.tags:
                continue
            if "q" in match and s.word != match["q"]:
                continue
            if "since" in match and self.modified[item_id] < match["since"]:
                continue
            if "bbox" in match:
                min_lon, min_lat, max_lon, max_lat = match["bbox"]
                if s.kind != "observation" or not (min_lat <= s.lat <= max_lat and min_lon <= s.lon <= max_lon):
                    continue
            out.append(item_id)
        return out

    def stats(self, username: str) -> Counter[tuple[str, str]]:
        return Counter((self.specs[i].kind, self.spec.codes[self.specs[i].originator])
                       for i in self.visible_ids(username))


def _content(s: ItemSpec, earlier: list[tuple[str, str]]) -> tuple[str, dict[str, Any]]:
    """Kind and content; relationships and notes point at an earlier item of the same originator (which its
    writer, cleared to 4, can see); without one they fall back to a report."""
    kind = s.kind
    entities = [i for i, k in earlier if k == "entity"]
    if kind == "relationship" and entities:
        return kind, {"relationship_type": "links", "source_ref": earlier[-1][0], "target_ref": entities[0],
                      "description": s.word}
    if kind == "note" and earlier:
        return kind, {"object_refs": [earlier[0][0]], "content": s.word}
    if kind in ("relationship", "note"):
        kind = "report"
    if kind == "report":
        return kind, {"title": s.word, "body": s.word}
    if kind == "observation":
        return kind, {"lat": s.lat, "lon": s.lon, "observed_from": OBSERVED, "place_name": s.word}
    return kind, {"entity_type": "group", "name": s.word}


_TEMPLATE: list[Path] = []


def _template() -> Path:
    """An empty, migrated store, made once per process and copied for every example (migrating costs more than
    building a whole world)."""
    if not _TEMPLATE:
        tmp = tempfile.TemporaryDirectory(prefix="accord-prop-template-")
        _KEEP.append(tmp)
        path = Path(tmp.name) / "template.db"
        svc = build_services(load_settings(env={}, data=tmp.name, database_url=f"sqlite:///{path}",
                                           secret_key="p" * 40))
        svc.close()  # the last connection closing checkpoints the WAL into the file
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


_KEEP: list[tempfile.TemporaryDirectory[str]] = []


def build(spec: WorldSpec, *, with_tokens: bool = False) -> Built:
    tmp = tempfile.TemporaryDirectory(prefix="accord-prop-")
    root = Path(tmp.name)
    shutil.copyfile(_template(), root / "a.db")
    # Reads are not audited here: the audit of reads has its own tests, and a write per read would make each
    # example several times slower. Export audits regardless of the setting.
    settings = load_settings(env={}, data=str(root / "data"), database_url=f"sqlite:///{root / 'a.db'}",
                             secret_key="p" * 40, audit_reads=False)
    svc = build_services(settings, migrate=False)
    b = Built(spec, svc, tmp)
    acc = svc.accounts
    codes = spec.codes
    for code, role, n_cons in zip(codes, spec.member_roles, spec.consumer_counts, strict=True):
        acc.add_member(code, f"Member {code}", role)
        for c in range(n_cons):
            acc.add_consumer(code, f"{code}-C{c}", f"unit {c}")
    writers = []
    for i, code in enumerate(codes):
        acc.add_user(f"w{i}", code, "analyst", None, clearance=4)
        writers.append(acc.principal_for(f"w{i}"))
        b.reader_specs[f"w{i}"] = (i, "analyst", 4, False)
    for k, u in enumerate(spec.users):
        name = f"u{k}"
        consumer = None
        if u.role == "consumer":
            consumer = f"{codes[u.member]}-C0"
            if spec.consumer_counts[u.member] == 0:
                acc.add_consumer(codes[u.member], consumer, "unit 0")
                spec.consumer_counts[u.member] = 1
        acc.add_user(name, codes[u.member], u.role, None, clearance=u.clearance, consumer=consumer)
        b.reader_specs[name] = (u.member, u.role, u.clearance, u.role == "consumer")
    for name in b.reader_specs:
        b.readers[name] = acc.principal_for(name)
        if with_tokens:
            b.tokens[name] = acc.create_token(name).secret
    earlier: dict[int, list[tuple[str, str]]] = {i: [] for i in range(len(codes))}
    for s in spec.items:
        kind, content = _content(s, earlier[s.originator])
        s.kind = kind
        made = svc.items.create(writers[s.originator], {"kind": kind, "content": content, "tags": s.tags,
                                                        "handling": s.handling.api(codes)})
        earlier[s.originator].append((made["id"], kind))
        b.ids.append(made["id"])
        b.specs[made["id"]] = s
        b.modified[made["id"]] = made["modified"]
        b.versions[made["id"]] = 1
        b.version_modified[made["id"]] = [made["modified"]]
    for edit in range(max((len(s.edits) for s in spec.items), default=0)):
        for item_id in b.ids:
            s = b.specs[item_id]
            if edit < len(s.edits):
                made = svc.items.update(writers[s.originator], item_id, {"handling": s.edits[edit].api(codes)})
                b.modified[item_id] = made["modified"]
                b.versions[item_id] += 1
                b.version_modified[item_id].append(made["modified"])
    for item_id in b.ids:
        s = b.specs[item_id]
        if s.revoked:
            made = svc.items.revoke(writers[s.originator], item_id)
            b.modified[item_id] = made["modified"]
            b.versions[item_id] += 1
            b.version_modified[item_id].append(made["modified"])
    return b
