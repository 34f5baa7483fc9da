"""Refuse notebooks whose outputs were not written by ``make regen`` (a pre-commit hook; also a library).

``make regen`` (tests/regen_notebooks.py) executes every code cell in order in a fresh kernel and then
cleans the notebook: merged stream chunks, no widget state or timing metadata, the kit's kernel spec.
Outputs saved from JupyterLab, or a half-run notebook, differ from that in ways nbval trips over later
(or on another machine). Each problem is one line naming the notebook, the cell (counted from 1 over all
cells, markdown included) and the fix. Usage: ``python -m tests.check_committed_notebooks [NOTEBOOK ...]``.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbval.plugin import get_sanitize_patterns

from tests.regen_notebooks import (
    IGNORE_OUTPUT_TAG,
    KERNELSPEC,
    LANGUAGE_INFO,
    SANITIZE_FILE,
    VOLATILE_CELL_METADATA,
    WIDGET_VIEW,
    clean,
    mask_volatile_text,
    merge_streams,
)

ROOT = Path(__file__).resolve().parent.parent
REGEN = "run make regen"
SKIP_TAG = NotebookClient.skip_cells_with_tag.default_value  # nbclient (so make regen) never runs these cells


@functools.cache
def sanitize_patterns() -> list[tuple[str, str]]:
    """nbval's sanitize pairs, as make test applies them before comparing outputs."""
    return get_sanitize_patterns(SANITIZE_FILE.read_text())


@functools.cache
def machine_paths() -> list[str]:
    """Absolute paths that exist only on this machine: the checkout, the venv, the home and temp folders."""
    paths = {str(ROOT), sys.prefix, os.path.expanduser("~"), tempfile.gettempdir()}
    return sorted((path for path in paths if path.strip("/")), key=len, reverse=True)


def output_texts(output: nbformat.NotebookNode) -> list[str]:
    """The text of an output that nbval compares (tracebacks are not compared, so they are not checked)."""
    if output.get("output_type") == "stream":
        return [output.get("text", "")]
    if output.get("output_type") == "error":
        return [output.get("evalue", "")]
    return [
        value for key, value in output.get("data", {}).items() if key.startswith("text/") and isinstance(value, str)
    ]


def cell_problems(cell: nbformat.NotebookNode, place: str, expected_count: int | None) -> list[str]:
    """Problems of one code cell; ``expected_count`` is the count make regen gives it (None: it never runs)."""
    problems = []
    count = cell.get("execution_count")
    if expected_count is None:
        return [f"{place}: make regen never runs an empty or {SKIP_TAG} cell, so it has no count: delete the cell"]
    if cell.outputs and count is None:
        problems.append(f"{place}: outputs but no execution count (saved from an unrun cell): {REGEN}")
    elif count != expected_count:
        problems.append(f"{place}: execution count {count}, expected {expected_count} (cells run in order): {REGEN}")
    for output in cell.outputs:
        if output.get("output_type") == "execute_result" and output.get("execution_count") != count:
            problems.append(f"{place}: a result's execution count differs from its cell's: {REGEN}")
        if WIDGET_VIEW in output.get("data", {}) or WIDGET_VIEW in output.get("metadata", {}):
            problems.append(f"{place}: widget model id in an output: {REGEN}")
    if len(merge_streams(copy.deepcopy(cell.outputs))) != len(cell.outputs):
        problems.append(f"{place}: unmerged consecutive stream outputs: {REGEN}")
    if IGNORE_OUTPUT_TAG in cell.metadata.get("tags", []):
        masked = copy.deepcopy(cell.outputs)
        mask_volatile_text(masked, sanitize_patterns())
        if masked != cell.outputs:
            problems.append(f"{place}: unmasked timings or addresses in an {IGNORE_OUTPUT_TAG} cell: {REGEN}")
    return problems


def path_problems(cell: nbformat.NotebookNode, place: str) -> list[str]:
    """This machine's absolute paths left in outputs after nbval's sanitizing: they differ in any other checkout."""
    problems = []
    for output in cell.outputs:
        for text in output_texts(output):
            for regex, replacement in sanitize_patterns():
                text = re.sub(regex, replacement, text)
            found = next((path for path in machine_paths() if re.search(re.escape(path) + r"(?![\w.-])", text)), None)
            if found:
                problems.append(f"{place}: output shows this machine's path {found}: print paths relative to the repo")
                break
    return problems


def notebook_problems(path: Path, shown: str | None = None) -> list[str]:
    """Every reason to believe ``path``'s outputs were not written by make regen, one line each."""
    shown = shown or str(path)
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 (any unreadable notebook is one problem line, not a crash)
        return [f"{shown}: not a readable notebook ({type(error).__name__}: {error})".splitlines()[0]]
    problems = []
    if "widgets" in notebook.metadata:
        problems.append(f"{shown}: widget state in metadata.widgets: {REGEN}")
    if notebook.metadata.get("kernelspec") != KERNELSPEC:
        problems.append(f"{shown}: kernel spec is not {KERNELSPEC['name']!r} ({KERNELSPEC['display_name']}): {REGEN}")
    if notebook.metadata.get("language_info") != LANGUAGE_INFO:
        problems.append(f"{shown}: language_info differs from what make regen writes: {REGEN}")
    expected = 0
    for index, cell in enumerate(notebook.cells):
        place = f"{shown}: cell {index + 1}"
        for key in VOLATILE_CELL_METADATA:
            if key in cell.metadata:
                problems.append(f"{place}: metadata.{key} (timing or view state): {REGEN}")
        if cell.cell_type != "code":
            continue
        runs = bool(cell.source.strip()) and SKIP_TAG not in cell.metadata.get("tags", [])
        expected += runs
        problems += cell_problems(cell, place, expected if runs else None)
        problems += path_problems(cell, place)
    if not problems and clean(copy.deepcopy(notebook)) != notebook:
        problems.append(f"{shown}: make regen would rewrite this notebook: {REGEN}")
    return problems


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    paths = [Path(name) for name in arguments] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    problems = [line for path in paths for line in notebook_problems(path)]
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
