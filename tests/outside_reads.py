"""A guard that the test suite reads nothing beside the repository.

The repository must stand on its own: a clone in an empty folder passes its tests. An audit hook
(:func:`sys.addaudithook`) sees every ``open`` made by the test process; a path under the folder
that holds the repository, but outside the repository itself, is recorded with the test that
opened it, and the session fails at the end if any was (``tests/conftest.py`` installs the hook).
The temporary directory and the Python installation stay allowed wherever they are.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_BESIDE = str(ROOT.parent) + os.sep
_ALLOWED = tuple(
    str(Path(p).resolve()) + os.sep
    for p in {
        str(ROOT),
        tempfile.gettempdir(),
        sys.prefix,
        sys.base_prefix,
        *sysconfig.get_paths().values(),
    }
)

#: (test id, path) for every read outside the repository; ``current`` names the running test.
seen: list[tuple[str, str]] = []
current = ["(collection)"]


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or not args or not isinstance(args[0], str | bytes | os.PathLike):
        return
    raw = os.fsdecode(args[0])  # type: ignore[arg-type]
    if not raw or raw.startswith(("/proc/", "/dev/", "/sys/")):
        return
    path = os.path.abspath(raw) + os.sep
    if path.startswith(_BESIDE) and not path.startswith(_ALLOWED):
        seen.append((current[0], path.rstrip(os.sep)))


_installed = [False]


def install() -> None:
    """Install the audit hook once per process (audit hooks cannot be removed)."""
    if not _installed[0]:
        sys.addaudithook(_hook)
        _installed[0] = True
