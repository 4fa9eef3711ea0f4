"""CLI commands for correlation: ``accord entities match``, ``accord places``, ``accord correlate rebuild``.
They call the Correlation service like the API does; reads act as a named user so the access policy applies."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

__all__ = ["correlate_app", "entities_app", "places"]

console = Console()
entities_app = typer.Typer(help="Entities: name matching across scripts.", no_args_is_help=True)
correlate_app = typer.Typer(help="Correlation index maintenance.", no_args_is_help=True)


def _services(ctx: typer.Context) -> Any:
    return ctx.find_root().obj.services


@entities_app.command("match")
def entities_match(
    ctx: typer.Context, name: str,
    as_user: Annotated[str, typer.Option("--as", help="Match among the entities this user may see.")],
    limit: Annotated[int, typer.Option(help="How many matches.")] = 10,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Entities whose name or alias matches NAME, in any script, best first."""
    svc = _services(ctx)
    principal = dataclasses.replace(svc.accounts.principal_for(as_user), via="cli")
    found = svc.correlation.match(principal, name, limit)
    if json_out:
        typer.echo(orjson.dumps(found).decode())
        return
    t = Table("score", "name", "originator", "id", "reasons")
    for m in found:
        t.add_row(f"{m['score']:.2f}", m["name"], m["originator"], m["id"], "; ".join(m["reasons"]))
    console.print(t)


def places(ctx: typer.Context, name: str,
           limit: Annotated[int, typer.Option(min=1, max=50, help="How many places.")] = 10,
           json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Candidate places for NAME (any script) from the offline gazetteer."""
    found = [p.as_dict() for p in _services(ctx).correlation.gazetteer.search(name, limit)]
    if json_out:
        typer.echo(orjson.dumps(found).decode())
        return
    t = Table("name", "country", "lat", "lon", "population", "score")
    for p in found:
        t.add_row(p["name"], p["country"], f"{p['lat']:.5f}", f"{p['lon']:.5f}", str(p["population"]),
                  f"{p['score']:.2f}")
    console.print(t)


@correlate_app.command("rebuild")
def rebuild(ctx: typer.Context,
            no_notices: Annotated[bool, typer.Option("--no-notices", help="Keys only.")] = False) -> None:
    """Recompute every correlation key (and open deconfliction notice) from the stored items."""
    counts = _services(ctx).correlation.rebuild(notices=not no_notices)
    typer.echo(orjson.dumps(counts).decode())
