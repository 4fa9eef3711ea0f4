"""CLI for statistics, reports and the meeting cycle. Commands act as a named user (``--as``), like ``export``:
every figure is what that user may see, and every step is checked and audited as that user's."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from accord.errors import ValidationFailed

__all__ = ["meeting_app", "report_app", "stats_command"]

console = Console()
err = Console(stderr=True)
report_app = typer.Typer(help="Activity reports and communiqués as HTML or PDF.", no_args_is_help=True)
meeting_app = typer.Typer(help="Meetings: convene, summaries, minutes, communiqué, approvals.", no_args_is_help=True)

AsUser = Annotated[str, typer.Option("--as", help="The user acting (figures count what this user may see).")]
From = Annotated[str, typer.Option("--from", help="Start of the period, YYYY-MM-DD or RFC 3339 (inclusive).")]
To = Annotated[str, typer.Option("--to", help="End of the period, YYYY-MM-DD or RFC 3339 (exclusive).")]


def _svc(ctx: typer.Context) -> Any:
    return ctx.find_root().obj.services


def _who(ctx: typer.Context, username: str) -> tuple[Any, Any]:
    svc = _svc(ctx)
    return svc, svc.accounts.principal_for(username)


def _json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _read_text(path: Path, field: str) -> str:
    try:
        return path.read_bytes().decode()
    except UnicodeDecodeError:
        raise ValidationFailed.one(field, f"{path}: not UTF-8 text") from None


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        return
    output.write_bytes(data)
    err.print(f"Wrote {output} ({len(data):,} bytes)")


# ----- statistics --------------------------------------------------------------------------------------------
def stats_command(
    ctx: typer.Context, as_user: AsUser, start: From, end: To,
    by: Annotated[str, typer.Option(help="Group by member and/or kind, comma-separated.")] = "member,kind",
    member: Annotated[str | None, typer.Option(help="Only this originating member.")] = None,
    audience: Annotated[str, typer.Option(help="any | members | consumers | member:CODE")] = "any",
    fmt: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
) -> None:
    """Items shared in a period, by member and kind, with the previous period for trend."""
    import csv

    svc, who = _who(ctx, as_user)
    groups = [b for b in by.split(",") if b]
    out = svc.stats.activity(who, start, end, groups, member, audience)
    cols = [*groups, "count", "previous", "change"]
    if fmt == "json":
        _json(out)
    elif fmt == "csv":
        w = csv.DictWriter(sys.stdout, cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(out["groups"])
    elif fmt == "table":
        table = Table(*cols, title=f"{out['from'][:10]} – {out['to'][:10]} (as {who.username})")
        for r in out["groups"]:
            table.add_row(*[str(r.get(c, "")) for c in cols])
        table.add_row(*(["total"] + [""] * (len(groups) - 1) if groups else []),
                      str(out["total"]), str(out["previous_total"]), str(out["total"] - out["previous_total"]))
        console.print(table)
    else:
        raise ValidationFailed.one("format", "must be table, json or csv")


# ----- reports -----------------------------------------------------------------------------------------------
Lang = Annotated[str, typer.Option(help="en | fr | ar | ru | fa")]
Fmt = Annotated[str, typer.Option("--format", help="pdf | html")]
Out = Annotated[Path | None, typer.Option("-o", "--output", help="File (default: standard output).")]


def _document(html: str, fmt: str) -> bytes:
    from accord.meetings import render

    if fmt == "html":
        return html.encode()
    if fmt == "pdf":
        return render.pdf(html)
    raise ValidationFailed.one("format", "must be pdf or html")


@report_app.command("activity")
def report_activity(ctx: typer.Context, as_user: AsUser, start: From, end: To,
                    member: Annotated[str | None, typer.Option(help="The member reported on (default: all).")] = None,
                    lang: Lang = "en", fmt: Fmt = "pdf", output: Out = None) -> None:
    """A member's activity over a period, as the acting user may see it."""
    from accord.meetings import render

    svc, who = _who(ctx, as_user)
    _write(_document(render.activity_html(svc, who, start, end, lang, member), fmt), output)


