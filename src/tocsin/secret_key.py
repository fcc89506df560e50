"""The key that signs sessions and status-page cache entries, and its file in development.

:mod:`tocsin.config` checks a configured key (required and strong in production); this module
finds the key to use, generating and storing one on first run when none is configured.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from tocsin.config import ConfigError, Settings, env_name

KEY_FILE = "secret_key"


def secret_key(settings: Settings) -> str:
    """The key that signs sessions.

    The setting when given (always, in production). In development without one, a key is
    generated once, stored in ``{data_dir}/secret_key`` (mode 0600) and reused afterwards.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.env == "production":  # pragma: no cover - the validator already refused this
        raise ConfigError(env_name("secret_key"), "is required when TOCSIN_ENV=production")
    path = settings.data_dir / KEY_FILE
    try:
        return read_or_create_key(path)
    except OSError as exc:
        problem = f"cannot store the generated secret key in {str(path)!r}: {exc.strerror or exc}"
        raise ConfigError(env_name("data_dir"), problem) from None


def read_or_create_key(path: Path) -> str:
    """The key stored at ``path``; a new random one, written atomically, when there is none."""
    if path.is_file():
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{KEY_FILE}.")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # atomic and refuses to overwrite: a concurrent start-up wins once
        except FileExistsError:
            stored = path.read_text(encoding="utf-8").strip()
            if stored:
                return stored
            os.replace(tmp, path)  # an empty file left by a crash: replace it
        return key
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
