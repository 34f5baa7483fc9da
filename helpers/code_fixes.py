"""``fitgen-check --fix``: rewrite the safe, unambiguous problems in place and leave every other byte alone.

Three rewrites, each a small text edit at the positions Python's parser reports (so comments, quotes and
layout stay as they were): the Keras 3 import path of the legacy ``ImageDataGenerator``, ``fit_generator``
-> ``fit`` (and its two siblings), and a float steps expression -> ``math.ceil(...)``, with ``import math``
added once where the file has none. Everything else is reported, not rewritten: it needs the author's decision.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from helpers.code_problems import Problem

OLD_MODULE, NEW_MODULE = "keras.preprocessing.image", "tensorflow.keras.preprocessing.image"


@dataclass(frozen=True)
class Edit:
    """Replace ``length`` characters at ``offset`` (in the cell's text) with ``text``."""

    offset: int
    length: int
    text: str


class Positions:
    """Character offsets in a text from the (1-based line, UTF-8 byte column) pairs Python's AST gives."""

    def __init__(self, text: str) -> None:
        # Python ends lines at \n, \r\n and \r only (not at a form feed or U+2028, as str.splitlines does)
        self.lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text) or [""]
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, byte_column: int) -> int:
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return self.starts[line - 1] + len(text.encode("utf-8")[:byte_column].decode("utf-8", "ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)


def ceil_name(tree: ast.Module) -> tuple[str, bool]:
    """How this code can call ceil (``math.ceil`` or an imported ``ceil``), and whether ``import math`` is needed."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name == "math" for alias in node.names):
            alias = next(alias for alias in node.names if alias.name == "math")
            return f"{alias.asname or 'math'}.ceil", False
        if isinstance(node, ast.ImportFrom) and node.module == "math":
            for alias in node.names:
                if alias.name == "ceil":
                    return alias.asname or "ceil", False
    return "math.ceil", True


def _import_line(tree: ast.Module, positions: Positions) -> int:
    """Where ``import math`` goes: before the first import (after ``__future__`` ones and the docstring)."""
    body = list(tree.body)
    after = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        after = positions.starts[body[0].end_lineno]  # just after the module docstring
    for node in body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            after = positions.starts[node.end_lineno]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            return max(after, positions.starts[node.lineno - 1])
    if not after and body:  # no import and no docstring: above the first statement, below a #! line
        return positions.starts[body[0].lineno - 1]
    return after


def edits_for(
    text: str, tree: ast.Module, problems: list[Problem], ceil: str, import_needed: bool, newline: str = "\n"
) -> list[Edit]:
    """The edits that fix the fixable ``problems`` of one cell (``ceil``: how to call it, see :func:`ceil_name`)."""
    positions, edits = Positions(text), []
    for problem in problems:
        start, end = positions.span(problem.node)
        original = text[start:end]
        if problem.fix == "module" and OLD_MODULE in original:
            at = start + original.index(OLD_MODULE)
            if text[at - 1 : at] in (" ", "\t"):  # not inside "tensorflow.keras..."
                edits.append(Edit(at, len(OLD_MODULE), NEW_MODULE))
        elif problem.fix == "rename" and isinstance(problem.node, ast.Call):
            name = problem.node.func.attr
            name_end = positions.offset(problem.node.func.end_lineno, problem.node.func.end_col_offset)
            if text[name_end - len(name) : name_end] == name:
                edits.append(Edit(name_end - len(name), len(name), name.removesuffix("_generator")))
        elif problem.fix == "ceil":
            edits += [Edit(start, 0, f"{ceil}("), Edit(end, 0, ")")]
    if any(problem.fix == "ceil" for problem in problems) and import_needed:
        edits.append(Edit(_import_line(tree, positions), 0, f"import math{newline}"))
    return edits


def apply_edits(text: str, edits: list[Edit]) -> str:
    """``text`` with the edits made, from the last to the first so that offsets stay valid."""
    for edit in sorted(set(edits), key=lambda e: (e.offset, e.length), reverse=True):
        text = text[: edit.offset] + edit.text + text[edit.offset + edit.length :]
    return text
