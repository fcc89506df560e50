"""The domain is pure: modules under ``src/tocsin/domain`` import only the standard library and
``tocsin.domain`` itself (imports under ``TYPE_CHECKING`` count too). Checked on the source with
:mod:`ast`, so a forbidden import fails here even if it is never executed."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "tocsin" / "domain"
PACKAGE = "tocsin.domain"


def _resolve(node: ast.ImportFrom, package: str) -> str:
    """The absolute module name an ``ImportFrom`` refers to (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    parts = package.split(".")
    if node.level > len(parts):
        return "." * node.level + (node.module or "")  # beyond the top: certainly outside
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _allowed(module: str) -> bool:
    if module == PACKAGE or module.startswith(PACKAGE + "."):
        return True
    return module.split(".")[0] in sys.stdlib_module_names


def forbidden_imports(source: str, package: str = PACKAGE) -> list[str]:
    """Every imported module in ``source`` that is neither stdlib nor ``tocsin.domain``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [_resolve(node, package)]
        else:
            continue
        found += [name for name in names if not _allowed(name)]
    return found


def _modules() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def test_the_domain_package_is_found() -> None:
    """The checker looks at the real domain package (a wrong path would pass vacuously)."""
    names = {path.stem for path in _modules()}
    assert {"model", "commands", "policy", "permissions", "audit", "routing"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.stem)
def test_domain_module_imports_only_stdlib_and_domain(path: Path) -> None:
    """Each domain module imports nothing but the standard library and tocsin.domain."""
    package = ".".join(["tocsin", *path.relative_to(DOMAIN.parent).parent.parts])
    bad = forbidden_imports(path.read_text(encoding="utf-8"), package)
    assert bad == [], f"{path.name} imports {bad}; domain/ must stay standard-library only"


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import sqlalchemy", ["sqlalchemy"]),
        ("import os, structlog.stdlib", ["structlog.stdlib"]),
        ("from pydantic import BaseModel", ["pydantic"]),
        ("from tocsin.storage import db", ["tocsin.storage"]),
        ("from tocsin import config", ["tocsin"]),
        ("from ..storage import db", ["tocsin.storage"]),
        ("from ... import anything", ["..."]),
        ("if TYPE_CHECKING:\n    import httpx", ["httpx"]),
        ("def f():\n    import starlette", ["starlette"]),
    ],
)
def test_the_checker_catches_forbidden_imports(source: str, bad: list[str]) -> None:
    """The gate can fail: third-party and non-domain tocsin imports are reported, wherever
    they appear (module level, TYPE_CHECKING blocks, inside functions, relative)."""
    assert forbidden_imports(source) == bad


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations",
        "import json, hashlib, re",
        "from collections.abc import Mapping",
        "from tocsin.domain.model import Incident",
        "from . import model",
        "from .errors import ParseError",
    ],
)
def test_the_checker_allows_stdlib_and_domain_imports(source: str) -> None:
    """Standard-library and tocsin.domain imports (absolute or relative) pass."""
    assert forbidden_imports(source) == []
