"""The student handout (make handout): what is in it, no solution anywhere in it, and it works from scratch.

The set-up test unpacks it into an empty folder, runs ``make setup data`` there (a new .venv from the package
index, as ``make lab`` does) and executes lesson 00's student copy: about 2-3 minutes, so it is marked classroom.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import nbformat
import pytest

from classroom.handout import TOP, handout_files, write_handout
from classroom.make_student import solution_and_check_cells
from tests.answer_scan import solution_lines

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_handout_holds_the_student_copies_and_the_code_but_no_answer_key() -> None:
    files = handout_files()
    lessons = sorted(name for name in files if name.startswith("notebooks/") and name.endswith(".ipynb"))
    assert lessons == [f"notebooks/{lesson.name}" for lesson in LESSONS]
    assert "notebooks/classic_recipe.py" in files  # lesson 00 reads it
    assert {"Makefile", "README.md", "pyproject.toml", ".ci/constraints.txt", "helpers/checks.py"} <= set(files)
    assert not [name for name in files if name.split("/")[0] in ("tests", "classroom", ".git", "data", ".cache")]
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]


def test_no_solution_or_hidden_test_line_is_anywhere_in_the_handout() -> None:
    secret = solution_lines(LESSONS)
    assert len(secret) >= 20, "too few solution lines found: the scan would prove nothing"
    for name, content in handout_files().items():
        text = content.decode(errors="replace")
        found = [f"{place}: {line}" for line, place in secret.items() if line in text]
        assert not found, f"{name} holds solution or hidden-test lines: {found}"


def test_handout_is_the_same_archive_every_time(tmp_path: Path) -> None:
    write_handout(tmp_path / "one.tar.gz")
    write_handout(tmp_path / "two.tar.gz")
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()


def test_make_says_what_the_handout_lacks(tmp_path: Path) -> None:
    write_handout(tmp_path / "handout.tar.gz")
    with tarfile.open(tmp_path / "handout.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")
    done = subprocess.run(["make", "test"], cwd=tmp_path / TOP, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "this is the student handout" in done.stderr
    assert not (tmp_path / TOP / ".venv").exists(), "make test set up a venv before saying it cannot run"


@pytest.mark.classroom
def test_handout_sets_up_from_scratch_and_runs_a_student_lesson(tmp_path: Path) -> None:
    write_handout(tmp_path / "handout.tar.gz")
    with tarfile.open(tmp_path / "handout.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")
    kit = tmp_path / TOP
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "FITGEN_"))}
    python = f"python{sys.version_info.major}.{sys.version_info.minor}"
    done = subprocess.run(
        ["make", "setup", "data", f"PYTHON={python}"],
        cwd=kit,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lesson = kit / "notebooks" / "00_start_here.ipynb"
    run = [str(kit / ".venv" / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--allow-errors"]
    done = subprocess.run(
        [*run, "--output", str(tmp_path / "ran.ipynb"), str(lesson)],
        cwd=kit,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    ran = nbformat.read(tmp_path / "ran.ipynb", as_version=4)
    errors = [output.ename for cell in ran.cells for output in cell.get("outputs", []) if output.output_type == "error"]
    checks = len(solution_and_check_cells(nbformat.read(LESSONS[0], as_version=4)))
    assert errors == ["NotYetError"] * checks, f"lesson 00 from the handout: errors {errors}, expected one per check"
    assert not (kit / ".git").exists() and (kit / "data" / "shapes" / "manifest.json").exists()
