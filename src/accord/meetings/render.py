"""HTML and PDF documents: a member's activity report and a meeting's communiqué, in en, fr, ar, ru or fa.

The HTML is complete on its own (charts inline as SVG data URLs); fonts are the Noto files shipped in ``fonts/``,
referenced by ``@font-face`` URLs, so WeasyPrint never falls back to whatever the machine has installed, and the
fetcher refuses anything that is not a local file or a data URL (reports are made on air-gapped networks).
"""

from __future__ import annotations

import base64
import functools
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from accord import clock
from accord.audit.chain import AuditEvent
from accord.errors import ValidationFailed
from accord.meetings.i18n import LANGS, Words
from accord.sharing.handling import Principal

if TYPE_CHECKING:
    from accord.services import Services

__all__ = ["FONTS", "activity_html", "communique_html", "pdf"]

# Report order: geographic coordinates first, as the centre counts them first.
KINDS = ("observation", "report", "entity", "relationship", "note")

HERE = Path(__file__).parent
FONTS = HERE / "fonts"


def _css(value: Any) -> Markup:
    """Escape a value for a double-quoted CSS string inside <style> (HTML entities are not decoded there)."""
    s = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
    return Markup(s)  # noqa: S704 - quotes, backslashes and '<' are escaped above


def _iso(value: Any) -> Markup:
    """Isolate a run of text in its own direction (by its first strong character), so that a Latin name in an
    Arabic sentence, or the reverse, keeps its parentheses and numbers in place."""
    text = str(value)
    direction = "ltr"
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            direction = "rtl"
            break
        if kind == "L":
            break
    return Markup('<span dir="{}" class="iso">{}</span>').format(direction, text)


@functools.cache
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]))
    env.filters["css"] = _css
    env.filters["iso"] = _iso
    return env


def _svg_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _png_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _lang(lang: str) -> Words:
    if lang not in LANGS:
        raise ValidationFailed.one("lang", f"must be one of {', '.join(LANGS)}")
    return Words(lang)


def _trend(w: Words, n: int) -> dict[str, str]:
    return {"change": w.signed(n), "trend": "up" if n > 0 else "down" if n < 0 else ""}


def query_text(d: dict[str, Any], viewer: str | None = None) -> str:
    """A definition as one line a reader can check (kept in English: it names fields, like code)."""
    parts = [f"{d['figure']}", f"created in [{d['from'][:16]}Z, {d['to'][:16]}Z)"]
    if d["kinds"]:
        parts.append("kinds " + ",".join(d["kinds"]))
    if d["members"]:
        parts.append("originators " + ",".join(d["members"]))
    parts.append(f"released to {d['audience']}")
    parts.append("each member's own items" if d["basis"] == "members-own" else f"as seen by {viewer or 'viewer'}")
    parts.append("revoked before the end excluded")
    if _plugged(d["figure"]):
        from accord.meetings.figures import FIGURES

        parts.append("and " + FIGURES[d["figure"]].label)
    return " · ".join(parts)


def figure_label(w: Words, key: str) -> str:
    from accord.meetings.figures import FIGURES

    fig = FIGURES.get(key)
    if fig is not None and fig.labels:
        return fig.labels.get(w.lang) or fig.labels.get("en") or fig.label
    text = w("fig_" + key)
    return text if text != "fig_" + key else (fig.label if fig else key)


def _plugged(key: str) -> bool:
    """A figure another feature registered with its own report labels (see figures.register)."""
    from accord.meetings.figures import FIGURES

    fig = FIGURES.get(key)
    return fig is not None and bool(fig.labels)


def _recipients(w: Words, audience: str) -> str:
    if audience.startswith("member:"):
        return audience.split(":", 1)[1]
    return w("aud_" + audience)


