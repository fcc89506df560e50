"""``tocsin token create|revoke|list`` and ``tocsin user create|list|delete``."""

from __future__ import annotations

import sys

import click

from tocsin.adapters.cli.common import fail, local_actor, run_with_context
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.services.access import tokens as token_service
from tocsin.services.access import users as user_service
from tocsin.services.access.principal import SCOPES
from tocsin.services.context import Context


def _when(row_time: object) -> str:
    return f"{row_time:%Y-%m-%d %H:%M}" if row_time is not None else "never"


@click.group("token", cls=ReportingGroup)
def token() -> None:
    """REST API tokens (``Authorization: Bearer <token>``)."""


@token.command("create")
@click.option("--name", required=True, help="A name for the token, e.g. deploy-bot.")
@click.option("--scope", type=click.Choice(SCOPES), required=True, help="read, write or admin.")
def token_create(name: str, scope: str) -> None:
    """Create a token and print it once (it is stored hashed and cannot be shown again)."""

    row, secret = run_with_context(
        lambda ctx: token_service.create_token(ctx, local_actor(), name, scope)
    )
    click.echo(f'Created token "{row.name}" with the {row.scope} scope.')
    click.echo("Copy it now; tocsin stores only a hash and cannot show it again:")
    click.echo(secret)


@token.command("revoke")
@click.argument("name")
def token_revoke(name: str) -> None:
    """Revoke a token at once; requests with it get 401 from now on."""

    async def work(ctx: Context) -> None:
        await token_service.revoke_token(ctx, local_actor(), name)

    run_with_context(work)
    click.echo(f'Revoked token "{name}".')


@token.command("list")
def token_list() -> None:
    """List tokens (name, scope, first characters, last use); never the secrets."""
    rows = run_with_context(token_service.list_tokens)
    if not rows:
        click.echo("No tokens yet; `tocsin token create --name NAME --scope read` makes one.")
        return
    for row in rows:
        state = f"revoked {_when(row.revoked_at)}" if row.revoked_at else "active"
        click.echo(
            f"{row.name}  {row.scope}  {row.prefix}…  created {_when(row.created_at)}  "
            f"last used {_when(row.last_used_at)}  {state}"
        )


@click.group("user", cls=ReportingGroup)
def user() -> None:
    """Dashboard users."""


def _read_password() -> str:
    """From a terminal: asked twice, hidden. Otherwise: the first line of standard input."""
    if sys.stdin.isatty():
        value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return value
    line = sys.stdin.readline()
    if not line.strip():
        fail(
            'give the password on standard input, e.g. `printf %s "$PW" | tocsin user create NAME`'
        )
    return line.rstrip("\r\n")


@user.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="May do everything, and read the audit log.")
def user_create(name: str, admin: bool) -> None:
    """Create a dashboard user; the password is read from standard input or asked for."""
    password = _read_password()

    row = run_with_context(
        lambda ctx: user_service.create_user(ctx, local_actor(), name, password, admin=admin)
    )
    kind = "admin" if row.is_admin else "user"
    click.echo(f'Created {kind} "{row.username}"; sign in at the dashboard.')


@user.command("list")
def user_list() -> None:
    """List dashboard users."""
    rows = run_with_context(user_service.list_users)
    if not rows:
        click.echo("No users yet; `tocsin user create NAME` makes one.")
    for row in rows:
        kind = "admin" if row.is_admin else "user"
        click.echo(f"{row.username}  {kind}  last sign-in {_when(row.last_login_at)}")


@user.command("delete")
@click.argument("name")
def user_delete(name: str) -> None:
    """Delete a user; their open sessions stop working at once."""

    async def work(ctx: Context) -> None:
        await user_service.delete_user(ctx, local_actor(), name)

    run_with_context(work)
    click.echo(f'Deleted user "{name}".')
