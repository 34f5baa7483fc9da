"""Every data tool prints any file name on any terminal: a strict ASCII or cp1252 console, names that are not UTF-8."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.datasets import REPO_ROOT
from tests.fakes import photo_bytes

ODD = os.fsdecode(b"caf\xe9") + "-\u00e9t\u00e9-\u2713"  # Latin-1 bytes (not UTF-8), accents, a check mark


def run_tool(arguments: list[str], encoding: str) -> subprocess.CompletedProcess[bytes]:
    environment = {**os.environ, "PYTHONIOENCODING": f"{encoding}:strict", "FITGEN_DATA": ""}
    command = [sys.executable, *arguments]
    return subprocess.run([os.fsencode(part) for part in command], capture_output=True, env=environment, cwd=REPO_ROOT)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def odd_folder(tmp_path: Path) -> Path:
    """A dataset under a folder whose name no ASCII terminal can show, with a broken file of such a name too."""
    root = tmp_path / ODD
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        (root / name / "0.jpg").write_bytes(photo_bytes(len(name)))
    (root / "cat" / f"{ODD}.jpg").write_bytes(b"not a photo")
    return root


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_every_data_tool_prints_odd_names_without_a_traceback(odd_folder: Path, tmp_path: Path, encoding: str) -> None:
    scripts = REPO_ROOT / "data_scripts"
    url = f"http://127.0.0.1:{closed_port()}/flower_photos.tgz"
    cases = {
        "check_images.py": ([str(scripts / "check_images.py"), str(odd_folder)], 3),
        "make_shapes.py": (
            [str(scripts / "make_shapes.py"), "--out", str(tmp_path / ODD / "made"), "--train", "1", "--val", "1"]
            + ["--test", "1", "--size", "24", "--quiet"],
            0,
        ),
        "fetch_flowers.py": (
            [str(scripts / "fetch_flowers.py"), "--out", str(tmp_path / ODD / "fl"), "--url", url, "--quiet"]
            + ["--cache", str(tmp_path / ODD / "cache")],
            1,
        ),
        "fetch_cats_vs_dogs.py": (
            [str(scripts / "fetch_cats_vs_dogs.py"), "--out", str(odd_folder), "--quiet"],
            1,
        ),
        "make bench": (["-m", "helpers.bench", "--folder", str(odd_folder)], 2),
    }
    for tool, (arguments, expected) in cases.items():
        result = run_tool(arguments, encoding)
        output = (result.stdout + result.stderr).decode(encoding)
        assert b"Traceback" not in result.stderr and result.returncode == expected, (tool, output)
        assert "caf\\udce9" in output or "caf\\xe9" in output, (tool, output)  # the odd name, shown as an escape


def test_names_that_hold_terminal_escape_sequences_are_shown_not_obeyed(tmp_path: Path) -> None:
    root = tmp_path / "data"
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        (root / name / "0.jpg").write_bytes(photo_bytes(len(name) + 7))
    (root / "cat" / "evil\x1b]0;PWNED\x07\x1b[2J\u009b.jpg").write_bytes(b"not a photo")
    result = run_tool([str(REPO_ROOT / "data_scripts" / "check_images.py"), str(root)], "utf-8")
    output = result.stdout.decode("utf-8")
    assert result.returncode == 3 and "\x1b" not in output and "\x07" not in output and "\u009b" not in output
    assert "evil\\x1b]0;PWNED\\x07\\x1b[2J\\x9b.jpg" in output


def test_a_pasted_address_with_spaces_or_accents_is_encoded() -> None:
    from data_scripts.fetch import _url_text

    assert _url_text("http://127.0.0.1:8000/fl€ photos.tar") == "http://127.0.0.1:8000/fl%E2%82%AC%20photos.tar"