@report_app.command("communique")
def report_communique(ctx: typer.Context, meeting: str, as_user: AsUser, lang: Lang = "en", fmt: Fmt = "pdf",
                      output: Out = None) -> None:
    """A meeting's communiqué (marked as a draft until published)."""
    from accord.meetings import render

    svc, who = _who(ctx, as_user)
    _write(_document(render.communique_html(svc, who, meeting, lang), fmt), output)


# ----- meetings ----------------------------------------------------------------------------------------------
@meeting_app.command("create")
def meeting_create(
    ctx: typer.Context, as_user: AsUser, title: Annotated[str, typer.Option()],
    date: Annotated[str, typer.Option(help="YYYY-MM-DD")], start: From, end: To,
    member: Annotated[list[str], typer.Option("--member", help="A participating member (repeat).")],
    place: Annotated[str, typer.Option()] = "",
    agenda: Annotated[list[str] | None, typer.Option("--agenda", help="An agenda item (repeat).")] = None,
) -> None:
    """Convene a meeting (the acting user's member chairs it)."""
    svc, who = _who(ctx, as_user)
    m = svc.meetings.create(who, {"title": title, "date": date, "place": place, "members": member,
                                  "agenda": agenda or [], "period": {"from": start, "to": end}})
    codes = ", ".join(x["code"] for x in m["members"])
    console.print(f"Meeting [bold]{m['id']}[/bold] convened: {m['title']} ({codes})")


@meeting_app.command("list")
def meeting_list(ctx: typer.Context, as_user: AsUser) -> None:
    """Meetings the acting user's member takes part in."""
    svc, who = _who(ctx, as_user)
    table = Table("id", "date", "title", "place", "status", "communiqué")
    for m in svc.meetings.list_for(who):
        table.add_row(str(m["id"]), m["held_on"], m["title"], m["place"], m["status"], m["communique"])
    console.print(table)


@meeting_app.command("show")
def meeting_show(ctx: typer.Context, meeting: str, as_user: AsUser) -> None:
    """Everything about a meeting the acting user may see, as JSON."""
    svc, who = _who(ctx, as_user)
    _json(svc.meetings.get(who, meeting))


@meeting_app.command("summary")
def meeting_summary(
    ctx: typer.Context, meeting: str, as_user: AsUser,
    narrative: Annotated[Path | None, typer.Option(help="File with the narrative text.")] = None,
    present: Annotated[list[int] | None, typer.Option(help="Index of a figure to present (repeat).")] = None,
    highlight: Annotated[list[str] | None, typer.Option(help="Item id of a highlight to present (repeat).")] = None,
    final: Annotated[bool, typer.Option("--final", help="Mark the summary final.")] = False,
) -> None:
    """Draft (pre-filled from the records) and edit the acting user's member summary."""
    svc, who = _who(ctx, as_user)
    s = svc.meetings.draft_summary(who, meeting)
    patch: dict[str, Any] = {}
    if narrative:
        patch["narrative"] = _read_text(narrative, "narrative")
    if present is not None:
        patch["present_figures"] = present
    if highlight is not None:
        patch["present_highlights"] = highlight
    if final:
        patch["final"] = True
    if patch:
        s = svc.meetings.update_summary(who, meeting, patch)
    _json(s)


@meeting_app.command("minute")
def meeting_minute(
    ctx: typer.Context, meeting: str, as_user: AsUser,
    kind: Annotated[str, typer.Option(help="note | decision | action")], text: Annotated[str, typer.Option()],
    owner: Annotated[str | None, typer.Option(help="Member that must carry out an action.")] = None,
    due: Annotated[str | None, typer.Option(help="Due date of an action, YYYY-MM-DD.")] = None,
) -> None:
    """Record a note, decision or action item in the minutes (secretariat)."""
    svc, who = _who(ctx, as_user)
    e = svc.meetings.add_minute(who, meeting, {"kind": kind, "text": text, "owner": owner, "due": due})
    console.print(f"Recorded {e['kind']} {e['id']}")


