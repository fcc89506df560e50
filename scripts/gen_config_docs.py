"""Generate docs/configuration.md from tocsin.config.Settings.

Usage: ``.venv/bin/python scripts/gen_config_docs.py`` (write the file) or ``... --check``
(exit 1 when the file is out of date). tests/unit/test_config_docs.py runs the check too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic.fields import FieldInfo

from tocsin.config import Settings, env_name

DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
COMMAND = ".venv/bin/python scripts/gen_config_docs.py"

INTRO = (
    "tocsin reads these environment variables at start-up, and also a `.env` file in the working "
    "directory. A variable set in the environment wins over `.env`, and an empty value counts as "
    "unset. A bad value stops start-up with one line naming the variable and what is wrong. "
    "Secrets are never shown in logs or errors."
)


def _default_text(field: FieldInfo) -> str:
    default = field.default
    if default is None or "SecretStr" in str(field.annotation):
        return "unset"
    if isinstance(default, float) and default.is_integer():
        default = int(default)
    if isinstance(default, Path) and not default.is_absolute():
        default = f"./{default.as_posix()}"
    return f"`{default}`"


def _meaning(field: FieldInfo) -> str:
    return " ".join((field.description or "").split()).replace("|", "\\|")


def render_config_docs() -> str:
    """The Markdown of docs/configuration.md, generated from the Settings class."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from src/tocsin/config.py by scripts/gen_config_docs.py. -->",
        "This file is generated from `tocsin.config.Settings`; do not edit it by hand. After "
        "changing a setting, regenerate it with:",
        "",
        "```sh",
        COMMAND,
        "```",
        "",
        INTRO,
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        lines.append(f"| {env_name(name)} | {_default_text(field)} | {_meaning(field)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args(argv)
    wanted = render_config_docs()
    current = DOCS_PATH.read_text(encoding="utf-8") if DOCS_PATH.exists() else ""
    if args.check:
        if current != wanted:
            print(f"{DOCS_PATH.name} is out of date; run: {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        DOCS_PATH.write_text(wanted, encoding="utf-8")
        print(f"wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