# ----- activity report -----------------------------------------------------------------------------------
def activity_html(svc: Services, viewer: Principal, start: str, end: str, lang: str = "en",
                  member: str | None = None, fonts: str | None = None) -> str:
    from accord.meetings import charts  # matplotlib loads on the first report, not with the app

    w = _lang(lang)
    names = {m["code"]: m["name"] for m in svc.accounts.list_members()}
    if member and member.upper() not in names:
        raise ValidationFailed.one("member", f"no member {member}")
    member = member.upper() if member else None
    by_kind = svc.stats.activity(viewer, start, end, by=["kind"], member=member)
    start, end = by_kind["from"], by_kind["to"]
    by_member = svc.stats.activity(viewer, start, end, by=["member"], member=member) if not member else None
    shared = svc.stats.activity(viewer, start, end, by=[], member=member, audience="members")
    passed = svc.stats.activity(viewer, start, end, by=[], member=member, audience="consumers")
    release = svc.stats.released_to(viewer, start, end, member)
    weekly = svc.stats.weekly(viewer, start, end, member)
    points = svc.stats.positions(viewer, start, end, member)

    counts = {r["kind"]: r for r in by_kind["groups"]}
    kinds = []
    for i, k in enumerate(KINDS, 1):
        r = counts.get(k, {"count": 0, "previous": 0, "change": 0})
        kinds.append({"idx": w.num(i), "label": w("kind_" + k), "count": w.num(r["count"]),
                      "previous": w.num(r["previous"]), **_trend(w, r["change"]), "raw": r})
    obs = counts.get("observation", {"count": 0, "previous": 0})
    info = {"count": sum(counts.get(k, {}).get("count", 0) for k in KINDS if k != "observation"),
            "previous": sum(counts.get(k, {}).get("previous", 0) for k in KINDS if k != "observation")}

    def card(label: str, cur: int, prev: int) -> dict[str, str]:
        return {"label": label, "value": w.num(cur), "previous": w.num(prev), **_trend(w, cur - prev)}

    def first(rows: dict[str, Any], key: str) -> int:
        return int(rows[key])

    cards = [card(w("fig_observations"), obs["count"], obs["previous"]),
             card(w("fig_information"), info["count"], info["previous"]),
             card(w("released_members"), first(shared, "total"), first(shared, "previous_total")),
             card(w("released_consumers"), first(passed, "total"), first(passed, "previous_total"))]
    fmt = w.num
    chart_kinds = _svg_url(charts.bars([k["raw"]["count"] for k in kinds], [k["raw"]["previous"] for k in kinds],
                                       fmt, rtl=w.rtl))
    chart_weekly = _svg_url(charts.weekly(weekly, fmt, w.short_day, rtl=w.rtl))
    map_url = _png_url(charts.density_map(points, fmt)[0]) if points else None
    members_rows = None
    if by_member is not None:
        members_rows = [{"label": f"{names.get(r['member'], r['member'])} ({r['member']})", "count": w.num(r["count"]),
                         "previous": w.num(r["previous"]), **_trend(w, r["change"])} for r in by_member["groups"]]
    release_rows = [{"label": w("released_to_member", member=_iso(f"{names[c]} ({c})")), "value": w.num(n)}
                    for c, n in release["members"].items() if c != member]
    release_rows += [{"label": w("released_members"), "value": w.num(release["released"])},
                     {"label": w("released_consumers"), "value": w.num(release["consumers"])}]
    base = {"from": start, "to": end, "kinds": [], "members": [member] if member else [], "basis": "viewer"}
    sources = [
        {"label": w("fig_observations"), "value": w.num(obs["count"]),
         "query": query_text({**base, "figure": "observations", "audience": "any"}, viewer.username)},
        {"label": w("fig_information"), "value": w.num(info["count"]),
         "query": query_text({**base, "figure": "information", "audience": "any"}, viewer.username)},
        {"label": w("released_members"), "value": w.num(shared["total"]),
         "query": query_text({**base, "figure": "items", "audience": "members"}, viewer.username)},
        {"label": w("released_consumers"), "value": w.num(passed["total"]),
         "query": query_text({**base, "figure": "items", "audience": "consumers"}, viewer.username)},
    ]
    # Figures registered by other features (correlated with another member's): a card and a source line each.
    for f in svc.stats.figure_table(viewer, start, end, member)["figures"]:
        if not _plugged(f["figure"]):
            continue
        label = figure_label(w, f["figure"])
        cards.append(card(label, f["value"], f["previous"]))
        sources.append({"label": label, "value": w.num(f["value"]),
                        "query": query_text(f["definition"], viewer.username)})
    subject = f"{names[member]} ({member})" if member else w("all_members")
    n = 3
    sec = {}
    for key in (["member"] if members_rows else []) + ["release", "weekly", "map", "sources"]:
        sec[key] = w.num(n)
        n += 1
    period_text = w.period(start, end)
    svc.audit.record(AuditEvent("report.activity", viewer.user_id, viewer.member_code, None, None,
                                {"member": member, "from": start, "to": end, "lang": lang, "via": viewer.via}))
    return _env().get_template("activity.html").render(
        w=w, fonts=fonts or FONTS.as_uri(), doc_title=f"{w('activity_report')} — {subject}",
        marking=w("restricted"), footer_left=f"{w('activity_report')} · {subject} · {period_text}",
        subject=subject, period_text=period_text,
        previous_text=w.period(by_kind["previous"]["from"], by_kind["previous"]["to"]),
        viewer=_iso(viewer.username), viewer_member=_iso(viewer.member_code), generated=w.moment(clock.now()),
        cards=cards, kinds=kinds, chart_kinds=chart_kinds, chart_weekly=chart_weekly, map=map_url,
        total={"count": w.num(by_kind["total"]), "previous": w.num(by_kind["previous_total"]),
               **_trend(w, by_kind["total"] - by_kind["previous_total"])},
        by_member=members_rows, release=release_rows, sources=sources, sec=sec,
        weekly_buckets=all(r["days"] == 7 for r in weekly))


