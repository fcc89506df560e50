"""`tocsin discord register-commands` against the fake Discord: a bulk overwrite of /incident,
/inc and the message commands, in the guild or globally, whose body fits Discord's spec; running
it twice changes nothing (the second run sends no PUT; forced, it sends the identical body)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from fakes.discord_api import APPLICATION_ID, BOT_TOKEN, GUILD_ID, FakeDiscord
from tocsin.adapters.cli.main import cli
from tocsin.platforms.discord.commands import command_definitions
from tocsin.platforms.discord.register import register_commands
from tocsin.platforms.discord.rest import DiscordRest

GUILD_PUT = "/applications/{application_id}/guilds/{guild_id}/commands"
GLOBAL_PUT = "/applications/{application_id}/commands"


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with FakeDiscord() as fake:
        yield fake
        assert fake.violations == []


async def test_registering_twice_changes_nothing(discord: FakeDiscord) -> None:
    """The first run PUTs every command to the guild; the second finds them there and sends no
    PUT; forced, it sends a byte-for-byte identical body and Discord keeps the same ids."""
    rest = DiscordRest(BOT_TOKEN, discord.api_url)
    first = await register_commands(rest, APPLICATION_ID, GUILD_ID)
    ids = [c["id"] for c in discord.commands[GUILD_ID]]
    second = await register_commands(rest, APPLICATION_ID, GUILD_ID)
    assert (first.changed, second.changed) == (True, False)
    assert len(discord.calls_to("PUT", GUILD_PUT)) == 1
    forced = await register_commands(rest, APPLICATION_ID, GUILD_ID, force=True)
    await rest.aclose()
    assert forced.changed
    puts = discord.calls_to("PUT", GUILD_PUT)
    assert len(puts) == 2
    assert puts[0].body == puts[1].body == command_definitions()
    assert [c["id"] for c in discord.commands[GUILD_ID]] == ids
    names = [c["name"] for c in discord.commands[GUILD_ID]]
    assert names == ["incident", "inc", "Declare incident", "Add to timeline"]


async def test_a_changed_command_set_is_sent_again(discord: FakeDiscord) -> None:
    """If what Discord has differs (an older tocsin, a hand edit), the run overwrites it."""
    rest = DiscordRest(BOT_TOKEN, discord.api_url)
    await register_commands(rest, APPLICATION_ID)
    discord.commands["global"][0]["options"][0]["description"] = "something older"
    again = await register_commands(rest, APPLICATION_ID)
    await rest.aclose()
    assert again.changed
    assert again.scope == "globally"
    assert len(discord.calls_to("PUT", GLOBAL_PUT)) == 2


def test_cli_registers_in_the_guild_then_reports_nothing_changed(
    discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The CLI reads TOCSIN_DISCORD_* and says what it did, in one line each time."""
    monkeypatch.chdir(tmp_path)
    env = {
        "TOCSIN_DISCORD_BOT_TOKEN": BOT_TOKEN,
        "TOCSIN_DISCORD_APPLICATION_ID": APPLICATION_ID,
        "TOCSIN_DISCORD_GUILD_ID": GUILD_ID,
        "TOCSIN_DISCORD_API_URL": discord.api_url,
    }
    runner = CliRunner()
    first = runner.invoke(cli, ["discord", "register-commands"], env=env)
    second = runner.invoke(cli, ["discord", "register-commands"], env=env)
    assert first.exit_code == 0, first.output
    assert first.output == "Registered 4 Discord commands in the guild.\n"
    assert "nothing changed" in second.output
    assert len(discord.calls_to("PUT", GUILD_PUT)) == 1


def test_cli_without_credentials_fails_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without a bot token and application id the command says which variables to set."""
    monkeypatch.chdir(tmp_path)
    for name in ("TOCSIN_DISCORD_BOT_TOKEN", "TOCSIN_DISCORD_APPLICATION_ID"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["discord", "register-commands"])
    assert result.exit_code == 2
    assert "TOCSIN_DISCORD_BOT_TOKEN" in result.output


def test_cli_reports_a_refused_token(
    discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A token Discord refuses is one line on stderr and a non-zero exit."""
    monkeypatch.chdir(tmp_path)
    discord.revoke_token()
    env = {
        "TOCSIN_DISCORD_BOT_TOKEN": "wrong",
        "TOCSIN_DISCORD_APPLICATION_ID": APPLICATION_ID,
        "TOCSIN_DISCORD_API_URL": discord.api_url,
    }
    result = CliRunner().invoke(cli, ["discord", "register-commands", "--global"], env=env)
    assert result.exit_code == 1
    assert "401" in result.output
