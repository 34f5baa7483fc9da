"""``fitgen-check``: find the pitfalls the lessons measure in your own scripts and notebooks, and fix the safe ones.

    fitgen-check train.py notebooks/          # report: path:line:col: FG003 message (lesson)
    fitgen-check --fix train.py               # rewrite what is safe (import path, fit_generator, float steps)
    fitgen-check --diff train.py              # show those rewrites without writing
    python -m helpers.fitgen_check ...        # the same, without the console script

In a notebook, "cell N" counts every cell from the top, markdown cells included, and lines count within the cell.
Exit status: 0 nothing found, 1 problems found, 2 a path could not be read or a bad argument. In a notebook,
``%load_ext helpers.fitgen_check`` then ``%%fitgen_check`` at the top of a cell checks that cell instead of running it.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from helpers.code_analysis import comment_lines
from helpers.code_fixes import apply_edits, ceil_name, edits_for
from helpers.code_problems import RULES, Problem
from helpers.code_reading import Source, UnreadableError, as_python, files_under, read_source
from helpers.code_rules import find_problems
from helpers.command_line import OneLineParser, printable_output

PROG = "fitgen-check"
INLINE_IGNORE = re.compile(r"#\s*fitgen:\s*ignore(?:\[([\w\s,-]+)\])?", re.IGNORECASE)


def rule_ids(names: Sequence[str], strict: bool = True) -> set[str]:
    """Rule ids from ids or names (``FG003``, ``float-steps``), comma-separated or repeated; an unknown one is an
    error when ``strict`` (command-line options), and left out otherwise (a typo in a comment must not stop a run)."""
    by_name = {rule.name: rule.id for rule in RULES.values()}
    chosen = set()
    for item in (part.strip() for text in names for part in text.split(",") if part.strip()):
        rule = item.upper() if item.upper() in RULES else by_name.get(item.lower())
        if rule is None and strict:
            known = ", ".join(f"{rule.id} {rule.name}" for rule in RULES.values())
            raise ValueError(f"unknown rule {item!r}; the rules are: {known}")
        chosen |= {rule} - {None}
    return chosen


def _ignored_here(problem: Problem, source: Source) -> bool:
    """True when a ``# fitgen: ignore`` or ``# fitgen: ignore[FG003]`` comment ends the problem's first or last line."""
    lines = source.lines(problem.cell)
    for number in sorted(comment_lines(problem.node)):
        match = INLINE_IGNORE.search(lines[number - 1]) if number <= len(lines) else None
        if match and (match.group(1) is None or problem.rule.id in rule_ids([match.group(1)], strict=False)):
            return True
    return False


def check_source(source: Source, select: set[str] | None = None, ignore: set[str] = frozenset()) -> list[Problem]:
    """The problems in one read file, after --select, --ignore and inline ignore comments."""
    return [
        problem
        for problem in find_problems(source.code())
        if (select is None or problem.rule.id in select)
        and problem.rule.id not in ignore
        and not _ignored_here(problem, source)
    ]


def _code_source(text: str) -> Source:
    source = Source(Path("<code>"), [text], [1], None, [as_python(text)])
    source.trees = [ast.parse(source.python[0])]
    return source


def check_code(text: str) -> list[Problem]:
    """The problems in a piece of code (a cell, a recipe), IPython syntax allowed: what lessons call."""
    return check_source(_code_source(text))


def fix_code(text: str) -> str:
    """``text`` with its fixable problems rewritten, as ``--fix`` would write it."""
    source = _code_source(text)
    return fixed_cells(source, check_source(source))[0]


def describe(problems: list[Problem], source: Source | None = None) -> str:
    """One line per problem: where, rule id and name, why, and the lesson that measures it."""
    lines = []
    for problem in problems:
        if source is None:
            where = f"line {problem.line}"
        else:
            where = source.where(
                problem.cell, problem.line, source.character_column(problem.cell, problem.line, problem.column)
            )
        fixable = " [fixable]" if problem.fix else ""
        lines.append(
            f"{where}: {problem.rule.id} {problem.rule.name}: {problem.message} ({problem.rule.lesson}){fixable}"
        )
    return "\n".join(lines) if lines else "no problems found"