# ----- communiqué ----------------------------------------------------------------------------------------
def communique_html(svc: Services, viewer: Principal, meeting_id: Any, lang: str = "en",
                    fonts: str | None = None) -> str:
    w = _lang(lang)
    m = svc.meetings.get(viewer, meeting_id)
    c = m["communique"]
    texts: dict[str, str] = c["texts"]
    fallback = lang not in texts or not texts[lang].strip()
    source_lang = lang if not fallback else next((k for k in ("en", "fr", "ar", "ru", "fa") if texts.get(k)), lang)
    text = texts.get(source_lang, "")
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    fallback_dir = ("rtl" if source_lang in ("ar", "fa") else "ltr") if fallback else None
    figures, sources = [], []
    for f in c["figures"]:
        d = f["definition"]
        label = figure_label(w, d["figure"])
        # Before every member approved, the totals are not shown (Meetings, "Approval before totals").
        value = w.num(f["value"]) if f["value"] is not None else "—"
        figures.append({"value": value, "label": label, "recipients": _recipients(w, d["audience"])})
        sources.append({"label": label, "value": value,
                        "query": query_text(d) + (f" · sha256 {f['items_digest'][:16]}" if f["items_digest"] else "")})
    approved_at: dict[str, str] = {}
    for a in c["approvals"]:
        if a["revision"] == c["revision"]:
            if a["decision"] == "approve":
                approved_at[a["member"]] = a["at"]
            else:
                approved_at.pop(a["member"], None)
    signatures = [{"name": p["name"], "code": p["code"],
                   "at": w.moment(approved_at[p["code"]]) if p["code"] in approved_at else None}
                  for p in m["members"]]
    draft = c["status"] != "published"
    published = w("published_on", date=w.day(c["published"])) if c["published"] else None
    reference = (c["digest"] or "")[:32] or f"{m['id']}/{c['revision']}"
    svc.audit.record(AuditEvent("report.communique", viewer.user_id, viewer.member_code, None, None,
                                {"meeting": m["id"], "lang": lang, "via": viewer.via}))
    return _env().get_template("communique.html").render(
        w=w, fonts=fonts or FONTS.as_uri(), doc_title=f"{w('communique')} — {m['title']}", m=m,
        marking=w("draft_mark") if draft else "", footer_left=f"{w('communique')} · {m['title']}",
        held_on=w.day(m["date"] + "T00:00:00Z"), period_text=w.period(m["period"]["from"], m["period"]["to"]),
        paragraphs=paragraphs, fallback=fallback and bool(text), fallback_dir=fallback_dir, figures=figures,
        chart=None, chart_caption="", signatures=signatures, sources=sources, draft=draft, published=published,
        reference=reference)


# ----- PDF -----------------------------------------------------------------------------------------------
def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class LocalOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not (url.startswith("data:") or url.startswith(FONTS.as_uri())):
                raise ValueError(f"reports fetch nothing but their own fonts and inline images, not {url[:60]}")
            return super().fetch(url, headers)

    return LocalOnly(allowed_protocols=("file", "data"))


def pdf(html: str) -> bytes:
    from weasyprint import HTML

    out = HTML(string=html, base_url=str(HERE), url_fetcher=_fetcher()).write_pdf()
    assert out is not None
    return bytes(out)
