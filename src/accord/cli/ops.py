"""Operations commands: ``accord migrate``, ``accord backup``, ``accord restore``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from accord.storage.database import Database

__all__ = ["register"]

console = Console(stderr=True)


def _db_for(ctx: typer.Context, url: str) -> Database:
    return Database(replace(ctx.find_root().obj.settings, database_url=url))


def migrate_store(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Database URL to copy from, e.g. sqlite:///var/accord.db")],
    target: Annotated[str, typer.Argument(help="Database URL to copy into, e.g. postgresql://accord@db/accord")],
    batch: Annotated[int, typer.Option(help="Rows per insert.")] = 5000,
) -> None:
    """Move a whole hub to another store (SQLite to PostgreSQL, or back): every table, the audit chain, users,
    tokens and sessions; the search index is rebuilt. The target must be empty."""
    from accord.audit.chain import AuditLog
    from accord.ops.transfer import copy_store

    src, dst = _db_for(ctx, source), _db_for(ctx, target)
    try:
        src.migrate()
        dst.migrate()
        report = copy_store(src, dst, batch=batch)
        v = AuditLog(dst).verify()
    finally:
        src.dispose()
        dst.dispose()
    for name, n in report.rows.items():
        if n:
            console.print(f"  {name}: {n} rows")
    console.print(f"  search index: {report.indexed} items")
    if report.not_copied:
        console.print(f"[yellow]not copied[/yellow] (no module declares them): {', '.join(report.not_copied)}")
    if not v.ok:
        console.print(f"[red]audit chain does not verify on the target[/red]: {v.reason}")
        raise typer.Exit(1)
    console.print(f"[green]Migrated[/green]; audit chain verifies ({v.records} records).")


def backup_cmd(
    ctx: typer.Context,
    output: Annotated[Path, typer.Argument(help="Backup file to create.")],
    fmt: Annotated[str, typer.Option("--format", help="auto | pg_dump | sqlite (portable, either backend)")] = "auto",
) -> None:
    """Back up the hub's store while it keeps serving."""
    from accord.ops.backup import backup

    db = Database(ctx.find_root().obj.settings)
    try:
        used = backup(db, output, fmt)
    finally:
        db.dispose()
    console.print(f"[green]Backed up[/green] to {output} ({used}).")


def restore_cmd(
    ctx: typer.Context,
    backup_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A file made by accord backup.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: everything in the store is replaced.")] = False,
) -> None:
    """Replace the hub's store with a backup (stop the hub's servers first)."""
    from accord.audit.chain import AuditLog
    from accord.ops.backup import restore

    if not yes:
        typer.confirm("This replaces everything in the hub's store. Continue?", abort=True)
    db = Database(ctx.find_root().obj.settings)
    try:
        fmt = restore(db, backup_file)
        v = AuditLog(db).verify()
    finally:
        db.dispose()
    console.print(f"[green]Restored[/green] from {backup_file} ({fmt}); audit chain "
                  f"{'verifies' if v.ok else 'DOES NOT verify: ' + v.reason} ({v.records} records).")
    if not v.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate_store)
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
