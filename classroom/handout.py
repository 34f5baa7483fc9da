"""Build the student handout (``make handout``): one archive with everything a student needs and no solution.

It holds the student copies as ``notebooks/`` (same names, so links between lessons work), ``helpers/``,
``data_scripts/``, the Makefile, README, TEACHING.md and the pins: ``make lab`` works in it as in the kit. Left out:
the answer notebooks, ``tests/`` (its wrong answers and checks embed answers), ``classroom/``, git history, data,
caches. The archive is reproducible: same lessons and code, same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import tarfile
from pathlib import Path

import nbformat

from classroom.make_student import SolutionError, student_copy

ROOT = Path(__file__).resolve().parent.parent
FILES = ["Makefile", "README.md", "TEACHING.md", "pyproject.toml", "environment.yml", ".gitignore"]
FILES += [".ci/constraints.txt"]  # the pins make setup installs
FOLDERS = ["helpers", "data_scripts"]
LEFT_OUT = ("__pycache__", ".ipynb_checkpoints", ".pyc")
TOP = "fitgen-kit"  # the folder the archive unpacks into
DEFAULT = ROOT / "dist" / "fitgen-kit-handout.tar.gz"


def handout_files(root: Path = ROOT) -> dict[str, bytes]:
    """Path inside the handout -> content, in a stable order; the notebooks are the student copies."""
    files: dict[str, bytes] = {}
    for name in FILES:
        files[name] = (root / name).read_bytes()
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not any(part in LEFT_OUT or part.endswith(LEFT_OUT) for part in relative.parts):
                files[relative.as_posix()] = path.read_bytes()
    for path in sorted((root / "notebooks").iterdir()):
        if path.suffix == ".ipynb":
            copy = student_copy(nbformat.read(path, as_version=4), path.name)
            files[f"notebooks/{path.name}"] = nbformat.writes(copy).encode() + b"\n"
        elif path.is_file() and path.name not in LEFT_OUT:  # files the lessons read, such as classic_recipe.py
            files[f"notebooks/{path.name}"] = path.read_bytes()
    return dict(sorted(files.items()))


def write_handout(target: Path, root: Path = ROOT) -> int:
    """Write the archive (a gzip'd tar, fixed dates and owners); returns the number of files in it."""
    files = handout_files(root)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"{TOP}/{name}")
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            info.uname = info.gname = "fitgen"
            archive.addfile(info, io.BytesIO(content))
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as file, gzip.GzipFile(filename="", fileobj=file, mode="wb", mtime=0) as packed:
        packed.write(buffer.getvalue())  # no name, no date in the gzip header: same bytes on every build
    return len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT, help=f"the archive (default: {DEFAULT.relative_to(ROOT)})")
    arguments = parser.parse_args(argv)
    if arguments.out.exists() and arguments.out.is_dir():
        print(f"make handout: {arguments.out} is a folder; give a file name ending in .tar.gz", file=sys.stderr)
        return 1
    try:
        count = write_handout(arguments.out)
    except (SolutionError, OSError) as error:
        print(f"make handout: {error}", file=sys.stderr)
        return 1
    print(
        f"handout: {arguments.out} ({count} files, {arguments.out.stat().st_size // 1024} KiB): unpack, then make lab"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
