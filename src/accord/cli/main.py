"""The ``accord`` command. Commands parse arguments and call services; they never touch SQL."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import orjson
import sqlalchemy.exc
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from accord.cli import correlation as correlation_cli
from accord.cli import meetings as meetings_cli
from accord.cli import ops as ops_cli
from accord.cli.stix import export_bundle, import_bundle, is_stix_bundle
from accord.config import Settings, load_settings
from accord.errors import AccordError, ValidationFailed
from accord.services import Services, build_services
from accord.sharing.ingest import Importer, json_chunks

__all__ = ["app", "main"]

console = Console()
err = Console(stderr=True)

app = typer.Typer(help="Accord: the hub of a multi-member information-exchange centre.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
member_app = typer.Typer(help="Member organisations and their consumers.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(member_app, name="member")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
ops_cli.register(app)  # migrate, backup, restore
app.add_typer(meetings_cli.report_app, name="report")
app.add_typer(meetings_cli.meeting_app, name="meeting")
app.command("stats")(meetings_cli.stats_command)
app.add_typer(correlation_cli.entities_app, name="entities")
app.add_typer(correlation_cli.correlate_app, name="correlate")
app.command("places")(correlation_cli.places)


class State:
    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self._settings: Settings | None = None
        self._services: Services | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(**self.overrides)
        return self._settings

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = build_services(self.settings)
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
            self._services = None


def _state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


@app.callback()
def _root(
    ctx: typer.Context,
    data: Annotated[str | None, typer.Option(help="Data directory (env ACCORD_DATA).")] = None,
    database_url: Annotated[str | None, typer.Option(help="Database URL (env ACCORD_DATABASE_URL).")] = None,
) -> None:
    ctx.obj = State({"data": data, "database_url": database_url})
    ctx.call_on_close(ctx.obj.close)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False, disable=not err.is_terminal)


# ----- set-up and serving ------------------------------------------------------------------------------------
@app.command()
def init(ctx: typer.Context) -> None:
    """Create (or upgrade) the hub's store."""
    st = _state(ctx)
    st.services  # noqa: B018 - building the services runs the migrations
    console.print(f"Hub ready at [bold]{st.settings.url}[/bold]")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only for more than one).")] = 1,
) -> None:
    """Serve the hub over HTTP (several workers share one PostgreSQL; see docs/DEPLOY.md)."""
    from accord.ops.server import run

    st = _state(ctx)
    settings = st.settings.with_overrides(host=host, port=port)
    if workers > 1 and settings.is_sqlite:
        raise ValidationFailed.one("workers", "several workers need PostgreSQL; the embedded store has one writer")
    st.services  # noqa: B018 - migrate once, before any worker starts
    console.print(f"Serving on http://{settings.host}:{settings.port} with {workers} worker(s) (API docs at /api/docs)")
    if workers <= 1:
        run(settings, 1, services=st.services)
    else:
        st.services.close()
        run(settings, workers)


@app.command()
def demo(
    ctx: typer.Context,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the hub after seeding.")] = True,
    items: Annotated[int, typer.Option(help="Number of synthetic items to create.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (the dataset is deterministic for a seed).")] = 7,
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
) -> None:
    """Seed a synthetic demo dataset into an empty hub, print the logins, and serve."""
    from accord.demo import DEMO_PASSWORD, seed_demo

    st = _state(ctx)
    svc = st.services
    with _progress() as progress:
        task = progress.add_task("Seeding demo data", total=items)
        logins = seed_demo(svc, n_items=items, seed=seed, progress=partial(_advance, progress, task))
        _derive_queued(svc, progress)
    if logins is None:
        console.print("The hub already holds data; nothing seeded.")
        logins = _existing_demo_logins(svc)
    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
    for col in ("member", "user", "role"):
        table.add_column(col)
    table.add_column("API token (Authorization: Bearer ...)", overflow="fold")
    for row in logins:
        table.add_row(row["member"], row["username"], row["role"], row.get("token", ""))
    console.print(table)
    console.print(f"Tokens are also in {svc.settings.data_path / 'demo-tokens.txt'}")
    if serve_after:
        ctx.invoke(serve, ctx, host=host, port=port)