def as_record(problem: Problem, source: Source) -> dict:
    return {
        "path": str(source.path).encode("utf-8", "backslashreplace").decode("utf-8"),  # valid JSON for any name
        "cell": source.numbers[problem.cell] if source.notebook is not None else None,
        "line": problem.line,
        "column": source.character_column(problem.cell, problem.line, problem.column) + 1,
        "rule": problem.rule.id,
        "name": problem.rule.name,
        "message": problem.message,
        "lesson": problem.rule.lesson,
        "fixable": problem.fix is not None,
    }


def fixed_cells(source: Source, problems: list[Problem]) -> list[str]:
    """The cells' text with every fixable problem rewritten (``import math`` added once if needed)."""
    cells = list(source.cells)
    ceil, import_needed = ceil_name(
        ast.Module(body=[node for tree in source.trees for node in tree.body], type_ignores=[])
    )
    newline = "\r\n" if "\r\n" in source.cells[0] else "\n"
    for index, cell in enumerate(source.cells):
        here = [problem for problem in problems if problem.cell == index and problem.fix]
        if here:
            edits = edits_for(cell, source.trees[index], here, ceil, import_needed, newline)
            import_needed &= not any(edit.text.startswith("import math") for edit in edits)
            cells[index] = apply_edits(cell, edits)
            ast.parse(as_python(cells[index]))  # never write code Python cannot read (SyntaxError otherwise)
    return cells


