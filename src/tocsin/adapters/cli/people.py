"""``tocsin person list [--json] | show NAME | set-contact NAME CONTACT URL | remove-contact NAME
CONTACT | set-rule NAME default|urgent STEP...``: people's contact methods and rules, kept in the
database over the policy file's ``[[person]]`` entries (docs/oncall.md, "Editing people").

NAME is a person's id, one of their ``also`` ids, or their name. Contact URLs are always shown
masked. Bad input (an unknown person, a malformed URL, a rule naming an unknown contact) is one
line on stderr, exit 2 (a missing person: 1), and changes nothing.
"""

from __future__ import annotations

import json

import click

from tocsin.adapters.cli.common import local_actor, run_with_context
from tocsin.adapters.cli.errors import ReportingGroup
from tocsin.domain.notify import Person
from tocsin.domain.person_edits import RULES
from tocsin.services import person_edits as service
from tocsin.services.people import people_view


@click.group("person", cls=ReportingGroup)
def person() -> None:
    """People's contact methods and notification rules (stored edits win over the policy file)."""


def _show(found: Person) -> None:
    [item] = people_view([found])["items"]
    click.echo(f"{found.id}  {found.name}  ({found.timezone})")
    if found.also:
        click.echo(f"  also: {', '.join(found.also)}")
    for name, url in item["contacts"].items():
        click.echo(f"  contact {name}: {url}")
    click.echo(f"  default_rule: {', '.join(item['default_rule']) or '-'}")
    click.echo(f"  urgent_rule: {', '.join(item['urgent_rule']) or '-'}")


@person.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document (contacts masked).")
def person_list(as_json: bool) -> None:
    """Every person with their contacts (masked) and rules."""
    people = run_with_context(service.list_people)
    if as_json:
        click.echo(json.dumps(people_view(people), indent=2))
        return
    if not people:
        click.echo("No [[person]] in the policy file.")
    for found in people:
        _show(found)


@person.command("show")
@click.argument("name")
def person_show(name: str) -> None:
    """One person: contacts (masked) and rules."""
    _show(run_with_context(lambda ctx: service.find(ctx, name)))


@person.command("set-contact")
@click.argument("name")
@click.argument("contact")
@click.argument("url")
def person_set_contact(name: str, contact: str, url: str) -> None:
    """Add or replace CONTACT (mailto:... or an Apprise URL) of NAME."""
    found = run_with_context(
        lambda ctx: service.set_contact(ctx, local_actor(), name, contact, url)
    )
    _show(found)


@person.command("remove-contact")
@click.argument("name")
@click.argument("contact")
def person_remove_contact(name: str, contact: str) -> None:
    """Remove CONTACT of NAME (change the rules that name it first)."""
    found = run_with_context(lambda ctx: service.remove_contact(ctx, local_actor(), name, contact))
    _show(found)


@person.command("set-rule")
@click.argument("name")
@click.argument("which", type=click.Choice(RULES))
@click.argument("steps", nargs=-1, required=True)
def person_set_rule(name: str, which: str, steps: tuple[str, ...]) -> None:
    """Replace NAME's default or urgent rule: STEPS like slack "phone after 5m"."""
    found = run_with_context(lambda ctx: service.set_rule(ctx, local_actor(), name, which, steps))
    _show(found)
