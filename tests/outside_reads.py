"""A guard that the test suite reads nothing beside the repository.

The repository must stand on its own: a clone in an empty folder passes its tests. An audit hook
(:func:`sys.addaudithook`) sees every ``open`` made by the test process; a path under the folder
that holds the repository, but outside the repository itself, is recorded with the test that
opened it, and the session fails at the end if any was (``tests/conftest.py`` installs the hook).
The Python installation stays allowed wherever it is, and so do the tests' temporary files:
pytest's, and every file or folder the tests make with :mod:`tempfile` (its ``mkdtemp`` and
``mkstemp`` audit events name them), whatever its prefix.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_BESIDE = str(ROOT.parent) + os.sep
_TEMP = str(Path(tempfile.gettempdir()).resolve()) + os.sep
_ALLOWED = tuple(
    str(Path(p).resolve()) + os.sep
    for p in {str(ROOT), sys.prefix, sys.base_prefix, *sysconfig.get_paths().values()}
)
# A clone in a folder of the temporary directory (/tmp/x/tocsin) keeps the check: the tests' own
# temporary files (/tmp/pytest-of-…, /tmp/tmp…) are not beside it. A clone straight in the
# temporary directory (/tmp/tocsin) has them beside it: those are allowed by their names.
_TEMP_NAMES = ("tmp", "pytest-of-")
_IN_TEMP = _BESIDE == _TEMP
if _TEMP.startswith(_BESIDE) and not _IN_TEMP:  # the temporary directory is itself beside it
    _ALLOWED = (*_ALLOWED, _TEMP)

#: The folders and files the tests made with :mod:`tempfile` (``tempfile.mkdtemp``/``mkstemp``).
_made: list[str] = []

#: (test id, path) for every read outside the repository; ``current`` names the running test.
seen: list[tuple[str, str]] = []
current = ["(collection)"]


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event in ("tempfile.mkdtemp", "tempfile.mkstemp") and args:
        _made.append(os.path.abspath(os.fsdecode(args[0])) + os.sep)  # type: ignore[arg-type]
        return
    if event != "open" or not args or not isinstance(args[0], str | bytes | os.PathLike):
        return
    raw = os.fsdecode(args[0])  # type: ignore[arg-type]
    if not raw or raw.startswith(("/proc/", "/dev/", "/sys/")):
        return
    path = os.path.abspath(raw) + os.sep
    if not path.startswith(_BESIDE) or path.startswith(_ALLOWED):
        return
    if _IN_TEMP and path[len(_BESIDE) :].startswith(_TEMP_NAMES):
        return
    if any(path.startswith(made) for made in _made):
        return
    seen.append((current[0], path.rstrip(os.sep)))


_installed = [False]


def install() -> None:
    """Install the audit hook once per process (audit hooks cannot be removed)."""
    if not _installed[0]:
        sys.addaudithook(_hook)
        _installed[0] = True
