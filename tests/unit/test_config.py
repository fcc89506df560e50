"""Settings: defaults, sources, validation messages, derived values and the dev secret key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tocsin.config import ConfigError, Settings, load_settings
from tocsin.secret_key import secret_key

GOOD_KEY = "n7Qb2Zr9Lw4Xk1Vp8Ty3Hs6Jd0Fg5Mc_aE"  # 35 characters, not a placeholder

# The documented defaults (docs/configuration.md): variable -> default (None means unset).
DOCUMENTED_DEFAULTS: dict[str, object] = {
    "database_url": "sqlite:///./data/tocsin.db",
    "redis_url": None,
    "host": "127.0.0.1",
    "port": 8080,
    "metrics_port": None,
    "public_url": "http://127.0.0.1:8080",
    "log_level": "info",
    "log_format": "json",
    "policy_file": None,
    "secret_key": None,
    "slack_signing_secret": None,
    "slack_bot_token": None,
    "slack_app_token": None,
    "slack_announce_channel": None,
    "slack_api_url": "https://slack.com/api/",
    "discord_public_key": None,
    "discord_bot_token": None,
    "discord_application_id": None,
    "discord_guild_id": None,
    "discord_announce_channel": None,
    "discord_api_url": "https://discord.com/api/v10",
    "statuspage_api_key": None,
    "statuspage_page_id": None,
    "statuspage_api_url": "https://api.statuspage.io/v1",
    "pagerduty_routing_key": None,
    "pagerduty_api_url": "https://events.pagerduty.com",
}


def load(**env: str) -> Settings:
    """Settings from exactly these variables (no os.environ, no .env)."""
    return load_settings(env, env_file=None)


def test_defaults_equal_the_documented_table() -> None:
    """With nothing set, every variable has the default docs/configuration.md gives."""
    settings = load()
    for name, default in DOCUMENTED_DEFAULTS.items():
        assert getattr(settings, name) == default, name
    assert settings.env == "development"
    assert settings.shutdown_timeout == 10
    assert settings.data_dir == Path("./data")
    assert settings.drain_seconds == 0


def test_environment_variables_override_defaults() -> None:
    """TOCSIN_* variables set the matching fields, with the value parsed to its type."""
    settings = load(
        TOCSIN_PORT="9090",
        TOCSIN_HOST="10.1.2.3",
        TOCSIN_LOG_LEVEL="DEBUG",
        TOCSIN_LOG_FORMAT="console",
        TOCSIN_SLACK_BOT_TOKEN="xoxb-1",
        TOCSIN_SHUTDOWN_TIMEOUT="2.5",
    )
    assert (settings.port, settings.host) == (9090, "10.1.2.3")
    assert (settings.log_level, settings.log_format) == ("debug", "console")
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-1"
    assert settings.shutdown_timeout == 2.5


def test_os_environ_is_read_when_no_mapping_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """load_settings() without a mapping reads the process environment."""
    monkeypatch.setenv("TOCSIN_PORT", "8181")
    assert load_settings(env_file=None).port == 8181


def test_empty_value_counts_as_unset() -> None:
    """An empty variable (TOCSIN_METRICS_PORT=) keeps the default instead of failing."""
    settings = load(TOCSIN_METRICS_PORT="", TOCSIN_PORT="")
    assert settings.metrics_port is None
    assert settings.port == 8080


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    """Values come from the .env file, but a variable in the environment beats the file."""
    env_file = tmp_path / ".env"
    env_file.write_text("TOCSIN_PORT=7000\nTOCSIN_HOST=10.0.0.1\nOTHER_APP=x\n", encoding="utf-8")
    settings = load_settings({"TOCSIN_PORT": "7001"}, env_file=str(env_file))
    assert settings.host == "10.0.0.1"
    assert settings.port == 7001


def test_choices_and_ids_are_read_loosely() -> None:
    """Choices ignore case and spaces, a Discord key is lower-cased, ports and ids are trimmed."""
    settings = load(
        TOCSIN_LOG_LEVEL=" INFO ",
        TOCSIN_ENV="Development",
        TOCSIN_DISCORD_PUBLIC_KEY=" " + "AB" * 32,
        TOCSIN_DISCORD_GUILD_ID=" 123 ",
        TOCSIN_PORT=" 9000 ",
    )
    assert (settings.log_level, settings.env) == ("info", "development")
    assert settings.discord_public_key == "ab" * 32
    assert (settings.discord_guild_id, settings.port) == ("123", 9000)


def test_missing_dotenv_file_is_fine(tmp_path: Path) -> None:
    """A .env path that does not exist is simply not read."""
    assert load_settings({}, env_file=str(tmp_path / "absent.env")).port == 8080


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        ({"TOCSIN_PORT": "abc"}, "TOCSIN_PORT", "integer from 1 to 65535 (got 'abc')"),
        ({"TOCSIN_PORT": "70000"}, "TOCSIN_PORT", "1 to 65535"),
        ({"TOCSIN_METRICS_PORT": "0"}, "TOCSIN_METRICS_PORT", "1 to 65535"),
        ({"TOCSIN_METRICS_PORT": "8080"}, "TOCSIN_METRICS_PORT", "differ from TOCSIN_PORT"),
        ({"TOCSIN_DATABASE_URL": "mysql://db/x"}, "TOCSIN_DATABASE_URL", "postgresql://"),
        ({"TOCSIN_DATABASE_URL": "sqlite://tocsin.db"}, "TOCSIN_DATABASE_URL", "three slashes"),
        ({"TOCSIN_DATABASE_URL": "postgresql://h:x/db"}, "TOCSIN_DATABASE_URL", "valid URL"),
        ({"TOCSIN_REDIS_URL": "http://cache"}, "TOCSIN_REDIS_URL", "redis://"),
        ({"TOCSIN_PUBLIC_URL": "localhost:8080"}, "TOCSIN_PUBLIC_URL", "http://"),
        ({"TOCSIN_SLACK_API_URL": "https://"}, "TOCSIN_SLACK_API_URL", "host name"),
        ({"TOCSIN_LOG_LEVEL": "loud"}, "TOCSIN_LOG_LEVEL", "debug, info, warning or error"),
        ({"TOCSIN_LOG_FORMAT": "xml"}, "TOCSIN_LOG_FORMAT", "json or console"),
        ({"TOCSIN_ENV": "staging"}, "TOCSIN_ENV", "development or production"),
        ({"TOCSIN_SHUTDOWN_TIMEOUT": "-1"}, "TOCSIN_SHUTDOWN_TIMEOUT", "greater than 0"),
        ({"TOCSIN_SHUTDOWN_TIMEOUT": "0"}, "TOCSIN_SHUTDOWN_TIMEOUT", "greater than 0"),
        ({"TOCSIN_DRAIN_SECONDS": "soon"}, "TOCSIN_DRAIN_SECONDS", "0 or more"),
        ({"TOCSIN_SHUTDOWN_TIMEOUT": "nan"}, "TOCSIN_SHUTDOWN_TIMEOUT", "greater than 0"),
        (
            {"TOCSIN_DELIVERY_MAX_ATTEMPTS": "0"},
            "TOCSIN_DELIVERY_MAX_ATTEMPTS",
            "must be an integer greater than 0 (got '0')",
        ),
        ({"TOCSIN_COMMANDER_NAG_MINUTES": "-1"}, "TOCSIN_COMMANDER_NAG_MINUTES", "0 or more"),
        ({"TOCSIN_POLICY_FILE": "/no/such/policy.toml"}, "TOCSIN_POLICY_FILE", "no such file"),
        ({"TOCSIN_DISCORD_PUBLIC_KEY": "xyz"}, "TOCSIN_DISCORD_PUBLIC_KEY", "64 hexadecimal"),
        ({"TOCSIN_DISCORD_GUILD_ID": "abc"}, "TOCSIN_DISCORD_GUILD_ID", "digits"),
        ({"TOCSIN_ENV": "production"}, "TOCSIN_SECRET_KEY", "required"),
        (
            {"TOCSIN_ENV": "production", "TOCSIN_SECRET_KEY": "changeme"},
            "TOCSIN_SECRET_KEY",
            "at least 32 characters",
        ),
        (
            {"TOCSIN_ENV": "production", "TOCSIN_SECRET_KEY": "x" * 40},
            "TOCSIN_SECRET_KEY",
            "placeholder",
        ),
        (
            {"TOCSIN_ENV": "production", "TOCSIN_SECRET_KEY": "changeme-" + GOOD_KEY},
            "TOCSIN_SECRET_KEY",
            "placeholder",
        ),
    ],
)
def test_bad_value_is_one_line_naming_the_variable(
    env: dict[str, str], variable: str, words: str
) -> None:
    """Every bad value stops loading with one line: the variable, then what is wrong."""
    with pytest.raises(ConfigError) as caught:
        load_settings(env, env_file=None)
    message = str(caught.value)
    assert message.startswith(f"{variable}: ")
    assert words in message
    assert "\n" not in message
    assert caught.value.variable == variable


def test_error_never_shows_a_secret_or_password() -> None:
    """Messages about secrets and URLs with passwords do not repeat the secret."""
    with pytest.raises(ConfigError) as caught:
        load(TOCSIN_ENV="production", TOCSIN_SECRET_KEY="changeme-hunter2")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load(TOCSIN_DATABASE_URL="mysql://tocsin:hunter2@db/tocsin")
    assert "hunter2" not in str(caught.value)
    assert "***" in str(caught.value)


def test_several_bad_values_still_give_one_line() -> None:
    """With two bad values, the message is still one line and names the other variable too."""
    with pytest.raises(ConfigError) as caught:
        load(TOCSIN_PORT="abc", TOCSIN_LOG_FORMAT="xml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("TOCSIN_")
    assert "TOCSIN_PORT" in message
    assert "TOCSIN_LOG_FORMAT" in message


def test_production_accepts_a_strong_secret_key() -> None:
    """A long random key passes the production check."""
    settings = load(TOCSIN_ENV="production", TOCSIN_SECRET_KEY=GOOD_KEY)
    assert settings.env == "production"
    assert secret_key(settings) == GOOD_KEY


def test_repr_hides_secrets_and_database_password() -> None:
    """repr(settings) can be logged: no secret values, no password in URLs."""
    settings = load(
        TOCSIN_SLACK_BOT_TOKEN="xoxb-hunter2",
        TOCSIN_DATABASE_URL="postgresql://tocsin:hunter2@db:5432/tocsin",
        TOCSIN_REDIS_URL="redis://:hunter2@cache:6379/0",
    )
    assert "hunter2" not in repr(settings)
    assert "db:5432" in repr(settings)


@pytest.mark.parametrize(
    ("url", "async_url", "sqlite"),
    [
        ("sqlite:///./data/tocsin.db", "sqlite+aiosqlite:///./data/tocsin.db", True),
        ("sqlite:////var/lib/tocsin.db", "sqlite+aiosqlite:////var/lib/tocsin.db", True),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db", True),
        ("postgresql://u:p@db:5432/t", "postgresql+asyncpg://u:p@db:5432/t", False),
        ("postgresql+asyncpg://u@db/t", "postgresql+asyncpg://u@db/t", False),
    ],
)
def test_async_database_url_picks_the_async_driver(url: str, async_url: str, sqlite: bool) -> None:
    """sqlite:// becomes sqlite+aiosqlite://, postgresql:// becomes postgresql+asyncpg://."""
    settings = load(TOCSIN_DATABASE_URL=url)
    assert settings.async_database_url == async_url
    assert settings.is_sqlite is sqlite


