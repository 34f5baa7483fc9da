"""No check cell a student sees shows its answer; every graded check has nbgrader hidden tests (issue 17).

The release that nbgrader writes is scanned the same way in tests/test_nbgrader.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import numpy as np
import pytest

from classroom.make_student import exercise_label, solution_and_check_cells, student_copy
from helpers.checks import NotYetError, Sealed, grade_hidden, seal
from tests.answer_scan import Expected, expected_values, graded_calls, shown_values

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def check_sources(lesson: Path) -> list[tuple[str, str]]:
    """(label, check cell source) of each exercise of a lesson, read once."""
    notebook = read(lesson)
    return [(label, notebook.cells[check].source) for label, _, check in exercises(notebook)]


def exercises(notebook: nbformat.NotebookNode) -> list[tuple[str, int, int]]:
    """(label, solution cell index, check cell index) of each exercise."""
    return [
        (exercise_label(notebook.cells, solution), solution, check)
        for solution, check in solution_and_check_cells(notebook)
    ]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.stem)
def test_every_check_has_a_hidden_test_that_grades_its_exercise(lesson: Path) -> None:
    for label, source in check_sources(lesson):
        graded = graded_calls(source)
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
    for label, source in check_sources(lesson):
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
    literal = [label for lesson in LESSONS for label, source in check_sources(lesson) if expected_values(source)]
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


class ClaimsEqual(int):
    """A student's trick: an int whose own == says yes to everything."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


def written_other_ways(value: object) -> list:
    """The same answer as NumPy scalars, floats, lists: every form a visible check accepts somewhere."""
    if isinstance(value, bool):
        return [value, np.bool_(value)]
    if isinstance(value, int):
        return [value, np.int64(value), float(value), np.float64(value)]
    if isinstance(value, float):
        return [value, np.float64(value), np.float32(value).item()]
    if isinstance(value, str):
        return [value, np.str_(value)]
    return [value, list(value)]


def wrong_ways(value: object) -> list:
    if isinstance(value, bool):
        return [not value, int(value)]
    if isinstance(value, int | float):
        return [value + 1, str(value), ClaimsEqual(-1)]
    return [str(value), None]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.stem)
def test_hidden_tests_accept_every_form_of_the_answer_and_refuse_wrong_ones(lesson: Path) -> None:
    """A right answer the visible check accepts must not lose its point in the hidden test, and a trick must."""
    for label, source in check_sources(lesson):
        for item in expected_values(source):
            for answer in written_other_ways(item.value):
                grade_hidden(label, answer, item.value, item.tolerance)  # raises NotYetError if refused
            for answer in wrong_ways(item.value):
                with pytest.raises(NotYetError, match="hidden test did not pass"):
                    grade_hidden(label, answer, item.value, item.tolerance)
