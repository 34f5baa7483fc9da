"""make course: an nbgrader course folder; never overwrites a teacher's file; refuses lessons nbgrader can't grade."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from classroom.course import CourseError, course_config, main, make_course
from classroom.make_student import nbgrader_metadata

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "notebooks" / "00_start_here.ipynb"


def test_course_has_the_config_and_one_assignment_per_lesson(tmp_path: Path) -> None:
    written, kept = make_course(tmp_path / "course", [LESSON])
    assert sorted(map(str, written)) == ["nbgrader_config.py", "source/00_start_here/00_start_here.ipynb"]
    assert kept == []
    config = (tmp_path / "course" / "nbgrader_config.py").read_text()
    assert f"KIT = Path({str(ROOT)!r})" in config and "c.Execute.timeout = 300" in config
    assert (tmp_path / "course" / "source" / "00_start_here" / LESSON.name).read_bytes() == LESSON.read_bytes()
    assert make_course(tmp_path / "course", [LESSON]) == ([], written)  # a second run changes nothing


def test_config_runs_as_nbgrader_loads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The course config sets the kernel path, nbgrader's own bin folder and the course's cache."""

    class Section(dict):
        def __getattr__(self, name: str) -> Section:
            return self.setdefault(name, Section())

        def __setattr__(self, name: str, value: object) -> None:
            self[name] = value

    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.delenv("FITGEN_CACHE", raising=False)
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    (tmp_path / "nbgrader_config.py").write_text(course_config())
    config = Section()
    exec(
        compile((tmp_path / "nbgrader_config.py").read_text(), str(tmp_path / "nbgrader_config.py"), "exec"),
        {"__file__": str(tmp_path / "nbgrader_config.py"), "get_config": lambda: config},
    )
    loaded = dict(os.environ)
    assert loaded["JUPYTER_PATH"] == str(ROOT / ".venv" / "share" / "jupyter")
    assert loaded["PATH"].startswith(str(ROOT / ".cache" / "nbgrader" / "bin"))
    assert loaded["FITGEN_CACHE"] == str(tmp_path / ".fitgen-cache")
    assert config["CourseDirectory"]["course_id"] == "fitgen-kit" and config["Execute"]["timeout"] == 300


def test_a_changed_file_stops_the_set_up_before_anything_is_written(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course).mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()  # my own settings\n")
    with pytest.raises(CourseError, match="nbgrader_config.py exists and differs .* nothing was written"):
        make_course(course, [LESSON])
    assert not (course / "source").exists()
    assert (course / "nbgrader_config.py").read_text() == "c = get_config()  # my own settings\n"


def lesson_with(tmp_path: Path, cells: list) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    for index, metadata in nbgrader_metadata(notebook).items():
        notebook.cells[index].metadata["nbgrader"] = metadata
    path = tmp_path / "mine.ipynb"
    nbformat.write(notebook, path)
    return path


def test_an_exercise_without_a_check_cell_is_refused(tmp_path: Path) -> None:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    path = lesson_with(
        tmp_path, [md("**Exercise 1.** Multiply."), code("### BEGIN SOLUTION\nx = 6 * 7\n### END SOLUTION")]
    )
    with pytest.raises(CourseError, match="mine.ipynb, cell 2: no code cell after the solution checks it"):
        make_course(tmp_path / "course", [path])
    assert not (tmp_path / "course").exists()


def test_a_check_cell_without_points_is_refused(tmp_path: Path) -> None:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    path = lesson_with(
        tmp_path,
        [
            md("**Exercise 1.**"),
            code("### BEGIN SOLUTION\nx = 42\n### END SOLUTION"),
            code("check_equal('Exercise 1', x, 42, hint='')"),
        ],
    )
    notebook = json.loads(path.read_text())
    notebook["cells"][2]["metadata"]["nbgrader"]["points"] = 0
    path.write_text(json.dumps(notebook))
    with pytest.raises(
        CourseError, match="mine.ipynb, cell 3: an autograder tests cell needs metadata.nbgrader.points"
    ):
        make_course(tmp_path / "course", [path])


def test_main_names_the_problem_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("")
    assert main([str(tmp_path / "file"), str(LESSON)]) == 1
    assert (
        capsys.readouterr().err
        == f"make course: {tmp_path / 'file'} is a file; give a folder for the course (it is created if missing).\n"
    )
    assert main([str(tmp_path / "course"), str(LESSON)]) == 0
    out = capsys.readouterr().out
    assert "2 file(s) written" in out and "generate_assignment 00_start_here" in out