def test_public_url_loses_its_trailing_slash() -> None:
    """Links are built as public_url + path, so a trailing slash is dropped."""
    assert load(TOCSIN_PUBLIC_URL="https://tocsin.example.com/").public_url == (
        "https://tocsin.example.com"
    )


def test_platform_status_names_the_variables_that_enable_each_platform() -> None:
    """With no credentials every platform is off, and the hint names its variables."""
    status = {name: (enabled, hint) for name, enabled, hint in load().platform_status()}
    assert list(status) == ["slack", "discord", "statuspage", "pagerduty"]
    assert not any(enabled for enabled, _ in status.values())
    assert status["slack"][1] == (
        "set TOCSIN_SLACK_SIGNING_SECRET and TOCSIN_SLACK_BOT_TOKEN to enable it"
    )
    assert "TOCSIN_DISCORD_APPLICATION_ID" in status["discord"][1]
    assert status["pagerduty"][1] == "set TOCSIN_PAGERDUTY_ROUTING_KEY to enable it"


def test_platform_status_enabled_and_partly_configured() -> None:
    """Complete credentials enable a platform; a partial set names only what is missing."""
    settings = load(
        TOCSIN_SLACK_BOT_TOKEN="xoxb-1",
        TOCSIN_SLACK_APP_TOKEN="xapp-1",
        TOCSIN_STATUSPAGE_PAGE_ID="page",
        TOCSIN_PAGERDUTY_ROUTING_KEY="key",
    )
    status = {name: (enabled, hint) for name, enabled, hint in settings.platform_status()}
    assert status["slack"] == (True, "slack over Socket Mode enabled")
    assert status["pagerduty"][0] is True
    assert status["statuspage"] == (False, "set TOCSIN_STATUSPAGE_API_KEY to enable it")


