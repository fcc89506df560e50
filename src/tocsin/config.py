"""Settings: one object, built once at start-up by :func:`load_settings` and passed down.

Every variable is ``TOCSIN_<FIELD>``, read from the environment and from ``.env`` (the
environment wins; an empty value counts as unset). A bad value raises :class:`ConfigError`,
whose message is one line naming the variable and what is wrong. Nothing here runs at import
time. ``scripts/gen_config_docs.py`` generates ``docs/configuration.md`` from it. The field
types and the URL and secret key rules are in ``config_checks.py``; the wording of a pydantic
error in ``config_errors.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tocsin.config_checks import (
    DiscordId,
    HexKey,
    Lower,
    Port,
    check_url,
    or_list,
    redact,
    secret_key_problem,
)
from tocsin.config_errors import describe

ENV_PREFIX = "TOCSIN_"
_DATABASE_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgresql", "postgresql+asyncpg")
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_URL_FIELDS = (
    "public_url",
    "slack_api_url",
    "discord_api_url",
    "statuspage_api_url",
    "pagerduty_api_url",
)
_ENV_OVERRIDE: ContextVar[Mapping[str, str] | None] = ContextVar("tocsin_env", default=None)


class ConfigError(Exception):
    """A setting is missing or wrong; ``str()`` is one line: ``"VARIABLE: what is wrong"``."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


def env_name(field_name: str) -> str:
    """The environment variable that sets ``field_name`` (``port`` -> ``TOCSIN_PORT``)."""
    return f"{ENV_PREFIX}{field_name.upper()}"


