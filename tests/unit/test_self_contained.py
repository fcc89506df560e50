"""The repository stands on its own: nothing in it reads or names a folder beside it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import outside_reads
from fakes import FIXTURES

ROOT = outside_reads.ROOT
SOURCES = ("src", "tests", "benchmarks", "scripts")


def test_no_source_names_a_folder_beside_the_repository() -> None:
    """No file under src/, tests/, benchmarks/ or scripts/ names the sibling folder ``shared``
    by a relative path (the team's checkouts have one; a clone elsewhere does not)."""
    needle = "../" + "shared"
    offenders = [
        str(path.relative_to(ROOT))
        for top in SOURCES
        for path in (ROOT / top).rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".sh", ".md", ".toml", ".txt", ".html"}
        and needle in path.read_text(errors="replace")
    ]
    assert offenders == []


def test_the_fixtures_live_inside_the_repository() -> None:
    """Every vendored fixture directory the fakes use is under tests/fixtures/."""
    assert FIXTURES == ROOT / "tests" / "fixtures"
    for sub in ("slack/spec", "slack/bolt_python", "discord/spec", "statuspage", "generated"):
        assert any((FIXTURES / sub).iterdir()), sub


def test_a_read_beside_the_repository_is_caught() -> None:
    """The audit hook records an open of a sibling of the repository (here one that does not
    exist: the attempt is what counts) and leaves reads inside the repository alone."""
    before = len(outside_reads.seen)
    (ROOT / "pyproject.toml").read_bytes()
    assert len(outside_reads.seen) == before
    probe = ROOT.parent / f"not-{os.getpid()}-beside-tocsin" / "fixture.json"
    with contextlib.suppress(OSError):
        probe.read_text()
    caught = outside_reads.seen[before:]
    del outside_reads.seen[before:]
    assert [path for _, path in caught] == [str(probe)]
    assert caught[0][0].endswith("test_a_read_beside_the_repository_is_caught")


def test_reads_from_the_temporary_directory_are_allowed(tmp_path: Path) -> None:
    """pytest's tmp_path is allowed even when the repository sits in the temporary folder."""
    before = len(outside_reads.seen)
    (tmp_path / "x.txt").write_text("x")
    assert (tmp_path / "x.txt").read_text() == "x"
    assert len(outside_reads.seen) == before


def test_what_the_tests_make_with_tempfile_is_allowed_whatever_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the clone straight in the temporary folder (so its other entries are beside it), a
    folder made with ``tempfile.mkdtemp`` and a file made with ``mkstemp``, whatever their
    prefix, are the tests' own and may be read; a path there that no test made is still caught."""
    temp = str(Path(tempfile.gettempdir()).resolve()) + os.sep
    monkeypatch.setattr(outside_reads, "_BESIDE", temp)
    monkeypatch.setattr(outside_reads, "_IN_TEMP", True)
    monkeypatch.setattr(outside_reads, "_ALLOWED", (str(ROOT) + os.sep,))
    before = len(outside_reads.seen)
    folder = Path(tempfile.mkdtemp(prefix="tocsin-made-"))
    handle, name = tempfile.mkstemp(prefix="tocsin-file-")
    os.close(handle)
    try:
        (folder / "config.yml").write_text("x")
        assert (folder / "config.yml").read_text() == "x"
        assert Path(name).read_text() == ""
        stranger = Path(temp) / f"tocsin-not-made-{os.getpid()}" / "config.yml"
        with contextlib.suppress(OSError):
            stranger.read_text()
    finally:
        shutil.rmtree(folder)
        os.unlink(name)
    caught = outside_reads.seen[before:]
    del outside_reads.seen[before:]
    assert [path for _, path in caught] == [str(stranger)]