@meeting_app.command("done")
def meeting_done(ctx: typer.Context, meeting: str, entry: str, as_user: AsUser) -> None:
    """Mark an action item done."""
    svc, who = _who(ctx, as_user)
    svc.meetings.close_action(who, meeting, entry)
    console.print(f"Action {entry} done")


@meeting_app.command("communique")
def meeting_communique(
    ctx: typer.Context, meeting: str, as_user: AsUser,
    text: Annotated[list[str] | None, typer.Option(help="LANG=FILE with the narrative in that language (repeat).")]
    = None,
    figure: Annotated[list[str] | None, typer.Option(
        help="A figure to publish, FIGURE[:AUDIENCE] e.g. observations or items:consumers (repeat).")] = None,
) -> None:
    """Draft the communiqué (chair)."""
    svc, who = _who(ctx, as_user)
    body: dict[str, Any] = {}
    if text:
        texts = {}
        for t in text:
            lang, _, path = t.partition("=")
            if not path:
                raise ValidationFailed.one("text", "use LANG=FILE")
            texts[lang] = _read_text(Path(path), "text")
        body["texts"] = texts
    if figure:
        body["figures"] = [{"figure": f.partition(":")[0], "audience": f.partition(":")[2] or "members"}
                           for f in figure]
    _json(svc.meetings.draft_communique(who, meeting, body))


@meeting_app.command("submit")
def meeting_submit(ctx: typer.Context, meeting: str, as_user: AsUser) -> None:
    """Freeze the communiqué's figures and ask every member to approve (chair)."""
    svc, who = _who(ctx, as_user)
    c = svc.meetings.submit_communique(who, meeting)
    for f in c["figures"]:
        total = f"{f['value']}" if f["value"] is not None else "total shown once every member approved"
        console.print(f"  {f['position']}. {f['figure']} ({f['definition']['audience']}): {total}; "
                      f"{who.member_code}'s contribution {f['contribution']}")  # the chair's analysts submit
    console.print(f"Awaiting approval from {', '.join(c['awaiting'])}")


@meeting_app.command("approve")
def meeting_approve(ctx: typer.Context, meeting: str, as_user: AsUser) -> None:
    """Approve the communiqué for the acting user's member."""
    svc, who = _who(ctx, as_user)
    c = svc.meetings.decide(who, meeting, "approve")
    console.print("Approved. " + (f"Still awaiting {', '.join(c['awaiting'])}" if c["awaiting"] else "All approved."))


@meeting_app.command("changes")
def meeting_changes(ctx: typer.Context, meeting: str, as_user: AsUser,
                    comment: Annotated[str, typer.Option(help="The changes needed.")]) -> None:
    """Ask for changes to the communiqué (it returns to draft)."""
    svc, who = _who(ctx, as_user)
    svc.meetings.decide(who, meeting, "changes", comment)
    console.print("Changes requested; the communiqué is back in draft.")


@meeting_app.command("publish")
def meeting_publish(ctx: typer.Context, meeting: str, as_user: AsUser) -> None:
    """Publish the communiqué once every member approved (chair)."""
    svc, who = _who(ctx, as_user)
    c = svc.meetings.publish(who, meeting)
    console.print(f"Published; reference {c['digest']}")


@meeting_app.command("verify")
def meeting_verify(ctx: typer.Context, meeting: str, as_user: AsUser) -> None:
    """Re-run the communiqué's frozen figures; exits 1 if any no longer reproduces."""
    svc, who = _who(ctx, as_user)
    v = svc.meetings.verify(who, meeting)
    for f in v["figures"]:
        mark = {True: "[green]reproduced[/green]", False: "[red]differs[/red]", None: ""}[f["reproduced"]]
        stored = f["stored"] if f["stored"] is not None else "(total shown once every member approved)"
        own, line = f["contribution"], f"  {f['position']}. {f['figure']}: {stored} {mark}"
        if own is not None:  # a member's analysts and administrators see its own share
            moved = "" if own["reproduced"] else f", now {own['now']} (+{own['added']} -{own['removed']})"
            line += f"; {who.member_code}'s contribution {own['stored']}{moved}"
        console.print(line)
    if v["reproduced"] is False:
        raise typer.Exit(1)
