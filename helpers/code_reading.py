"""Read what fitgen-check checks: Python files and notebooks, in files and folders, with one clear line for
anything it cannot read (missing, empty, binary, huge, not UTF-8, not a notebook, a syntax error).

IPython syntax in notebook cells (``%magic``, ``!shell``, ``x = !ls``, ``obj?``, ``%%bash`` cells) is
replaced by ``pass`` on the same line, so every line and column of the Python around it stays where it was.
"""

from __future__ import annotations

import ast
import json
import re
import stat
import tokenize
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from helpers.code_analysis import Code

MAX_PYTHON_BYTES = 5_000_000  # a 5,000-line script is about 200 kB
MAX_NOTEBOOK_BYTES = 200_000_000  # notebooks carry their outputs (images)
SKIPPED_FOLDERS = {"__pycache__", "node_modules", "site-packages", "venv"}
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}  # the rest of such a cell is Python
IPYTHON_LINE = re.compile(r"^\s*([%!?]|[\w.\[\], ]+=\s*[!%]|[\w.]+\?\??\s*$)")


class UnreadableError(Exception):
    """A path fitgen-check cannot read; the message is one line that names it and says why."""


@dataclass
class Source:
    """One file to check: its code cells (one for a ``.py`` file), as written and as Python."""

    path: Path
    cells: list[str]  # the text of each code cell, as written
    numbers: list[int]  # each code cell's 1-based position among all of the notebook's cells (1 for a .py file)
    notebook: dict | None = None  # the parsed notebook, for --fix
    python: list[str] = field(default_factory=list)  # the cells with IPython syntax replaced by pass
    errors: list[str] = field(default_factory=list)  # cells that do not parse, as one-line messages
    trees: list[ast.Module] = field(default_factory=list)
    encoding: str = "utf-8"  # what a .py file declared (a coding cookie, or utf-8-sig for a BOM): --fix keeps it

    def lines(self, cell: int) -> list[str]:
        """The lines of a cell as Python counts them (split at \\n only; \\r stays at a line's end)."""
        if not hasattr(self, "_lines"):
            self._lines = [text.split("\n") for text in self.cells]
        return self._lines[cell]

    def where(self, cell: int, line: int, column: int | None = None) -> str:
        """``path:line:col`` for a file, ``path:cell N:line L:col C`` for a notebook (1-based; column optional)."""
        if self.notebook is not None:
            place = f"{self.path}:cell {self.numbers[cell]}:line {line}"
            return place if column is None else f"{place}:col {column + 1}"
        return f"{self.path}:{line}" if column is None else f"{self.path}:{line}:{column + 1}"

    def character_column(self, cell: int, line: int, byte_column: int) -> int:
        """Python's AST counts columns in UTF-8 bytes; people count characters."""
        lines = self.lines(cell)
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return len(text.encode("utf-8")[:byte_column].decode("utf-8", "ignore"))

    def code(self) -> Code:
        return Code(self.trees)


def as_python(cell: str) -> str:
    """A notebook cell with its IPython syntax replaced by ``pass`` (same lines, same indentation).

    ``%time`` and ``%timeit`` lines keep their Python statement; a line that continues an open bracket or a
    backslash (``% acc`` in a formatted expression) is Python, not a magic.
    """
    lines = cell.split("\n")
    magic = re.match(r"%%(\w+)", lines[0]) if lines else None
    if magic and magic.group(1) not in PYTHON_CELL_MAGICS:
        return "\n".join(("pass" if number == 0 else "") for number, _ in enumerate(lines))
    converted, depth, continued = [], 0, False
    for number, line in enumerate(lines):
        indent = re.match(r"\s*", line).group()
        timed = re.match(r"\s*%(time|timeit)\s+(?!-)(.*)$", line)
        if depth or continued or not ((number == 0 and magic) or IPYTHON_LINE.match(line)):
            converted.append(line)
        elif timed and not magic:
            converted.append(indent + " " * (len(line) - len(indent) - len(timed.group(2))) + timed.group(2))
        else:
            converted.append(indent + "pass")
        code = re.sub(r"(\"[^\"]*\"|'[^']*'|#.*$)", "", line)  # brackets in strings and comments do not count
        depth = max(0, depth + sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}"))
        continued = line.rstrip().endswith("\\")
    return "\n".join(converted)


