"""Registering tocsin's application commands with a bulk overwrite.

One ``PUT`` replaces the whole set (``/incident``, ``/inc`` and the message commands), globally
or in one guild (TOCSIN_DISCORD_GUILD_ID: changes show at once there, while global ones may take
a while to reach every client). Running it again changes nothing: the current set is read first
and, when Discord already has exactly these commands, nothing is sent (``force`` sends anyway;
the body is the same every time, so Discord keeps the same commands and ids).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tocsin.platforms.discord.commands import command_definitions
from tocsin.platforms.discord.rest import DiscordRest

_DEFAULTS: dict[str, Any] = {"required": False}


@dataclass(frozen=True, slots=True)
class Registration:
    path: str
    changed: bool
    count: int

    @property
    def scope(self) -> str:
        return "in the guild" if "/guilds/" in self.path else "globally"


def commands_path(application_id: str, guild_id: str | None = None) -> str:
    if guild_id:
        return f"/applications/{application_id}/guilds/{guild_id}/commands"
    return f"/applications/{application_id}/commands"


def _covers(have: Any, want: Any) -> bool:
    """Does what Discord has (``have``) say everything we send (``want``)? Extra fields Discord
    adds (ids, versions, localizations) do not matter; a missing ``required`` means false."""
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            return False
        return all(_covers(have.get(key, _DEFAULTS.get(key)), value) for key, value in want.items())
    if isinstance(want, list):
        return (
            isinstance(have, list)
            and len(have) == len(want)
            and all(_covers(h, w) for h, w in zip(have, want, strict=True))
        )
    return bool(have == want)


def up_to_date(current: Any, wanted: list[dict[str, Any]]) -> bool:
    if not isinstance(current, list) or len(current) != len(wanted):
        return False
    by_name = {(c.get("type", 1), c.get("name")): c for c in current if isinstance(c, Mapping)}
    return all(_covers(by_name.get((w["type"], w["name"])), w) for w in wanted)


async def register_commands(
    rest: DiscordRest, application_id: str, guild_id: str | None = None, *, force: bool = False
) -> Registration:
    """Make Discord's command set tocsin's; say whether anything had to change."""
    path = commands_path(application_id, guild_id)
    wanted = command_definitions()
    if not force and up_to_date(await rest.request("GET", path), wanted):
        return Registration(path, False, len(wanted))
    await rest.request("PUT", path, json=wanted)
    return Registration(path, True, len(wanted))