def _existing_demo_logins(svc: Services) -> list[dict[str, str]]:
    path = svc.settings.data_path / "demo-tokens.txt"
    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            member, username, role, token = line.split("\t")
            out.append({"member": member, "username": username, "role": role, "token": token})
    return out


# ----- members, users, tokens --------------------------------------------------------------------------------
@member_app.command("add")
def member_add(ctx: typer.Context, code: str, name: str,
               role: Annotated[str, typer.Option(help="member | chair | observer")] = "member") -> None:
    """Add a member organisation."""
    m = _state(ctx).services.accounts.add_member(code, name, role)
    console.print(f"Added member [bold]{m['code']}[/bold] ({m['name']}, {m['role']})")


@member_app.command("consumer")
def member_consumer(ctx: typer.Context, member: str, code: str, name: str) -> None:
    """Add a consumer (downstream unit) to a member."""
    c = _state(ctx).services.accounts.add_consumer(member, code, name)
    console.print(f"Added consumer [bold]{c['code']}[/bold] to {c['member']}")


@member_app.command("list")
def member_list(ctx: typer.Context, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List members and their consumers."""
    rows = _state(ctx).services.accounts.list_members()
    if json_out:
        # Row keys are str subclasses, which orjson refuses without OPT_NON_STR_KEYS.
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")
        return
    table = Table("code", "name", "role", "consumers")
    for m in rows:
        table.add_row(m["code"], m["name"], m["role"], ", ".join(c["code"] for c in m["consumers"]))
    console.print(table)


@user_app.command("add")
def user_add(
    ctx: typer.Context, username: str, member: str,
    role: Annotated[str, typer.Option(help="hub-admin | member-admin | analyst | reader | consumer")] = "analyst",
    clearance: Annotated[int, typer.Option(help="0 unclassified ... 4 top-secret")] = 1,
    password: Annotated[str | None, typer.Option(help="Password (prompted when omitted).")] = None,
    consumer: Annotated[str | None, typer.Option(help="Consumer unit, for role consumer.")] = None,
    language: Annotated[str, typer.Option(help="en | fr | ar | ru | fa")] = "en",
) -> None:
    """Add a user to a member."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    u = _state(ctx).services.accounts.add_user(username, member, role, password, clearance=clearance,
                                               consumer=consumer, language=language)
    console.print(f"Added user [bold]{u['username']}[/bold] ({u['role']} of {u['member']})")


@user_app.command("list")
def user_list(ctx: typer.Context, member: Annotated[str | None, typer.Option()] = None) -> None:
    """List users."""
    table = Table("username", "member", "role", "clearance", "disabled")
    for u in _state(ctx).services.accounts.list_users(member):
        table.add_row(u["username"], u["member"], u["role"], str(u["clearance"]), "yes" if u["disabled"] else "")
    console.print(table)


@user_app.command("disable")
def user_disable(ctx: typer.Context, username: str) -> None:
    """Disable a user and end their sessions."""
    _state(ctx).services.accounts.set_disabled(username, True)
    console.print(f"Disabled {username}")


@token_app.command("create")
def token_create(ctx: typer.Context, username: str,
                 name: Annotated[str, typer.Option(help="A label for the token.")] = "cli",
                 days: Annotated[int, typer.Option(min=0, max=3650, help="Lifetime in days (0: no expiry).")] = 90,
                 ) -> None:
    """Create an API token for a user; the secret is printed once."""
    t = _state(ctx).services.accounts.create_token(username, name, days)
    console.print(f"Token {t.id} (expires {t.expires or 'never'}); store it now, it is not shown again:")
    sys.stdout.write(t.secret + "\n")


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: str) -> None:
    """Revoke an API token, named by its id (tok_..., as `accord token create` printed it)."""
    _state(ctx).services.accounts.revoke_token(token_id)
    console.print(f"Revoked token {token_id}")


# ----- import and export -------------------------------------------------------------------------------------
def _report_rejected(message: str) -> None:
    err.print(f"[red]rejected[/red] {message}")


def _advance(progress: Progress, task: Any, n: int) -> None:
    progress.update(task, advance=n)


