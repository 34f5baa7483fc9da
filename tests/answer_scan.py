"""Find an exercise's expected value in code a student sees (check cells of student copies and nbgrader releases).

The expected values are the literal ones in each check cell's hidden tests, ``grade_hidden(label, answer, VALUE)``;
code is searched for any expression made only of literals, arithmetic and ``math``/``round``/``abs`` calls whose
value equals one (``1_281_167 * 224 * 224 * 3 * 4`` shows a product as surely as its digits do).
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass
from pathlib import Path

import nbformat

from classroom.make_student import has_solution, solution_blocks, split_hidden_tests

OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
GRADERS = ("grade_hidden", "grade_hidden_result")  # helpers.checks' hidden-test functions
FUNCTIONS = {"round": round, "abs": abs, "min": min, "max": max, "int": int, "float": float}


class NotLiteral(Exception):
    """The expression depends on something other than literals."""


@dataclass(frozen=True)
class Expected:
    """One exercise's expected value, as its hidden test states it, and the tolerance the test allows."""

    label: str
    value: object
    tolerance: float


def graded_calls(check_source: str) -> list[ast.Call]:
    """The ``grade_hidden(...)`` / ``grade_hidden_result(...)`` calls in a check cell's hidden tests."""
    hidden = split_hidden_tests(check_source)[1]
    return [
        node
        for node in ast.walk(ast.parse(hidden))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in GRADERS
    ]


def literal_value(node: ast.expr) -> object:
    """The value of an expression made only of literals, arithmetic and pure functions; NotLiteral otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool):
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(literal_value(part) for part in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = literal_value(node.operand)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        try:
            return OPERATORS[type(node.op)](literal_value(node.left), literal_value(node.right))
        except (ArithmeticError, TypeError, ValueError) as error:
            raise NotLiteral from error
    if isinstance(node, ast.Call) and not node.keywords:
        function = _pure_function(node.func)
        try:
            return function(*(literal_value(argument) for argument in node.args))
        except (ArithmeticError, TypeError, ValueError) as error:
            raise NotLiteral from error
    raise NotLiteral


def _pure_function(node: ast.expr):
    if isinstance(node, ast.Name) and node.id in FUNCTIONS:
        return FUNCTIONS[node.id]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "math":
        if callable(getattr(math, node.attr, None)):
            return getattr(math, node.attr)
    raise NotLiteral


def expected_values(check_source: str) -> list[Expected]:
    """The literal expected values in a check cell's hidden tests (computed ones are skipped)."""
    found = []
    for call in graded_calls(check_source):
        try:
            value = literal_value(call.args[2])
            tolerance = float(literal_value(call.args[3])) if len(call.args) > 3 else 0.0
        except (NotLiteral, IndexError):
            continue
        found.append(Expected(str(literal_value(call.args[0])), value, tolerance))
    return found


def _equal(value: object, expected: Expected) -> bool:
    if isinstance(value, bool) or isinstance(expected.value, bool):
        return type(value) is type(expected.value) and value == expected.value
    if isinstance(value, int | float) and isinstance(expected.value, int | float):
        return abs(value - expected.value) <= max(expected.tolerance, 1e-9 * abs(expected.value))
    return value == expected.value


def shown_values(source: str, expected: list[Expected]) -> list[str]:
    """Each place in ``source`` whose literal value equals an expected one, as 'label: code'."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    shown = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.expr):
            continue
        try:
            value = literal_value(node)
        except NotLiteral:
            continue
        shown += [f"{item.label}: {ast.unparse(node)}" for item in expected if _equal(value, item)]
    return shown


def is_a_name(line: str) -> bool:
    """A lone string such as ``"no rescale"``: one of the choices a lesson offers, not a solution by itself."""
    try:
        return isinstance(ast.literal_eval(line.strip().rstrip(",")), str)
    except (ValueError, SyntaxError):
        return False


def solution_lines(lessons: list[Path]) -> dict[str, str]:
    """Each line of code a solution or hidden test holds (that appears nowhere else in its lesson) -> where."""
    lines = {}
    for lesson in lessons:
        notebook = nbformat.read(lesson, as_version=4)
        elsewhere, secret = set(), {}
        for index, cell in enumerate(notebook.cells):
            blocks = solution_blocks(cell.source, lesson.name) if has_solution(cell) else []
            outside, hidden = split_hidden_tests(cell.source)
            for line in "\n".join([*(block.code for block in blocks), hidden]).split("\n"):
                if len(line.strip()) >= 16 and not line.strip().endswith("(") and not is_a_name(line):
                    secret[line.strip()] = f"{lesson.name}, cell {index + 1}"
            for block in blocks:
                outside = outside.replace(block.code, "")
            elsewhere |= {line.strip() for line in outside.split("\n")}
        lines |= {line: place for line, place in secret.items() if line not in elsewhere}
    return lines
