"""docs/configuration.md is generated from the Settings class and must stay current."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from tocsin.config import Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_config_docs.py"
DOCS = ROOT / "docs" / "configuration.md"


def load_generator() -> Any:
    """Import scripts/gen_config_docs.py, which is not part of the package."""
    spec = importlib.util.spec_from_file_location("gen_config_docs", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_docs_are_up_to_date() -> None:
    """The committed docs equal what the generator produces from the code today."""
    generator = load_generator()
    current = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert current == generator.render_config_docs(), (
        f"docs/configuration.md is out of date; run: {generator.COMMAND}"
    )


def test_every_setting_is_documented() -> None:
    """Each setting has a description and a row naming its variable in the docs."""
    text = load_generator().render_config_docs()
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"| {env_name(name)} |" in text


def test_docs_say_how_to_regenerate_and_hide_secrets() -> None:
    """The header says the file is generated and how; secrets show as unset."""
    text = load_generator().render_config_docs()
    assert "generated" in text.splitlines()[3]
    assert ".venv/bin/python scripts/gen_config_docs.py" in text
    assert "| TOCSIN_SECRET_KEY | unset |" in text
    assert "| TOCSIN_SLACK_BOT_TOKEN | unset |" in text
    assert "| TOCSIN_PORT | `8080` |" in text


def test_check_mode_reports_stale_docs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`gen_config_docs.py --check` exits 1 for a stale file and 0 after regenerating it."""
    generator = load_generator()
    generator.DOCS_PATH = tmp_path / "configuration.md"
    generator.DOCS_PATH.write_text("stale\n", encoding="utf-8")
    assert generator.main(["--check"]) == 1
    assert (
        "out of date; run: .venv/bin/python scripts/gen_config_docs.py" in capsys.readouterr().err
    )
    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0
    assert generator.DOCS_PATH.read_text(encoding="utf-8") == generator.render_config_docs()