def _derive_queued(svc: Services, progress: Progress) -> None:
    """Run the STIX and correlation work a large import left queued (accord.sharing.derived), with a bar."""
    backlog = svc.items.deriver.backlog()
    if backlog:
        task = progress.add_task("Correlating and mapping to STIX", total=backlog)
        svc.items.deriver.drain(partial(_advance, progress, task))


@app.command("import")
def import_(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="JSON or NDJSON item files.")],
    as_user: Annotated[str, typer.Option("--as", help="The user the items are shared as.")],
    batch: Annotated[int, typer.Option(min=1, help="Objects per transaction.")] = 5000,
    workers: Annotated[int, typer.Option(min=0, help="Processes validating the next chunk while one is stored "
                                              "(0: validate in this process).")] = 1,
) -> None:
    """Import items from files; each object is accepted or rejected on its own."""
    svc = _state(ctx).services
    principal = svc.accounts.principal_for(as_user)
    accepted = rejected = 0
    with _progress() as progress:
        for path in files:
            task = progress.add_task(f"Importing {path.name}", total=None)
            if is_stix_bundle(path):  # a STIX 2.1 bundle: streamed through the STIX mapping
                a, r = import_bundle(svc, principal, path, batch, _report_rejected, partial(_advance, progress, task))
                accepted, rejected = accepted + a, rejected + r
                continue
            seen = 0
            for results in Importer(svc.items, workers).run(principal, json_chunks(path.read_bytes(), batch,
                                                                                   path.name)):
                for res in results:
                    if res.ok:
                        accepted += 1
                    else:
                        rejected += 1
                        msgs = "; ".join(f"{e.field}: {e.message}" for e in res.errors)
                        err.print(f"[red]rejected[/red] {path.name} object {seen + res.index + 1}: {msgs}")
                seen += len(results)
                progress.update(task, advance=len(results))
        _derive_queued(svc, progress)
    console.print(f"Imported {accepted} items, rejected {rejected}.")
    if rejected:
        raise typer.Exit(1)


@app.command()
def export(
    ctx: typer.Context,
    as_user: Annotated[str, typer.Option("--as", help="Export what this user may see.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File (default: standard output).")] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    fmt: Annotated[str, typer.Option("--format", help="items (NDJSON) | stix (a STIX 2.1 bundle)")] = "items",
) -> None:
    """Export the items a user may see as newline-delimited JSON, or as a STIX 2.1 bundle."""
    from accord.sharing.items import ItemFilter

    if fmt not in ("items", "stix"):
        raise ValidationFailed.one("format", "must be items or stix")
    svc = _state(ctx).services
    principal = svc.accounts.principal_for(as_user)
    out = output.open("wb") if output else sys.stdout.buffer
    if fmt == "stix":
        try:
            err.print(f"Exported {export_bundle(svc, principal, out)} STIX objects.")
        finally:
            if output:
                out.close()
        return
    n = 0
    try:
        for item in svc.items.export(principal, ItemFilter(kind=kind, include_revoked=True)):
            out.write(orjson.dumps(item) + b"\n")
            n += 1
    finally:
        if output:
            out.close()
    err.print(f"Exported {n} items.")


# ----- audit -------------------------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the audit chain; exits 1 and names the first bad record if anything was altered."""
    v = _state(ctx).services.audit.verify()
    if v.ok:
        console.print(f"[green]Audit chain intact[/green]: {v.records} records.")
        return
    err.print(f"[red]Audit chain broken[/red] at record {v.first_bad_seq}: {v.reason} "
              f"({v.records} records verified before it).")
    raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except AccordError as exc:
        if isinstance(exc, ValidationFailed):
            for e in exc.errors:
                err.print(f"[red]error[/red]: {e.field}: {e.message}" if e.field else f"[red]error[/red]: {e.message}")
        else:
            err.print(f"[red]error[/red]: {exc.detail}")
        sys.exit(2)
    except OSError as exc:  # a file named on the command line that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"[red]error[/red]: {escape(where + str(exc.strerror or exc))}")
        sys.exit(2)
    except sqlalchemy.exc.SQLAlchemyError as exc:  # a database URL that does not parse, or a store not reachable
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        err.print(f"[red]error[/red]: database: {escape(first)}")
        sys.exit(2)
