"""Student copies (make student): no solution text, nothing else changed, runnable, and the solutions pass.

Executing a student copy costs about as long as the lesson itself; lessons outside FAST_STUDENT_RUNS carry
the ``slow`` mark, so ``pytest -m "not slow"`` leaves them out and ``-m slow`` runs only them.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from classroom.make_student import (
    BEGIN,
    END,
    STUB,
    SolutionError,
    exercise_label,
    has_solution,
    main,
    nbgrader_metadata,
    nbgrader_problems,
    solution_and_check_cells,
    solution_blocks,
    student_copy,
    without_hidden_tests,
)
from tests.answer_trials import ANSWERS, TRIAL, bound_names, trial_problems, unbound_names, with_answer_trials
from tests.regen_notebooks import clean, regenerate

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RAISES = "raises-exception"
# Student copies executed without the `slow` mark: move a name in or out to fit the 5-minute `make test`.
# Seconds per copy (nice -n 19, 2 cores, 2026-11-27): 00 6.6, 01 7.2, 02 31.9, 03 30.5, 04 39.2, 05 25.6, 06 18.9.
FAST_STUDENT_RUNS = {"00_start_here.ipynb"}


def lessons() -> list:
    return [pytest.param(path, id=path.stem) for path in LESSONS]


def student_runs() -> list:
    slow = [pytest.mark.slow]
    return [pytest.param(path, id=path.stem, marks=[] if path.name in FAST_STUDENT_RUNS else slow) for path in LESSONS]


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def solution_line_numbers(source: str, place: str) -> set[int]:
    """Numbers of a cell's lines inside its solution blocks, markers included."""
    return {number for block in solution_blocks(source, place) for number in range(block.begin, block.end + 1)}


def split_lines(notebook: nbformat.NotebookNode) -> tuple[Counter, Counter]:
    """(stripped lines inside solution blocks, stripped lines everywhere else), over all cells' sources."""
    inside, outside = Counter(), Counter()
    for cell in notebook.cells:
        lines = cell.source.split("\n")
        hidden = solution_line_numbers(cell.source, "test") if has_solution(cell) else set()
        for number, line in enumerate(lines):
            (inside if number in hidden else outside)[line.strip()] += 1
    return inside, outside


