"""What fitgen-check knows about a learner's code: imports and aliases, simple assignments, numbers.

The checker reads code, it does not run it: :class:`Code` parses every cell (or the one file), records
``import`` aliases and plain ``name = value`` assignments in reading order, and answers questions such
as "what is this call's function called once aliases are followed?" or "which value did this name have
at this line?". Enough to follow ``steps = n / bs; fit(..., steps_per_epoch=steps)``, no more.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_DEPTH = 6  # how many assignments a value is followed through


@dataclass(frozen=True)
class Place:
    """Where a node is: the cell (0 for a plain file) and the node itself."""

    cell: int
    node: ast.AST

    @property
    def order(self) -> tuple[int, int, int]:
        return (self.cell, getattr(self.node, "lineno", 0), getattr(self.node, "col_offset", 0))


@dataclass
class Code:
    """The parsed cells of one file or notebook, with the facts every rule needs."""

    trees: list[ast.Module]
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> dotted name it was imported as
    assignments: dict[str, list[tuple[tuple[int, int, int], ast.expr]]] = field(default_factory=dict)
    legacy_keras: bool = False  # the code runs on Keras 2 (tf_keras, TF_USE_LEGACY_KERAS): Keras-3 rules stay quiet
    scopes: list[tuple[int, int, int, set[str]]] = field(default_factory=list)  # functions: cell, lines, parameters

    def __post_init__(self) -> None:
        self.places = [Place(cell, node) for cell, tree in enumerate(self.trees) for node in ast.walk(tree)]
        self.call_places = [place for place in self.places if isinstance(place.node, ast.Call)]
        for place in self.places:
            node = place.node
            if isinstance(node, ast.Import):
                for name in node.names:
                    self.aliases[name.asname or name.name.split(".")[0]] = (
                        name.name if name.asname else name.name.split(".")[0]
                    )
                    self.legacy_keras |= name.name.split(".")[0] == "tf_keras"
            elif isinstance(node, ast.ImportFrom) and node.module:
                for name in node.names:
                    self.aliases[name.asname or name.name] = f"{node.module}.{name.name}"
                self.legacy_keras |= node.module.split(".")[0] == "tf_keras"
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.assignments.setdefault(target.id, []).append((place.order, node.value))
            elif isinstance(node, ast.Constant) and node.value == "TF_USE_LEGACY_KERAS":
                self.legacy_keras = True
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                arguments = node.args
                names = {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
                names |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
                self.scopes.append((place.cell, node.lineno, node.end_lineno or node.lineno, names))
        for history in self.assignments.values():  # ast.walk goes breadth first: put them in reading order
            history.sort(key=lambda entry: entry[0])

    def walk(self) -> Iterator[Place]:
        """Every node of every cell, cell by cell."""
        return iter(self.places)

    def calls(self) -> Iterator[Place]:
        return iter(self.call_places)

    def assignment_of(self, name: str, before: tuple[int, int, int]) -> tuple[tuple[int, int, int], ast.expr] | None:
        """Where and what ``name`` was last assigned before a place (reading order); None for a function's
        parameter there (its value comes from the caller) or a name never assigned."""
        cell, line, _ = before
        if any(c == cell and first <= line <= last and name in names for c, first, last, names in self.scopes):
            return None
        history = self.assignments.get(name, [])
        index = bisect.bisect_left(history, before, key=lambda entry: entry[0])
        return history[index - 1] if index else None

    def value_of(self, name: str, before: tuple[int, int, int]) -> ast.expr | None:
        """The value last assigned to ``name`` before a place (reading order), or None."""
        found = self.assignment_of(name, before)
        return found[1] if found else None

    def resolve(self, expression: ast.expr | None, before: tuple[int, int, int], depth: int = 0) -> ast.expr | None:
        """Follow a bare name to the value it was last given (a few steps deep); anything else as it is."""
        if isinstance(expression, ast.Name) and depth < MAX_DEPTH:
            value = self.value_of(expression.id, before)
            return self.resolve(value, before, depth + 1) if value is not None else expression
        return expression

    def reachable(self, expression: ast.expr, before: tuple[int, int, int]) -> list[ast.AST]:
        """Every node of ``expression`` and of the values of the names in it, followed a few steps deep."""
        seen: list[ast.AST] = []
        pending, followed = [(expression, before, 0)], set()
        while pending:
            current, position, depth = pending.pop()
            for node in ast.walk(current):
                seen.append(node)
                if isinstance(node, ast.Name) and depth < MAX_DEPTH:
                    found = self.assignment_of(node.id, position)  # x = f(x): the x inside is an earlier one
                    if found is not None and (node.id, found[0]) not in followed:
                        followed.add((node.id, found[0]))
                        pending.append((found[1], found[0], depth + 1))
        return seen

    def dotted(self, node: ast.AST | None, depth: int = 0) -> str:
        """``tf.keras.layers.RandomFlip`` for a function or class reference, with import and name aliases followed."""
        if isinstance(node, ast.Attribute):
            return f"{self.dotted(node.value, depth)}.{node.attr}"
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            value = self.assignments.get(node.id)
            if value and depth < MAX_DEPTH and isinstance(value[-1][1], ast.Attribute | ast.Name):
                return self.dotted(value[-1][1], depth + 1)
            return node.id
        if isinstance(node, ast.Call):
            return self.dotted(node.func, depth) + "()"
        return "?"

    def called(self, call: ast.Call) -> str:
        """The last part of a call's function name once aliases are followed: ``IDG(...)`` -> ``ImageDataGenerator``."""
        return self.dotted(call.func).rsplit(".", 1)[-1]


def keyword(call: ast.Call, name: str, position: int | None = None) -> ast.expr | None:
    """The argument ``name`` of a call, given by keyword or (when ``position`` is set) positionally."""
    for item in call.keywords:
        if item.arg == name:
            return item.value
    if position is not None and len(call.args) > position and not isinstance(call.args[position], ast.Starred):
        return call.args[position]
    return None


def number(node: ast.AST | None) -> float | tuple[float, ...] | None:
    """The value of a numeric literal or simple arithmetic on literals (``1. / 255``, ``-0.2``, ``(0.1, 0.3)``)."""
    if isinstance(node, ast.Tuple | ast.List):
        values = [number(element) for element in node.elts]
        return tuple(values) if values and all(isinstance(v, float) for v in values) else None  # type: ignore[arg-type]
    if isinstance(node, ast.BinOp):
        return _arithmetic(node)
    try:
        value = ast.literal_eval(node) if node is not None else None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _arithmetic(node: ast.AST | None) -> float | None:
    if isinstance(node, ast.BinOp):
        left, right = number(node.left), number(node.right)
        if isinstance(left, float) and isinstance(right, float):
            operations = {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}
            if isinstance(node.op, ast.Div):
                return left / right if right else None
            return operations.get(type(node.op))
    return None


def comment_lines(node: ast.AST) -> set[int]:
    """Where an inline ``# fitgen: ignore`` comment for a node may sit: its first or its last line (1-based)."""
    first = getattr(node, "lineno", 1)
    return {first, getattr(node, "end_lineno", None) or first}