def _text(path: Path, data: bytes) -> tuple[str, str]:
    if b"\x00" in data[:8192]:
        raise UnreadableError(f"{path}: a binary file, not Python source or a notebook")
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
        return data.decode(encoding), encoding
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise UnreadableError(f"{path}: cannot be read as text ({error}); save it as UTF-8") from None


def _notebook_cells(path: Path, text: str) -> tuple[dict, list[str], list[int]]:
    try:
        notebook = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise UnreadableError(f"{path}: not a notebook (its JSON is broken: {error}); open it in JupyterLab") from None
    if isinstance(notebook, dict) and notebook.get("nbformat", 4) < 4:
        raise UnreadableError(
            f"{path}: an nbformat {notebook.get('nbformat')} notebook; open and save it in "
            "JupyterLab, which converts it to nbformat 4"
        )
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise UnreadableError(f"{path}: not a notebook (no list of cells); open it in JupyterLab to repair it")
    sources, numbers = [], []
    for number, cell in enumerate(cells, 1):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            if isinstance(source, list) and all(isinstance(part, str) for part in source):
                source = "".join(source)
            if not isinstance(source, str):
                raise UnreadableError(f"{path}: cell {number} has no readable source; open it in JupyterLab")
            sources.append(source)
            numbers.append(number)
    return notebook, sources, numbers


def read_source(path: Path) -> Source:
    """Read and parse one file; raises :class:`UnreadableError` when nothing of it can be checked."""
    path = Path(path)
    notebook_file = path.suffix.lower() == ".ipynb"
    try:
        status = path.stat()
        size = status.st_size
        if path.is_dir():
            raise UnreadableError(f"{path}: a folder with no .py or .ipynb files in it")
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableError(f"{path}: not a regular file (a pipe or a device); nothing was read")
        if size > (MAX_NOTEBOOK_BYTES if notebook_file else MAX_PYTHON_BYTES):
            raise UnreadableError(f"{path}: {size:,} bytes, too large to be a script or notebook to check")
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableError(f"{path}: no such file or folder") from None
    except OSError as error:
        raise UnreadableError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not data.strip():
        raise UnreadableError(f"{path}: empty, nothing to check")
    text, encoding = _text(path, data)
    if notebook_file:
        notebook, cells, numbers = _notebook_cells(path, text)
        source = Source(path, cells, numbers, notebook, [as_python(cell) for cell in cells])
    else:
        source = Source(path, [text], [1], None, [text], encoding=encoding)
    for index, python in enumerate(source.python):
        try:
            source.trees.append(ast.parse(python))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:  # ValueError: null bytes
            line = getattr(error, "lineno", None) or 1
            reason = getattr(error, "msg", None) or f"{type(error).__name__}: too deeply nested to read"
            source.errors.append(f"{source.where(index, line)}: syntax error ({reason}); nothing in it was checked")
            source.trees.append(ast.Module(body=[], type_ignores=[]))
    return source


def files_under(paths: list[Path]) -> list[Path]:
    """The files to check: each file given, and every .py and .ipynb under each folder given (hidden and
    virtual-environment folders left out), sorted."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir() or not any(path.rglob("*.py")) and not any(path.rglob("*.ipynb")):
            found.append(path)  # a file, or a folder with nothing to check: read_source says so
            continue
        for candidate in sorted(path.rglob("*")):
            parts = candidate.relative_to(path).parts
            hidden = any(part.startswith(".") or part in SKIPPED_FOLDERS for part in parts[:-1])
            if not hidden and candidate.suffix.lower() in (".py", ".ipynb") and candidate.is_file():
                found.append(candidate)
    return list(dict.fromkeys(found))  # a file given twice is checked once