class _MappingSource(PydanticBaseSettingsSource):
    """Reads ``TOCSIN_*`` values from a given mapping instead of ``os.environ`` (for tests)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._env = {key.upper(): value for key, value in env.items()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._env.get(env_name(field_name)), field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {
            name: self.get_field_value(f, name)[0]
            for name, f in self.settings_cls.model_fields.items()
        }
        return {name: value for name, value in found.items() if value not in (None, "")}


class Settings(BaseSettings):
    """Everything tocsin reads from its environment. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        use_attribute_docstrings=True,
    )

    env: Annotated[Literal["development", "production"], Lower] = "development"
    """`development` or `production`. Production requires TOCSIN_SECRET_KEY."""
    database_url: str = "sqlite:///./data/tocsin.db"
    """`sqlite:///path` or `postgresql://user:pw@host/db` (tocsin picks the async driver;
    `sqlite+aiosqlite://` and `postgresql+asyncpg://` are accepted too)."""
    redis_url: str | None = None
    """Optional Redis (`redis://host:6379/0`): shared cache and rate limiter for replicas."""
    host: str = "127.0.0.1"
    """Address the HTTP listener binds to."""
    port: Port = 8080
    """Port of the HTTP listener."""
    metrics_port: Port | None = None
    """When set, `/metrics` is served only on this port."""
    worker_metrics_port: Port | None = None
    """When set, `tocsin worker` serves `/metrics` and `/healthz` on this port (unset: no
    listener)."""
    worker_metrics_host: str = "127.0.0.1"
    """Address the `tocsin worker` metrics listener binds to (`0.0.0.0` in a container)."""
    public_url: str = "http://127.0.0.1:8080"
    """Base of the links tocsin posts (a trailing slash is dropped)."""
    log_level: Annotated[Literal["debug", "info", "warning", "error"], Lower] = "info"
    """`debug`, `info`, `warning` or `error`."""
    log_format: Annotated[Literal["json", "console"], Lower] = "json"
    """`json` (one JSON object per line on stdout) or `console` for humans."""
    policy_file: FilePath | None = None
    """TOML policy: severities, routing, roles, permissions, components, schedules.
    Unset means the built-in defaults."""
    secret_key: SecretStr | None = None
    """Signs sessions. In development it is generated and stored in TOCSIN_DATA_DIR on first
    run; in production it is required (at least 32 random characters)."""
    data_dir: Path = Path("./data")
    """Directory for local state such as the generated development secret key."""
    shutdown_timeout: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    """Seconds to finish in-flight requests and worker jobs after SIGTERM before stopping."""
    drain_seconds: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    """Seconds to keep serving after SIGTERM while `/ready` answers 503, so a load balancer
    stops sending traffic first (5 is a good start behind one; 0 skips the wait)."""
    slack_signing_secret: SecretStr | None = None
    """Slack signing secret; with TOCSIN_SLACK_BOT_TOKEN it enables Slack over HTTP."""
    slack_bot_token: SecretStr | None = None
    """Slack bot token (`xoxb-...`)."""
    slack_app_token: SecretStr | None = None
    """Slack app token (`xapp-...`) for Socket Mode (no public URL needed)."""
    slack_announce_channel: str | None = None
    """Slack channel id where declarations are announced (the policy may route per severity)."""
    slack_api_url: str = "https://slack.com/api/"
    """Slack Web API base URL (tests point it at a fake)."""
    slack_archive_after_hours: float = Field(default=24.0, gt=0)
    """Hours after an incident is resolved before its Slack channel is archived (a reopen in
    between keeps it open)."""
    discord_public_key: HexKey | None = None
    """Discord application public key (64 hexadecimal characters)."""
    discord_bot_token: SecretStr | None = None
    """Discord bot token."""
    discord_application_id: DiscordId | None = None
    """Discord application id."""
    discord_guild_id: DiscordId | None = None
    """Discord server (guild) id to register the commands in."""
    discord_announce_channel: str | None = None
    """Discord channel id where declarations are announced."""
    discord_api_url: str = "https://discord.com/api/v10"
    """Discord REST API base URL."""
    discord_incident_space: Annotated[Literal["channel", "thread"], Lower] = "channel"
    """Where an incident lives in Discord: its own text channel (`channel`) or a public thread
    in the announce channel (`thread`)."""
    discord_category_id: DiscordId | None = None
    """Discord category id under which incident channels are created (optional)."""
    discord_archive_after_hours: float = Field(default=24.0, gt=0)
    """Hours after an incident is resolved before its Discord channel is locked or its thread
    archived (a reopen in between keeps it open)."""
    statuspage_api_key: SecretStr | None = None
    """Statuspage.io API key; with TOCSIN_STATUSPAGE_PAGE_ID it enables status page sync."""
    statuspage_page_id: str | None = None
    """Statuspage.io page id."""
    statuspage_api_url: str = "https://api.statuspage.io/v1"
    """Statuspage REST API base URL."""
    pagerduty_routing_key: SecretStr | None = None
    """PagerDuty Events v2 routing key; enables paging through PagerDuty."""
    pagerduty_api_url: str = "https://events.pagerduty.com"
    """PagerDuty Events API base URL."""
    webhook_url: str | None = None
    """URL that receives tocsin's outgoing webhook deliveries: a JSON POST per event with an
    `Idempotency-Key` header, signed with TOCSIN_WEBHOOK_SECRET (see docs/delivery.md)."""
    webhook_secret: SecretStr | None = None
    """Secret for the `X-Tocsin-Signature` HMAC-SHA256 header of outgoing webhooks."""
    smtp_url: SecretStr | None = None
    """Mail server for status-page subscribers: `smtp://user:password@host:587` (STARTTLS when
    the server offers it) or `smtps://user:password@host:465` (implicit TLS); the login is used
    when a user is given. Kept secret: never logged (see docs/status-page.md)."""
    smtp_from: str | None = None
    """Sender address of tocsin's mail, e.g. `Status <status@example.com>`; required with
    TOCSIN_SMTP_URL."""
    delivery_max_attempts: int = Field(default=25, gt=0)
    """Attempts at one delivery (a message, a page, a status update) before it is marked dead;
    `tocsin deliveries retry` brings dead ones back."""
    delivery_max_age: float = Field(default=86400.0, gt=0)
    """Seconds a delivery may wait, counted from when it was queued, before it is marked dead
    instead of sent late (default one day)."""
    delivery_lease: float = Field(default=60.0, gt=0)
    """The longest a worker holds one delivery it claimed (one attempt gets at most half of it,
    up to 30 s); a worker that hangs on a delivery for longer loses it to another one."""
    delivery_heartbeat: float = Field(default=5.0, gt=0)
    """Seconds between a worker's renewals of the deliveries it holds. A worker that stops
    renewing (killed, frozen) loses them after three missed renewals, so another worker (or
    the restarted one) sends them at once; on SQLite a restart takes them back straight away."""
    commander_nag_minutes: int = Field(default=10, ge=0)
    """Minutes between polite requests in an incident channel for someone to take command, while
    nobody (human) has it; the first comes that long after the declaration. 0 turns it off."""
    monitor_allow_private: bool = False
    """Let monitors created through the API by someone who is not an admin target private,
    loopback, link-local and other internal addresses; off, such monitors (and every redirect
    they follow) may reach public addresses only (see docs/monitors.md, "Private addresses")."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        override = _ENV_OVERRIDE.get()
        if override is not None:
            env_settings = _MappingSource(settings_cls, override)
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    @field_validator("database_url", mode="before")
    @classmethod
    def _check_database_url(cls, value: object) -> str:
        return check_url(str(value), _DATABASE_SCHEMES, need_host=False)

    @field_validator("redis_url", mode="before")
    @classmethod
    def _check_redis_url(cls, value: object) -> str | None:
        if value is None:
            return None
        return check_url(str(value), ("redis", "rediss", "unix"), need_host=False)

    @field_validator(*_URL_FIELDS, mode="before")
    @classmethod
    def _check_http_url(cls, value: object) -> str:
        return check_url(str(value), ("http", "https"))

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _check_webhook_url(cls, value: object) -> str | None:
        return None if value is None else check_url(str(value), ("http", "https"))

    @field_validator("smtp_url", mode="after")
    @classmethod
    def _check_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parts = urlsplit(value.get_secret_value())
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ValueError("must be smtp://[user:password@]host[:port] or smtps://...")
        return value

    @field_validator("public_url", mode="after")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_together(self) -> Settings:
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ConfigError(
                env_name("metrics_port"), f"must differ from TOCSIN_PORT ({self.port})"
            )
        if self.smtp_url is not None and not self.smtp_from:
            raise ConfigError(env_name("smtp_from"), "is required with TOCSIN_SMTP_URL")
        if self.env == "production":
            problem = secret_key_problem(self.secret_key)
            if problem:
                raise ConfigError(env_name("secret_key"), problem)
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Like pydantic's, with passwords in URLs replaced by ``***``."""
        for name, value in super().__repr_args__():
            yield name, redact(value) if name in ("database_url", "redis_url") and value else value

    @property
    def async_database_url(self) -> str:
        """The database URL with tocsin's async driver (aiosqlite or asyncpg)."""
        scheme, sep, rest = self.database_url.partition("://")
        return f"{_ASYNC_DRIVERS.get(scheme.lower(), scheme)}{sep}{rest}"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite (the embedded default)."""
        return self.database_url.lower().startswith("sqlite")

    def platform_status(self) -> list[tuple[str, bool, str]]:
        """``(platform, enabled, detail)`` for slack, discord, statuspage and pagerduty.

        ``detail`` names the variables that would enable a disabled platform, or says how an
        enabled one runs. Slack runs over Socket Mode when TOCSIN_SLACK_APP_TOKEN is set.
        """
        socket_mode = self.slack_app_token is not None
        slack = ("slack_app_token" if socket_mode else "slack_signing_secret", "slack_bot_token")
        discord = ("discord_public_key", "discord_bot_token", "discord_application_id")
        return [
            self._status("slack", slack, "over Socket Mode" if socket_mode else "over HTTP"),
            self._status("discord", discord, "over HTTP"),
            self._status("statuspage", ("statuspage_api_key", "statuspage_page_id"), "sync"),
            self._status("pagerduty", ("pagerduty_routing_key",), "paging"),
        ]

    def _status(self, platform: str, needed: tuple[str, ...], how: str) -> tuple[str, bool, str]:
        missing = [env_name(name) for name in needed if not getattr(self, name)]
        if not missing:
            return platform, True, f"{platform} {how} enabled"
        return platform, False, f"set {or_list(missing, 'and')} to enable it"


def _config_error(exc: ValidationError) -> ConfigError:
    errors = exc.errors()
    first = errors[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    field = Settings.model_fields.get(name)
    secret = field is not None and "SecretStr" in str(field.annotation)
    variable = env_name(name) if name else "configuration"
    problem = describe(first, field, secret=secret)
    others = sorted({env_name(str(e["loc"][0])) for e in errors[1:] if e["loc"]} - {variable})
    if others:
        problem += f"; also check {', '.join(others)}"
    return ConfigError(variable, problem)


def load_settings(env: Mapping[str, str] | None = None, env_file: str | None = ".env") -> Settings:
    """Build the settings from ``env`` (default ``os.environ``) and ``env_file`` (env wins).

    Raises :class:`ConfigError` with one line naming the first bad variable.
    """
    token = _ENV_OVERRIDE.set(env)
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise _config_error(exc) from None
    finally:
        _ENV_OVERRIDE.reset(token)
