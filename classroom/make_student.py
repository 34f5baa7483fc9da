"""Build student copies of the lessons (``make student``): solutions become runnable placeholders.

Solution blocks are found the way nbgrader's ``ClearSolutions`` finds them (a line containing
``BEGIN SOLUTION`` up to a line containing ``END SOLUTION``). Each block becomes ``# YOUR CODE HERE``
plus one ``name = ...`` line per name the solution assigns at top level: the notebook still runs top to
bottom, and the check cell after it raises ``NotYetError`` ("not answered yet") until the student answers.
Hidden tests (nbgrader's `BEGIN HIDDEN TESTS` blocks) are removed, as nbgrader removes them from a release.
Outputs and execution counts are cleared; markdown, tags, metadata and all other code stay as they are.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"  # nbgrader's default delimiters, matched anywhere in a line
STUB = "# YOUR CODE HERE"  # nbgrader's code stub wording
HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"  # nbgrader's delimiters, in check cells only
EXERCISE_LABEL = re.compile(r"\*\*(Exercise \w+)\.?\*\*")
NBGRADER_SCHEMA_VERSION = 3  # nbgrader 0.9.6 (newest release): nbgrader/nbgraderformat/v3.json, MetadataValidatorV3


class SolutionError(ValueError):
    """A lesson's solution block cannot become a placeholder; the message names the notebook, cell and fix."""


@dataclass(frozen=True)
class Block:
    """One solution block of a cell: the marker line numbers (0-based) and the code between them."""

    begin: int
    end: int
    indent: str
    code: str


def where(notebook_name: str, index: int) -> str:
    """How messages name a cell: its position counted from 1 over all cells, markdown included."""
    return f"{notebook_name}, cell {index + 1}"


def solution_blocks(source: str, place: str) -> list[Block]:
    """The solution blocks of a cell's source; nested, unclosed or unopened markers are refused like nbgrader."""
    lines = source.split("\n")
    blocks: list[Block] = []
    begin: int | None = None
    for number, line in enumerate(lines):
        if BEGIN in line:
            if begin is not None:
                raise SolutionError(f"{place}: nested '{BEGIN}' (line {number + 1}); close the first block first.")
            begin = number
        elif END in line:
            if begin is None:
                raise SolutionError(f"{place}: '{END}' without '{BEGIN}' (line {number + 1}); add or remove a marker.")
            indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
            blocks.append(Block(begin, number, indent, "\n".join(lines[begin + 1 : number])))
            begin = None
    if begin is not None:
        raise SolutionError(f"{place}: '{BEGIN}' (line {begin + 1}) has no '{END}'; close the block.")
    return blocks


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _target_names(element)]
    return []  # attribute or item assignment: changes an object, binds no name


def assigned_names(code: str, place: str) -> list[str]:
    """Names a solution binds at top level (assignments, ``def``, ``class``), in order, without ``_``."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError as error:
        raise SolutionError(f"{place}: the solution is not valid Python ({error.msg}, line {error.lineno}).") from None
    names: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            found = [name for target in statement.targets for name in _target_names(target)]
        elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
            found = _target_names(statement.target)
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found = [statement.name]
        else:
            found = []
        names += [name for name in found if name != "_" and name not in names]
    return names


def exercise_label(cells: list, index: int) -> str | None:
    """The nearest ``**Exercise N.**`` in a markdown cell above ``index`` (the exercise this block answers)."""
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown" and (labels := EXERCISE_LABEL.findall(cell.source)):
            return labels[-1]
    return None


def placeholder(names: list[str], indent: str, label: str | None) -> list[str]:
    """``# YOUR CODE HERE`` and one ``name = ...`` line per name, saying what belongs there."""
    lines = [indent + STUB]
    for name in names:
        what = name.removeprefix("exercise_").replace("_", " ").strip() or name
        lines.append(f"{indent}{name} = ...  {STUB}: {what}" + (f" ({label})" if label else ""))
    return lines