def test_dev_secret_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    """In development without a key, one is stored (mode 0600) and the same one comes back."""
    settings = load(TOCSIN_DATA_DIR=str(tmp_path / "data"))
    first = secret_key(settings)
    stored = tmp_path / "data" / "secret_key"
    assert stored.read_text(encoding="utf-8").strip() == first
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    assert len(first) >= 32
    assert secret_key(load(TOCSIN_DATA_DIR=str(tmp_path / "data"))) == first
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret_key"]


def test_dev_secret_key_replaces_an_empty_file(tmp_path: Path) -> None:
    """An empty key file (left by a crash) is replaced by a real key."""
    (tmp_path / "secret_key").write_text("", encoding="utf-8")
    key = secret_key(load(TOCSIN_DATA_DIR=str(tmp_path)))
    assert len(key) >= 32
    assert (tmp_path / "secret_key").read_text(encoding="utf-8").strip() == key


def test_configured_secret_key_wins_in_development(tmp_path: Path) -> None:
    """A TOCSIN_SECRET_KEY given in development is used and nothing is written."""
    settings = load(TOCSIN_SECRET_KEY="dev-key", TOCSIN_DATA_DIR=str(tmp_path))
    assert secret_key(settings) == "dev-key"
    assert not (tmp_path / "secret_key").exists()


