"""What fitgen-check reports: the rules (stable id, name, the lesson that measures the pitfall) and a problem found.

Also the few questions about a call that many rules ask (is it an ``ImageDataGenerator``? what is its argument?).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from helpers.code_analysis import Code, Place, keyword


@dataclass(frozen=True)
class Rule:
    """A pitfall rule: its stable id, a name for --select and --ignore, and the lesson that measures it."""

    id: str
    name: str
    lesson: str


@dataclass(frozen=True)
class Problem:
    """One pitfall found: where (cell, 1-based line, 0-based column), which rule, why, and what can fix it."""

    rule: Rule
    cell: int
    node: ast.AST
    message: str
    fix: str | None = None  # "module", "rename" or "ceil" when --fix may rewrite it

    @property
    def line(self) -> int:
        return getattr(self.node, "lineno", 1)

    @property
    def column(self) -> int:
        return getattr(self.node, "col_offset", 0)


RULES = {
    rule.id: rule
    for rule in (
        Rule("FG001", "keras3-legacy-import", "lesson 01, section 7"),
        Rule("FG002", "fit-generator", "lesson 04, section 2"),
        Rule("FG003", "float-steps", "lesson 03, section 3"),
        Rule("FG004", "floor-steps", "lesson 03, sections 4 and 7"),
        Rule("FG005", "shear-in-degrees", "lesson 02, section 3"),
        Rule("FG006", "random-flip-both-axes", "lesson 02, section 7"),
        Rule("FG007", "random-rotation-fraction", "lesson 02, section 7"),
        Rule("FG008", "zoom-semantics-mixed", "lesson 02, sections 4 and 7"),
        Rule("FG009", "preprocess-twice", "lesson 05, section 1"),
        Rule("FG010", "augmented-validation", "lesson 02, section 8"),
        Rule("FG011", "shuffled-predict", "lesson 05, section 1"),
        Rule("FG012", "fit-worker-arguments", "lesson 04, section 2"),
        Rule("FG013", "predict-without-rescale", "lesson 05, sections 1 and 3"),
        Rule("FG014", "opencv-bgr", "lesson 05, section 1"),
    )
}
KERAS3_ONLY = ("FG002", "FG012")  # fine on a tf_keras model; FG001 is not: `keras` stays Keras 3


def problem(rule: str, place: Place, message: str, node: ast.AST | None = None, fix: str | None = None) -> Problem:
    return Problem(RULES[rule], place.cell, node or place.node, message, fix)


def generators(code: Code) -> Iterator[Place]:
    return (place for place in code.calls() if code.called(place.node) == "ImageDataGenerator")


def argument(code: Code, place: Place, name: str, position: int | None = None) -> ast.expr | None:
    return code.resolve(keyword(place.node, name, position), place.order)


def layer_calls(code: Code, name: str) -> Iterator[Place]:
    return (place for place in code.calls() if code.called(place.node) == name)