def execute_student_copy(notebook: nbformat.NotebookNode, path: Path) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook exactly as make regen runs a lesson (same kernel, arguments, clean-up), letting every cell fail.

    ``regenerate`` stops at an unexpected error; nbclient treats a ``raises-exception`` tag as ``allow_errors`` for
    that cell, so tagging every code cell of this scratch copy is ``allow_errors=True`` without a second client.
    """
    runnable = copy.deepcopy(notebook)
    for cell in runnable.cells:
        if cell.cell_type == "code" and RAISES not in cell.metadata.setdefault("tags", []):
            cell.metadata["tags"].append(RAISES)
    nbformat.write(runnable, path)
    seconds = regenerate(path)
    return read(path), seconds


def unexpected_errors(original: nbformat.NotebookNode, executed: nbformat.NotebookNode, name: str) -> list[str]:
    """Cells whose errors differ from a student copy's expected ones: NotYetError in each check cell, the
    committed error in each ``raises-exception`` cell, nothing anywhere else."""
    checks = {check for _, check in solution_and_check_cells(original)}
    problems = []
    for index, (before, after) in enumerate(zip(original.cells, executed.cells, strict=True)):
        if before.cell_type != "code":
            continue
        got = [(out.ename, out.evalue) for out in after.outputs if out.output_type == "error"]
        if index in checks:
            wanted = ["NotYetError"]
        elif RAISES in before.metadata.get("tags", []):
            wanted = [out.ename for out in before.outputs if out.output_type == "error"]
        else:
            wanted = []
        if [ename for ename, _ in got] != wanted:
            problems.append(f"{name}, cell {index + 1}: expected {wanted or 'no error'}, got {got or 'no error'}")
    return problems


@pytest.mark.parametrize("lesson", lessons())
def test_student_copy_holds_no_solution_text(lesson: Path) -> None:
    notebook = read(lesson)
    inside, outside = split_lines(notebook)
    _, in_copy = split_lines(student_copy(notebook, lesson.name))
    leaked = [line for line in inside if line and in_copy[line] != outside[line]]
    assert not leaked, f"{lesson.name}: solution lines left in the student copy: {leaked}"
    assert inside, f"{lesson.name}: no solution block"
    code = [cell.source for cell in student_copy(notebook, lesson.name).cells if cell.cell_type == "code"]
    assert not [source for source in code if BEGIN in source or END in source], f"{lesson.name}: markers left"


@pytest.mark.parametrize("lesson", lessons())
def test_student_copy_changes_only_solutions_and_outputs(lesson: Path) -> None:
    notebook = read(lesson)
    copied = student_copy(notebook, lesson.name)
    assert copied.metadata == notebook.metadata and len(copied.cells) == len(notebook.cells)
    for index, (before, after) in enumerate(zip(notebook.cells, copied.cells, strict=True)):
        place = f"{lesson.name}, cell {index + 1}"
        kept = {key: value for key, value in before.items() if key not in ("source", "outputs", "execution_count")}
        assert {key: value for key, value in after.items() if key in kept} == kept, place
        if before.cell_type == "code":
            assert after.outputs == [] and after.execution_count is None, place
        if not has_solution(before):
            assert after.source == without_hidden_tests(before.source), place
            continue
        hidden = solution_line_numbers(before.source, place)
        around = [line for n, line in enumerate(before.source.split("\n")) if n not in hidden]
        assert [line for line in after.source.split("\n") if STUB not in line] == around, place


@pytest.mark.parametrize("lesson", student_runs())
def test_student_copy_runs_and_its_checks_sort_right_from_wrong_answers(lesson: Path, tmp_path: Path) -> None:
    notebook = read(lesson)
    trial, labels = with_answer_trials(notebook, student_copy(notebook, lesson.name), lesson.name)
    executed, seconds = execute_student_copy(trial, tmp_path / lesson.name)
    print(f"student copy of {lesson.name}: {seconds:.1f} s")
    problems = trial_problems(executed, labels, lesson.name)
    executed.cells = [cell for cell in executed.cells if TRIAL not in cell.metadata]
    problems += unexpected_errors(notebook, executed, lesson.name)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lesson", lessons())
def test_every_exercise_has_three_right_and_three_wrong_answers_to_try(lesson: Path) -> None:
    notebook = read(lesson)
    pairs = solution_and_check_cells(notebook)
    labels = {exercise_label(notebook.cells, solution) for solution, _ in pairs}
    assert set(ANSWERS.get(lesson.name, {})) == labels, f"{lesson.name}: add its exercises to answer_trials.py"
    for solution, _ in pairs:
        label = exercise_label(notebook.cells, solution)
        answers = ANSWERS[lesson.name][label]
        written = [" ".join(code.split()) for code in answers.right]
        solution_code = " ".join(
            "\n".join(b.code for b in solution_blocks(notebook.cells[solution].source, label)).split()
        )
        assert len(set(written)) >= 3 and solution_code not in written, f"{lesson.name}, {label}: 3 other right answers"
        assert len({code for code, _ in answers.wrong}) >= 3, f"{lesson.name}, {label}: 3 typical wrong answers"
        assert all(words for _, words in answers.wrong), f"{lesson.name}, {label}: each wrong answer needs its words"


@pytest.mark.parametrize("lesson", lessons())
def test_every_tried_answer_runs_where_nbgrader_runs_it(lesson: Path) -> None:
    """An answer may use only what the cells before its own exercise define, and the lines of its own cell outside
    the solution block: nbgrader runs the answer before the check cell, which in the trials above has already run
    once (and defined its names), so the trials alone would not notice."""
    notebook = read(lesson)
    copied = student_copy(notebook, lesson.name)
    for solution, _ in solution_and_check_cells(notebook):
        label = exercise_label(notebook.cells, solution)
        source = notebook.cells[solution].source
        inside = solution_line_numbers(source, label)
        around = "\n".join(line for n, line in enumerate(source.split("\n")) if n not in inside)  # nbgrader keeps these
        before = [cell.source for cell in copied.cells[:solution] if cell.cell_type == "code"]
        available = set().union(*(bound_names(source) for source in [*before, around]))
        answers = ANSWERS[lesson.name][label]
        for code in [*answers.right, *(code for code, _ in answers.wrong)]:
            missing = unbound_names(code, available)
            assert not missing, f"{lesson.name}, {label}: {code!r} reads {sorted(missing)}, undefined before it"


@pytest.mark.parametrize("lesson", lessons())
def test_committed_solutions_pass_their_checks(lesson: Path) -> None:
    notebook = read(lesson)
    pairs = solution_and_check_cells(notebook)
    assert pairs and all(check is not None for _, check in pairs), f"{lesson.name}: a solution without a check"
    for _, check in pairs:
        cell, place = notebook.cells[check], f"{lesson.name}, cell {check + 1}"
        assert cell.execution_count is not None, f"{place}: the check cell has not run: run make regen"
        errors = [f"{out.ename}: {out.evalue}" for out in cell.outputs if out.output_type == "error"]
        assert not errors, f"{place}: the committed solution fails its check: {errors}"


@pytest.mark.parametrize("lesson", lessons())
def test_lessons_are_ready_for_nbgrader(lesson: Path) -> None:
    problems = nbgrader_problems(read(lesson), lesson.name)
    assert not problems, "\n".join(problems)


# --- the builder on small synthetic lessons -------------------------------------------------------------------


def lesson_of(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = list(cells)
    return notebook


md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
CHECK = code("check_equal('Exercise 1', answer, 42, hint='multiply')")


def test_placeholder_names_every_assigned_name_and_keeps_the_code_around_it() -> None:
    solution = "import math\n\nif True:\n    ### BEGIN SOLUTION\n    a, (b, *rest), _ = 1, (2, 3), 4\n"
    solution += (
        "    total: int = a + b\n    def helper(): ...\n    d = {}\n    d['key'] = 1\n    ### END SOLUTION\nprint(a)"
    )
    copied = student_copy(lesson_of(md("**Exercise 2.** Add."), code(solution), CHECK), "mini.ipynb")
    names = ["a", "b", "rest", "total", "helper", "d"]
    stubs = "".join(f"    {name} = ...  # YOUR CODE HERE: {name} (Exercise 2)\n" for name in names)
    assert copied.cells[1].source == f"import math\n\nif True:\n    # YOUR CODE HERE\n{stubs}print(a)"


def test_placeholder_without_an_exercise_label_says_only_what() -> None:
    copied = student_copy(lesson_of(code("### BEGIN SOLUTION\nexercise_answer = 6 * 7\n### END SOLUTION"), CHECK), "x")
    assert copied.cells[0].source == "# YOUR CODE HERE\nexercise_answer = ...  # YOUR CODE HERE: answer"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\nprint(6 * 7)\n### END SOLUTION", "mini.ipynb, cell 2: the solution assigns no name"),
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
            "cell 2: nested 'BEGIN SOLUTION' \\(line 2",
        ),
        ("### BEGIN SOLUTION\nx = 1", "cell 2: 'BEGIN SOLUTION' \\(line 1\\) has no 'END SOLUTION'"),
        ("x = 1\n### END SOLUTION", "cell 2: 'END SOLUTION' without 'BEGIN SOLUTION' \\(line 2"),
        ("### BEGIN SOLUTION\nx = (\n### END SOLUTION", "cell 2: the solution is not valid Python"),
    ],
    ids=["assigns-nothing", "nested", "unclosed", "end-without-begin", "syntax-error"],
)
def test_builder_refuses_blocks_it_cannot_replace(source: str, message: str) -> None:
    with pytest.raises(SolutionError, match=message):
        student_copy(lesson_of(md("**Exercise 1.**"), code(source), CHECK), "mini.ipynb")


def test_builder_refuses_a_marker_line_in_markdown_but_keeps_a_mention() -> None:
    mention = md("Your code goes between `### BEGIN SOLUTION` and `### END SOLUTION`.")
    solution = code("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION")
    assert student_copy(lesson_of(mention, solution, CHECK), "m").cells[0] == mention
    with pytest.raises(SolutionError, match="m, cell 1: a markdown cell holds a solution marker line"):
        student_copy(lesson_of(md("### BEGIN SOLUTION\n42\n### END SOLUTION"), solution, CHECK), "m")


def test_builder_refuses_a_solution_without_a_check_cell() -> None:
    with pytest.raises(SolutionError, match="m, cell 1: no code cell after the solution checks it"):
        student_copy(lesson_of(code("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"), md("end")), "m")


def test_main_writes_every_copy_or_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(lesson_of(code("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"), CHECK), good)
    nbformat.write(lesson_of(code("### BEGIN SOLUTION\nprint(42)\n### END SOLUTION"), CHECK), bad)
    assert main([str(good), str(bad), "--out", str(tmp_path / "out")]) == 1
    assert not (tmp_path / "out").exists()
    error = capsys.readouterr().err
    assert error.startswith(f"make_student: {bad}, cell 1: the solution assigns no name, so the student copy")
    assert error.count("\n") == 1
    assert main([str(good), "--out", str(tmp_path / "out")]) == 0
    assert "answer = ...  # YOUR CODE HERE" in read(tmp_path / "out" / "good.ipynb").cells[0].source


def nbgrader_lesson() -> nbformat.NotebookNode:
    lesson = lesson_of(
        md("## Exercises\n\n**Exercise 1.** Multiply."),
        code("from helpers.checks import check_equal\n\n### BEGIN SOLUTION\nanswer = 6 * 7\n### END SOLUTION"),
        CHECK,
        code("raise ValueError('meant to')", metadata={"tags": [RAISES]}),
    )
    for index, metadata in nbgrader_metadata(lesson).items():
        lesson.cells[index].metadata["nbgrader"] = metadata
    return lesson


def test_nbgrader_metadata_follows_schema_3_and_names_the_exercise() -> None:
    lesson = nbgrader_lesson()
    assert nbgrader_problems(lesson, "m") == []
    assert lesson.cells[2].metadata["nbgrader"] == {
        "grade": True,
        "grade_id": "exercise-1-check",
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    assert lesson.cells[1].metadata["nbgrader"]["solution"] and not lesson.cells[1].metadata["nbgrader"]["grade"]


def test_nbgrader_problems_name_the_cell_and_the_fix() -> None:
    lesson = nbgrader_lesson()
    del lesson.cells[2].metadata["nbgrader"]
    lesson.cells[0].source += "\nYour code goes between `### BEGIN SOLUTION` and `### END SOLUTION`."
    lesson.cells[3].metadata["nbgrader"] = dict(lesson.cells[1].metadata["nbgrader"])
    wanted = json.dumps(nbgrader_metadata(lesson)[2], sort_keys=True)
    assert nbgrader_problems(lesson, "m") == [
        "m, cell 1: nbgrader reads 'BEGIN SOLUTION'/'END SOLUTION' in any line as a marker: reword this cell",
        f"m, cell 3: set metadata.nbgrader to {wanted}",
        "m, cell 4: metadata.nbgrader marks a cell that is neither a solution nor its check",
        "m: grade_id 'exercise-1-answer' must be unique and made of letters, digits, '_' and '-'",
    ]


def test_regen_keeps_nbgrader_metadata() -> None:
    lesson = nbgrader_lesson()
    assert clean(copy.deepcopy(lesson)).cells == lesson.cells


def test_a_student_copy_runs_to_the_end_with_not_yet_in_the_check(tmp_path: Path) -> None:
    lesson = nbgrader_lesson()
    nbformat.write(lesson, tmp_path / "solution.ipynb")
    regenerate(tmp_path / "solution.ipynb")  # as make regen writes a lesson
    committed = read(tmp_path / "solution.ipynb")
    assert committed.cells[2].outputs[0]["text"] == "Exercise 1: correct (42).\n"
    executed, seconds = execute_student_copy(student_copy(committed, "m"), tmp_path / "student.ipynb")
    assert unexpected_errors(committed, executed, "m") == [] and seconds < 60
    assert [out.get("ename") for cell in executed.cells[2:] for out in cell.outputs] == ["NotYetError", "ValueError"]
    assert [cell.metadata.get("nbgrader") for cell in executed.cells] == [
        c.metadata.get("nbgrader") for c in lesson.cells
    ]
    executed.cells[2].outputs.clear()  # a check cell that does not complain is reported
    assert unexpected_errors(committed, executed, "m") == ["m, cell 3: expected ['NotYetError'], got no error"]
