"""The pre-commit hook definition, run by the real pre-commit from the package index (make test-tools).

pre-commit installs this repository into a hook environment of its own, as a course repository's hooks would;
PIP_NO_DEPS keeps that install to the checker itself (it imports only the standard library), so the test does
not download TensorFlow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.datasets import REPO_ROOT

pytestmark = pytest.mark.tools
PRE_COMMIT = os.environ.get("FITGEN_PRE_COMMIT", str(REPO_ROOT / ".cache" / "tools" / "bin" / "pre-commit"))


def git(folder: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=folder, check=True, capture_output=True)


def test_a_course_repository_runs_the_hooks(tmp_path: Path) -> None:
    assert Path(PRE_COMMIT).exists(), f"{PRE_COMMIT} is missing: run make test-tools, which installs pre-commit"
    course = tmp_path / "course"
    course.mkdir()
    git(course, "init", "-q")
    git(course, "config", "user.email", "teacher@example.org")
    git(course, "config", "user.name", "Teacher")
    recipe = (REPO_ROOT / "notebooks" / "classic_recipe.py").read_text()
    (course / "train.py").write_text(recipe)
    (course / "clean.py").write_text("import math\nsteps = math.ceil(1000 / 16)\n")
    git(course, "add", "train.py", "clean.py")
    environment = {**os.environ, "PIP_NO_DEPS": "1", "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def try_repo(hook: str) -> subprocess.CompletedProcess[str]:
        command = [PRE_COMMIT, "try-repo", str(REPO_ROOT), hook, "--all-files", "--color", "never"]
        return subprocess.run(command, cwd=course, env=environment, capture_output=True, text=True, timeout=600)

    report = try_repo("fitgen-check")
    assert report.returncode == 1, report.stdout + report.stderr
    assert "train.py:5:1: FG001" in report.stdout and "FG004" in report.stdout and "clean.py" not in report.stdout
    assert (course / "train.py").read_text() == recipe  # the report hook changes nothing
    fixed = try_repo("fitgen-check-fix")
    assert fixed.returncode == 1 and "fixed 3 problem(s); 2 left to decide" in fixed.stdout, fixed.stdout
    rewritten = (course / "train.py").read_text()
    assert "model.fit(" in rewritten and "fit_generator" not in rewritten
    shutil.rmtree(tmp_path / "pre-commit-home", ignore_errors=True)