def student_source(source: str, place: str, label: str | None) -> str:
    """A code cell's source with every solution block replaced by its placeholder."""
    lines = source.split("\n")
    for block in reversed(solution_blocks(source, place)):  # from the end, so earlier line numbers stay valid
        names = assigned_names(block.code, place)
        if not names:
            raise SolutionError(
                f"{place}: the solution assigns no name, so the student copy would have nothing to fill in; "
                "assign the answer to a variable that the check cell reads."
            )
        lines[block.begin : block.end + 1] = placeholder(names, block.indent, label)
    return "\n".join(lines)


def split_hidden_tests(source: str) -> tuple[str, str]:
    """(a check cell's source without its hidden tests, the lines of its hidden tests), markers dropped.

    The first is what nbgrader's ClearHiddenTests leaves in a release; a source without markers is kept as it is.
    """
    if HIDDEN_BEGIN not in source:
        return source, ""
    visible, hidden, hiding = [], [], False
    for line in source.split("\n"):
        if HIDDEN_BEGIN in line:
            hiding = True
        elif HIDDEN_END in line:
            hiding = False
        else:
            (hidden if hiding else visible).append(line)
    return "\n".join(visible).rstrip("\n"), "\n".join(hidden)


def without_hidden_tests(source: str) -> str:
    """A check cell's source without its hidden tests (what nbgrader's ClearHiddenTests removes from a release)."""
    return split_hidden_tests(source)[0]


def has_solution(cell: nbformat.NotebookNode) -> bool:
    """Whether a code cell holds a solution block (the cells a student fills in)."""
    return cell.cell_type == "code" and any(BEGIN in line for line in cell.source.split("\n"))


def solution_and_check_cells(notebook: nbformat.NotebookNode) -> list[tuple[int, int | None]]:
    """(solution cell index, index of the next code cell, which checks it) for every solution cell."""
    pairs = []
    for index, cell in enumerate(notebook.cells):
        if has_solution(cell):
            later = [i for i in range(index + 1, len(notebook.cells)) if notebook.cells[i].cell_type == "code"]
            pairs.append((index, later[0] if later else None))
    return pairs


