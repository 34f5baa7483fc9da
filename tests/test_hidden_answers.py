"""No check cell a student sees shows its answer; every graded check has nbgrader hidden tests (issue 17).

The release that nbgrader writes is scanned the same way in tests/test_nbgrader.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from classroom.make_student import exercise_label, solution_and_check_cells, student_copy
from helpers.checks import Sealed, seal
from tests.answer_scan import Expected, expected_values, hidden_part, shown_values

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def exercises(notebook: nbformat.NotebookNode) -> list[tuple[str, int, int]]:
    """(label, solution cell index, check cell index) of each exercise."""
    return [
        (exercise_label(notebook.cells, solution), solution, check)
        for solution, check in solution_and_check_cells(notebook)
    ]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.stem)
def test_every_check_has_a_hidden_test_that_grades_its_exercise(lesson: Path) -> None:
    for label, _, check in exercises(read(lesson)):
        hidden = hidden_part(read(lesson).cells[check].source)
        calls = [node for node in ast.walk(ast.parse(hidden)) if isinstance(node, ast.Call)]
        graded = [call for call in calls if getattr(call.func, "id", None) == "grade_hidden"]
        assert graded, f"{lesson.name}, {label}: the check cell has no hidden test (grade_hidden between the markers)"
        assert all(ast.literal_eval(call.args[0]) == label for call in graded), f"{lesson.name}, {label}: wrong label"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.stem)
def test_student_copy_shows_no_expected_value(lesson: Path) -> None:
    notebook = read(lesson)
    copy = student_copy(notebook, lesson.name)
    for label, solution, check in exercises(notebook):
        expected = expected_values(notebook.cells[check].source)
        shown = shown_values(copy.cells[check].source, expected) + shown_values(copy.cells[solution].source, expected)
        assert not shown, f"{lesson.name}, {label}: the student copy shows the answer: {shown}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.stem)
def test_sealed_answers_are_the_hidden_tests_answers(lesson: Path) -> None:
    """A Sealed(...) digest in a check cell seals exactly the value its hidden test expects."""
    for label, _, check in exercises(read(lesson)):
        source = read(lesson).cells[check].source
        sealed = [
            Sealed(*(ast.literal_eval(argument) for argument in node.args))
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Sealed"
        ]
        if sealed:
            values = [item.value for item in expected_values(source)]
            assert values, f"{lesson.name}, {label}: a sealed answer needs a literal hidden test to compare with"
            whole = sealed[0].kind == "whole number"
            assert sealed[0] in [seal(label, value, whole=whole) for value in values], f"{lesson.name}, {label}: seal"
            assert not whole or all(type(value) is int for value in values), f"{lesson.name}, {label}: not a count"


def test_most_exercises_state_their_answer_in_hidden_tests() -> None:
    """The scan above is not empty: most exercises have a literal expected value to search for."""
    literal = [
        label
        for lesson in LESSONS
        for label, _, check in exercises(read(lesson))
        if expected_values(read(lesson).cells[check].source)
    ]
    assert len(literal) >= 15, literal


HIDDEN = "### BEGIN HIDDEN TESTS\ngrade_hidden('Exercise 1', answer, {value})\n### END HIDDEN TESTS"


@pytest.mark.parametrize(
    ("visible", "hidden_value", "found"),
    [
        ("check_equal('Exercise 1', answer, 6 * 7, hint='')", "42", ["Exercise 1: 6 * 7"]),
        ("check_equal('Exercise 1', answer, 42, hint='')", "42", ["Exercise 1: 42"]),
        (
            "check_equal('Exercise 1', answer, round(math.tan(math.radians(15)), 2))",
            "0.268, 0.005",
            ["Exercise 1: "] * 2,
        ),
        ("check_equal('Exercise 1', answer, -(-1000 // 64))", "16", ["Exercise 1: -(-1000 // 64)"]),
        ("check_equal('Exercise 1', answer, ('val_loss', 1, True))", "('val_loss', 1, True)", ["Exercise 1: ("]),
        ("check_equal('Exercise 1', answer, Sealed('number', 'abc'), mistakes={41: 'off by one'})", "42", []),
        ("check_equal('Exercise 1', answer, round(math.sin(math.radians(15)), 2))", "0.268, 0.005", []),
        ("check_equal('Exercise 1', answer, True)", "1", []),
    ],
    ids=["product", "digits", "float-within-tolerance", "ceil-trick", "tuple", "sealed", "float-outside", "bool-not-1"],
)
def test_scan_finds_an_answer_however_it_is_written(visible: str, hidden_value: str, found: list[str]) -> None:
    expected = expected_values(f"{visible}\n{HIDDEN.format(value=hidden_value)}")
    assert expected and isinstance(expected[0], Expected)
    shown = shown_values(visible, expected)
    assert len(shown) == len(found) and all(
        place.startswith(prefix) for place, prefix in zip(shown, found, strict=True)
    )