def test_unwritable_data_dir_is_a_config_error(tmp_path: Path) -> None:
    """When the key cannot be stored, the error names TOCSIN_DATA_DIR on one line."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        secret_key(load(TOCSIN_DATA_DIR=str(blocker / "data")))
    assert str(caught.value).startswith("TOCSIN_DATA_DIR: ")
    assert "\n" not in str(caught.value)


def test_settings_are_read_only() -> None:
    """Settings are built once and passed down; nobody changes them on the way."""
    settings = load()
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1


def test_smtp_url_is_checked_and_needs_a_sender_address() -> None:
    """TOCSIN_SMTP_URL takes smtp:// or smtps:// with a host; without TOCSIN_SMTP_FROM it is a
    one-line error naming that variable; the password never shows in the error or the repr."""
    with pytest.raises(ConfigError, match="TOCSIN_SMTP_URL"):
        load_settings({"TOCSIN_SMTP_URL": "http://mail.example.test"}, env_file=None)
    with pytest.raises(ConfigError, match="TOCSIN_SMTP_FROM") as missing:
        load_settings({"TOCSIN_SMTP_URL": "smtp://u:hunter2@mail.example.test"}, env_file=None)
    assert "hunter2" not in str(missing.value)
    settings = load_settings(
        {"TOCSIN_SMTP_URL": "smtps://u:hunter2@mail.example.test", "TOCSIN_SMTP_FROM": "s@x.test"},
        env_file=None,
    )
    assert "hunter2" not in repr(settings)
