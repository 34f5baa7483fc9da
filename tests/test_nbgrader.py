"""Every lesson through the real nbgrader (make test-classroom, run by .ci/run): the course that ``make course``
sets up goes through generate_assignment -> validate -> autograde -> generate_feedback -> export.

Students hand in each lesson's release: "right" with the lessons' solutions and "wrong" with the first typical wrong
answer of tests/answer_trials.py; "blank" hands in lesson 00 untouched (an unanswered copy of every lesson already
runs in make test-student, where each check must say "not answered yet": here it is nbgrader's scoring and validate
that are tested). nbgrader runs each notebook in the kit's kernel, so this takes about as long as running every
lesson three times (about 8 minutes on 2 cores).
"""

from __future__ import annotations

import copy
import csv
import html
import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from classroom.course import NBGRADER, assignment_name, make_course
from classroom.make_student import BEGIN, END, HIDDEN_BEGIN, exercise_label, solution_and_check_cells, solution_blocks
from tests.answer_scan import expected_values, shown_values, solution_lines
from tests.answer_trials import WRONG_ANSWERS

pytestmark = pytest.mark.classroom
ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
STUB = "raise NotImplementedError()"  # nbgrader's default code stub, second line


def nbgrader(course: Path, *arguments: str, timeout: int = 900) -> str:
    """Run the kit's nbgrader in the course folder; its output, or a failure quoting it."""
    assert NBGRADER.exists(), f"{NBGRADER} is missing: make test-classroom installs it (make nbgrader)"
    environment = {**os.environ, "FITGEN_CACHE": str(course / ".fitgen-cache")}
    done = subprocess.run(
        [str(NBGRADER), *arguments], cwd=course, env=environment, capture_output=True, text=True, timeout=timeout
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"nbgrader {' '.join(arguments)} failed ({done.returncode}):\n{output[-3000:]}"
    return output


def answered(release: nbformat.NotebookNode, path: Path, student: str) -> nbformat.NotebookNode:
    """The release with each exercise's stub replaced: by the lesson's solution, or by the typical wrong answer."""
    handed_in, lesson = nbformat.from_dict(copy.deepcopy(release)), nbformat.read(path, as_version=4)
    for solution, _ in solution_and_check_cells(lesson):
        label = exercise_label(lesson.cells, solution)
        grade_id = lesson.cells[solution].metadata["nbgrader"]["grade_id"]
        cell = next(cell for cell in handed_in.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        assert STUB in cell.source, f"{label}: nbgrader's stub is missing from the release"
        if student == "right":
            code = "\n".join(block.code for block in solution_blocks(lesson.cells[solution].source, label))
        else:
            code = WRONG_ANSWERS[path.name][label][0]
        cell.source = cell.source.replace(STUB, code)
    return handed_in


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course with every lesson released, handed in right and wrong (and lesson 00 blank), autograded, exported."""
    folder = tmp_path_factory.mktemp("classroom") / "course"
    make_course(folder, LESSONS)
    for lesson in LESSONS:
        name = assignment_name(lesson)
        nbgrader(folder, "generate_assignment", name)
        release = nbformat.read(folder / "release" / name / lesson.name, as_version=4)
        for student in ("right", "wrong", "blank") if lesson == LESSONS[0] else ("right", "wrong"):
            handed_in = release if student == "blank" else answered(release, lesson, student)
            target = folder / "submitted" / student / name / lesson.name
            target.parent.mkdir(parents=True)
            nbformat.write(handed_in, target)
    for lesson in LESSONS:
        nbgrader(folder, "autograde", assignment_name(lesson))
        nbgrader(folder, "generate_feedback", assignment_name(lesson))
    nbgrader(folder, "export")
    return folder


def test_right_answers_score_full_marks_wrong_and_blank_ones_zero(course: Path) -> None:
    with (course / "grades.csv").open() as file:
        scores = {
            (row["assignment"], row["student_id"]): (float(row["score"]), float(row["max_score"]))
            for row in csv.DictReader(file)
        }
    for lesson in LESSONS:
        exercises = len(solution_and_check_cells(nbformat.read(lesson, as_version=4)))
        name = assignment_name(lesson)
        assert scores[(name, "right")] == (exercises, exercises), (
            f"{name}: right answers scored {scores[(name, 'right')]}"
        )
        assert scores[(name, "wrong")] == (0, exercises), f"{name}: wrong answers scored {scores[(name, 'wrong')]}"
        if lesson == LESSONS[0]:  # the one lesson handed in blank
            assert scores[(name, "blank")] == (0, exercises), f"{name}: a blank copy scored {scores[(name, 'blank')]}"


def test_release_holds_no_solution_no_hidden_test_and_no_answer(course: Path) -> None:
    secret = solution_lines(LESSONS)
    for lesson in LESSONS:
        source = nbformat.read(lesson, as_version=4)
        release = nbformat.read(course / "release" / assignment_name(lesson) / lesson.name, as_version=4)
        text = "\n".join(cell.source for cell in release.cells)
        assert BEGIN not in text and END not in text and HIDDEN_BEGIN not in text, lesson.name
        leaked = [f"{place}: {line}" for line, place in secret.items() if line in text]
        assert not leaked, f"{lesson.name}: solution or hidden-test lines in the release: {leaked}"
        released = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source for cell in release.cells}
        for _, check in solution_and_check_cells(source):
            grade_id = source.cells[check].metadata["nbgrader"]["grade_id"]
            shown = shown_values(released[grade_id], expected_values(source.cells[check].source))
            assert not shown, f"{lesson.name}, {grade_id}: the released check cell shows the answer: {shown}"


def test_feedback_gives_the_kits_message_for_each_wrong_answer(course: Path) -> None:
    for lesson in LESSONS:
        page = course / "feedback" / "wrong" / assignment_name(lesson) / f"{lesson.stem}.html"
        text = html.unescape(page.read_text())
        assert "HIDDEN TESTS" not in text and "grade_hidden(" not in text, f"{page} shows the hidden tests"
        for label, (_, words) in WRONG_ANSWERS[lesson.name].items():
            assert words in text, f"{page}: {label}'s message {words!r} is missing from the feedback"


def test_validate_passes_a_right_copy_and_fails_a_blank_one(course: Path) -> None:
    """validate runs a copy as autograde does (which scored every right copy full marks above): lesson 00 shows the
    command a student runs, on a right and on a blank copy."""
    right = course / "submitted" / "right" / assignment_name(LESSONS[0]) / LESSONS[0].name
    assert "Success! Your notebook passes all the tests." in nbgrader(course, "validate", str(right))
    blank = course / "submitted" / "blank" / assignment_name(LESSONS[0]) / LESSONS[0].name
    assert "VALIDATION FAILED" in nbgrader(course, "validate", str(blank))