def student_copy(notebook: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The student version of a lesson; raises SolutionError naming the cell when a block cannot be replaced."""
    copied = copy.deepcopy(notebook)
    for index, cell in enumerate(copied.cells):
        place = where(name, index)
        if cell.cell_type == "code":
            if BEGIN in cell.source or END in cell.source:
                cell.source = student_source(cell.source, place, exercise_label(copied.cells, index))
            cell.source = without_hidden_tests(cell.source)
            cell.outputs = []
            cell.execution_count = None
        elif any(line.strip().lstrip("#").strip() in (BEGIN, END) for line in cell.source.split("\n")):
            raise SolutionError(f"{place}: a {cell.cell_type} cell holds a solution marker line; solutions go in code.")
    for index, check in solution_and_check_cells(notebook):
        if check is None:
            raise SolutionError(f"{where(name, index)}: no code cell after the solution checks it; add a check cell.")
    return copied


def nbgrader_metadata(notebook: nbformat.NotebookNode) -> dict[int, dict]:
    """The ``metadata.nbgrader`` each solution cell ("autograded answer") and check cell ("autograder tests") needs.

    grade_id comes from the exercise label ("Exercise 2" -> "exercise-2-answer" / "exercise-2-check").
    """
    wanted: dict[int, dict] = {}
    for index, check in solution_and_check_cells(notebook):
        label = exercise_label(notebook.cells, index) or f"cell {index + 1}"
        stem = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        wanted[index] = _nbgrader(f"{stem}-answer", grade=False, locked=False, solution=True)
        if check is not None:
            wanted[check] = {**_nbgrader(f"{stem}-check", grade=True, locked=True, solution=False), "points": 1}
    return wanted


def _nbgrader(grade_id: str, *, grade: bool, locked: bool, solution: bool) -> dict:
    """One cell's nbgrader metadata (schema 3 requires grade, locked, solution and schema_version)."""
    flags = {"grade": grade, "locked": locked, "solution": solution, "task": False}
    return {**flags, "grade_id": grade_id, "schema_version": NBGRADER_SCHEMA_VERSION}


def nbgrader_problems(notebook: nbformat.NotebookNode, name: str) -> list[str]:
    """What stops ``nbgrader generate_assignment`` from using a lesson as it is, one line per problem.

    nbgrader refuses a solution region outside a cell marked ``solution`` (its ``enforce_metadata``), matches
    the delimiters anywhere in a line of ANY cell, and validates grade ids (unique, ``[a-zA-Z0-9_-]``).
    """
    problems = []
    wanted = nbgrader_metadata(notebook)
    for index, cell in enumerate(notebook.cells):
        place = where(name, index)
        meta = cell.metadata.get("nbgrader")
        if index in wanted:
            flags = {key: wanted[index][key] for key in ("grade", "locked", "solution", "schema_version")}
            if not meta or any(meta.get(key) != value for key, value in flags.items()):
                problems.append(f"{place}: set metadata.nbgrader to {json.dumps(wanted[index], sort_keys=True)}")
            elif meta.get("grade") and not (isinstance(meta.get("points"), int | float) and meta["points"] > 0):
                problems.append(f"{place}: an autograder tests cell needs metadata.nbgrader.points > 0")
        elif not has_solution(cell) and any(marker in cell.source for marker in (BEGIN, END)):
            problems.append(f"{place}: nbgrader reads '{BEGIN}'/'{END}' in any line as a marker: reword this cell")
        elif HIDDEN_BEGIN in cell.source or HIDDEN_END in cell.source:
            problems.append(f"{place}: hidden tests belong in a check cell (nbgrader grades only those)")
        elif meta and (meta.get("solution") or meta.get("grade")):
            problems.append(f"{place}: metadata.nbgrader marks a cell that is neither a solution nor its check")
    ids = [cell.metadata["nbgrader"].get("grade_id") for cell in notebook.cells if "nbgrader" in cell.metadata]
    for grade_id in dict.fromkeys(ids):  # each id once, in order
        if not re.fullmatch(r"[a-zA-Z0-9_\-]+", str(grade_id)) or ids.count(grade_id) > 1:
            problems.append(f"{name}: grade_id {grade_id!r} must be unique and made of letters, digits, '_' and '-'")
    return problems


def annotate(path: Path) -> bool:
    """Write the nbgrader metadata a lesson's solution and check cells need into it; True when it changed.

    Only ``metadata.nbgrader`` of those cells changes (outputs stay): a lesson author runs
    ``python classroom/make_student.py --annotate notebooks/NN_name.ipynb`` after adding an exercise and commits it.
    """
    notebook = nbformat.read(path, as_version=4)
    changed = False
    for index, wanted in nbgrader_metadata(notebook).items():
        if notebook.cells[index].metadata.get("nbgrader") != wanted:
            notebook.cells[index].metadata["nbgrader"] = wanted
            changed = True
    if changed:
        nbformat.write(notebook, path)
    return changed


def build(paths: list[Path], out: Path) -> list[Path]:
    """Write a student copy of each lesson into ``out``; all are built before any is written."""
    copies = [(out / path.name, student_copy(nbformat.read(path, as_version=4), _shown(path))) for path in paths]
    out.mkdir(parents=True, exist_ok=True)
    for target, notebook in copies:
        nbformat.write(notebook, target)
    return [target for target, _ in copies]


def _shown(path: Path) -> str:
    """A path as messages show it: relative to the repository when it is inside."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="lessons (default: notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="folder for the copies (default: student/)")
    parser.add_argument(
        "--annotate", action="store_true", help="write nbgrader metadata into the lessons themselves; build nothing"
    )
    arguments = parser.parse_args(argv)
    paths = arguments.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if arguments.annotate:
        for path in paths:
            print(
                f"{_shown(path)}: {'nbgrader metadata written' if annotate(path) else 'nbgrader metadata up to date'}"
            )
        return 0
    try:
        written = build(paths, arguments.out)
    except SolutionError as error:
        print(f"make_student: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"student copy: {_shown(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
