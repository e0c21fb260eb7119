"""`herald analysts grant ROLE`: a read-only PostgreSQL role on the read models (schema
`herald`), for analysts' own SQL clients (see projections/analysts.py)."""

import sys

import click
from rich.console import Console
from rich.markup import escape

from projections.analysts import AnalystRoleError, grant_analyst, request_problems

console = Console(stderr=True, soft_wrap=True)


@click.group()
def analysts() -> None:
    """Read-only access to the read models for analysts."""


@analysts.command("grant")
@click.argument("role")
@click.option(
    "--password",
    envvar="HERALD_ANALYST_PASSWORD",
    help="the role's password (or HERALD_ANALYST_PASSWORD); unchanged if not given",
)
def analysts_grant(role: str, password: str | None) -> None:
    """Create ROLE (or update it) as a login role that can SELECT every table and view of
    schema herald, and nothing else; prints the role as the last line."""
    from interfaces.cli import _herald

    problems = request_problems(role, password)  # before connecting: nothing to wait for
    if not problems:
        herald = _herald()
        try:
            with herald.pool.connection() as conn:
                group = grant_analyst(conn, role, password)
        except AnalystRoleError as error:
            problems = error.problems
    if problems:
        console.print("[red]error:[/red] cannot make this role an analyst")
        for line in problems:
            console.print(f"  {escape(line)}")
        sys.exit(1)
    console.print(
        f"{escape(role)} can read every table and view of schema herald (as a member of"
        f" {escape(group)}); its sessions are read-only"
    )
    click.echo(role)