def write_fixed(source: Source, cells: list[str]) -> None:
    """Write the fixed cells back; a notebook keeps its outputs and layout (Jupyter's own JSON format)."""
    if source.notebook is None:
        source.path.write_bytes(cells[0].encode(source.encoding))  # the file's own encoding (BOM, coding cookie)
        return
    code_cells = [cell for cell in source.notebook["cells"] if cell.get("cell_type") == "code"]
    for cell, text in zip(code_cells, cells, strict=True):
        cell["source"] = text.splitlines(keepends=True) if isinstance(cell.get("source"), list) else text
    source.path.write_text(json.dumps(source.notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def diff_text(source: Source, cells: list[str]) -> str:
    parts = []
    for index, (before, after) in enumerate(zip(source.cells, cells, strict=True)):
        if before != after:
            name = f"{source.path}" + (f" (cell {source.numbers[index]})" if source.notebook is not None else "")
            parts += difflib.unified_diff(before.splitlines(True), after.splitlines(True), name, name + " (fixed)")
    return "".join(parts)


def _notebook_layout_kept(source: Source) -> bool:
    return source.path.read_text(encoding="utf-8") == json.dumps(source.notebook, indent=1, ensure_ascii=False) + "\n"


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    rules = "; ".join(f"{rule.id} {rule.name} ({rule.lesson})" for rule in RULES.values())
    parser = OneLineParser(
        prog=PROG,
        description=__doc__.split("\n\n")[0],
        epilog=f"Rules: {rules}. Exit status: 0 nothing found, 1 problems found, 2 a path could not be read or bad "
        "arguments. Silence one line with a comment: # fitgen: ignore[FG003].",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help=".py files, notebooks or folders")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    parser.add_argument("--select", action="append", default=[], metavar="IDS", help="only these rules (ids or names)")
    parser.add_argument("--ignore", action="append", default=[], metavar="IDS", help="leave these rules out")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--fix", action="store_true", help="rewrite the fixable problems in place")
    group.add_argument("--diff", action="store_true", help="show the rewrites --fix would make, write nothing")
    arguments = parser.parse_args(argv)
    try:
        arguments.select = rule_ids(arguments.select) if arguments.select else None
        arguments.ignore = rule_ids(arguments.ignore)
    except ValueError as error:
        parser.error(str(error))
    if arguments.select == set():
        parser.error("--select needs at least one rule id or name")
    return arguments


def _fix_or_diff(source: Source, problems: list[Problem], arguments: argparse.Namespace) -> tuple[str, int]:
    """Rewrite (--fix) or show (--diff) one file's fixable problems: (the diff, how many were fixed)."""
    try:
        cells = fixed_cells(source, problems)
    except SyntaxError:
        raise UnreadableError(f"{source.path}: not fixed: the rewrite would not parse (a fitgen-check bug)") from None
    if arguments.diff:
        return diff_text(source, cells), 0
    if source.notebook is not None and not _notebook_layout_kept(source):
        raise UnreadableError(
            f"{source.path}: not fixed: its JSON layout is not Jupyter's own, and rewriting it would change every "
            "line; save it once in JupyterLab, or see the change with --diff"
        )
    write_fixed(source, cells)
    return "", sum(1 for problem in problems if problem.fix)


def main(argv: list[str] | None = None) -> int:
    printable_output()
    arguments = parse_arguments(argv)
    records, lines, diffs, unreadable, fixed = [], [], [], [], 0
    for path in files_under(arguments.paths) or arguments.paths:
        try:
            source = read_source(path)
            problems = check_source(source, arguments.select, arguments.ignore)
            if (arguments.fix or arguments.diff) and any(problem.fix for problem in problems):
                diff, count = _fix_or_diff(source, problems, arguments)
                diffs.append(diff)
                if count:
                    fixed += count
                    source = read_source(path)
                    problems = check_source(source, arguments.select, arguments.ignore)
        except UnreadableError as error:
            unreadable.append(str(error))
            continue
        except (RecursionError, MemoryError):
            unreadable.append(f"{path}: too deeply nested or too large to check")
            continue
        unreadable += source.errors
        records += [as_record(problem, source) for problem in problems]
        lines += [describe(problems, source)] if problems else []
    if arguments.format == "json":
        print(json.dumps({"problems": records, "unreadable": unreadable, "fixed": fixed, "diff": "".join(diffs)}))
    else:
        report = "".join(diffs) + "\n".join(lines) if diffs or lines else "" if unreadable else "no problems found"
        if report:
            print(report)
        for message in unreadable:
            print(f"{PROG}: error: {message}", file=sys.stderr)
        if arguments.fix:
            print(f"fixed {fixed} problem(s); {len(records)} left to decide")
    return 2 if unreadable else 1 if records else 0


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext helpers.fitgen_check``: adds the ``%%fitgen_check`` cell magic (checks the cell, does not run it)."""

    def fitgen_check(line: str, cell: str) -> None:
        try:
            print(describe(check_code(cell)))
        except SyntaxError as error:
            print(f"line {error.lineno}: syntax error ({error.msg}); fix it, then check again")

    ipython.register_magic_function(fitgen_check, "cell", "fitgen_check")


def time_checker(lines: int = 5_000, cells: int = 100) -> dict[str, float]:
    """Seconds to check a ``lines``-line script and a ``cells``-cell notebook of the classic recipe (make bench)."""
    recipe = (Path(__file__).resolve().parent.parent / "notebooks" / "classic_recipe.py").read_text()
    script = "\n".join([recipe] * (lines // recipe.count("\n") + 1))
    notebook = {"cells": [{"cell_type": "code", "source": recipe, "metadata": {}, "outputs": []}] * cells}
    timings = {}
    for name, text in (("script", script), ("notebook", json.dumps(notebook))):
        started = time.perf_counter()
        source = _source_from_text(name, text)
        describe(check_source(source), source)  # reading, checking and reporting: what a user waits for
        timings[name] = time.perf_counter() - started
    return timings


def _source_from_text(kind: str, text: str) -> Source:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("bench.ipynb" if kind == "notebook" else "bench.py")
        path.write_text(text, encoding="utf-8")
        return read_source(path)


if __name__ == "__main__":
    sys.exit(main())
