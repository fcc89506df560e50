"""Every platform folder with an outbox sender is named in the one sender table, under its folder's
name, by the builder its ``sender.py`` defines: adding a platform is a folder and a line, and a
folder whose line is missing (or a line pointing at another module) fails here."""

from __future__ import annotations

from pathlib import Path

from tocsin.config import load_settings
from tocsin.domain.policy import default_policy
from tocsin.platforms.registry import SENDER_GROUPS, SENDERS, build_senders, find_factory

PLATFORMS = Path(__file__).resolve().parents[2] / "src" / "tocsin" / "platforms"


def test_every_sender_module_is_in_the_table() -> None:
    """The tables' names are exactly the folders holding a ``sender.py``, and each entry is that
    module's ``build_<name>_sender`` (``build_<name>_senders`` for a group of senders)."""
    folders = {p.parent.name for p in PLATFORMS.glob("*/sender.py")}
    assert set(SENDERS) | set(SENDER_GROUPS) == folders
    assert not set(SENDERS) & set(SENDER_GROUPS)
    for name, group in SENDER_GROUPS.items():
        assert group.__module__ == f"tocsin.platforms.{name}.sender"
        assert group.__name__ == f"build_{name}_senders"
    for name, factory in SENDERS.items():
        assert factory.__module__ == f"tocsin.platforms.{name}.sender"
        assert factory.__name__ == f"build_{name}_sender"
        assert find_factory(name) is factory
    assert find_factory("carrier-pigeon") is None


def test_no_credentials_no_senders() -> None:
    """With no platform's credentials set, the table builds no sender at all."""
    settings = load_settings({}, env_file=None)
    assert build_senders(settings, default_policy(), enabled=frozenset({"slack"})) == {}
