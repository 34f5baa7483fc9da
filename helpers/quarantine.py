"""Move problem files out of a dataset and back again: never delete, never overwrite, keep a JSON log.

Used through :mod:`helpers.health` (``quarantine``, ``undo_quarantine``) and ``check_images.py``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from helpers.images import ImageFolderError

if TYPE_CHECKING:
    from helpers.health import HealthReport

LOG_MARKER = "fitgen-kit quarantine log"
PLACES = ("root", "destination")  # the two absolute folders every log names


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _free_log_path(destination: Path) -> Path:
    """``quarantine-log.json``, or ``quarantine-log-2.json`` and so on when earlier logs are there."""
    number = 1
    while True:
        log = destination / ("quarantine-log.json" if number == 1 else f"quarantine-log-{number}.json")
        if not os.path.lexists(log):
            return log
        number += 1


def _write_log(log: Path, record: dict) -> None:
    log.write_text(json.dumps(record, indent=1) + "\n")


def quarantine(report: HealthReport, destination: Path, include_warnings: bool = False) -> Path:
    """Move the files with errors (and warnings, if asked) to ``destination``, keeping their relative paths.

    ``destination`` must be outside the scanned tree. Nothing is overwritten: if any target exists, nothing
    moves. Returns the JSON log that :func:`undo_quarantine` reads to move the files back.
    """
    root = Path(report.root).resolve()
    destination = Path(destination).resolve()
    if _inside(destination, root):
        raise ImageFolderError(
            f"quarantine folder {destination} is inside the scanned folder {root}; "
            "choose a folder outside it, e.g. next to the dataset."
        )
    problems: dict[str, list[str]] = {}
    for finding in report.findings:
        source = root / finding.path
        movable = not source.is_dir() or finding.problem == "hidden class"  # never a real class folder
        if (include_warnings or finding.severity == "error") and os.path.lexists(source) and movable:
            problems.setdefault(finding.path.as_posix(), []).append(finding.problem)
    for relative in sorted(problems):
        if not (root / relative).parent.resolve().is_relative_to(root):
            raise ImageFolderError(
                f"{root / relative} is reached through a link to {(root / relative).parent.resolve()}, outside "
                f"{root}; nothing was moved. Check and quarantine that folder itself instead."
            )
        if os.path.lexists(destination / relative):
            raise ImageFolderError(
                f"{destination / relative} already exists; nothing was moved. "
                "Choose an empty quarantine folder, or undo the earlier quarantine first."
            )
    destination.mkdir(parents=True, exist_ok=True)
    log = _free_log_path(destination)
    record = {"written_by": LOG_MARKER, "root": str(root), "destination": str(destination), "undone": False}
    moved: list[dict] = []
    try:
        for relative in sorted(problems):
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(root / relative, destination / relative)
            moved.append({"path": relative, "problems": sorted(set(problems[relative]))})
    except OSError as error:
        raise ImageFolderError(
            f"moving {relative} failed ({error.strerror or error}) after {len(moved)} of {len(problems)} file(s) "
            f"had moved to {destination}; to put those back: check_images.py --undo {log} (or undo_quarantine)"
        ) from None
    finally:  # a log of what did move, even if a later move failed
        _write_log(log, {**record, "files": moved})
    return log


def _read_log(log: Path) -> dict:
    try:
        record = json.loads(Path(log).read_text())
    except FileNotFoundError:
        raise ImageFolderError(f"{log} does not exist; pass the log that --quarantine printed.") from None
    except (OSError, ValueError) as error:
        raise ImageFolderError(
            f"{log} cannot be read as a quarantine log ({error}); pass the log that --quarantine printed."
        ) from None
    if (
        not isinstance(record, dict)
        or record.get("written_by") != LOG_MARKER
        or not isinstance(record.get("files"), list)
        or not all(
            isinstance(record.get(key), str) and Path(record[key]).is_absolute() for key in ("root", "destination")
        )
    ):
        raise ImageFolderError(f"{log} is not a quarantine log written by check_images.py; nothing was moved.")
    seen = set()
    for entry in record["files"]:
        path = entry.get("path") if isinstance(entry, dict) else None
        relative = PurePosixPath(path if isinstance(path, str) else "")
        if not relative.parts or relative.is_absolute() or ".." in relative.parts:
            raise ImageFolderError(f"{log} lists an unsafe path {path!r}; nothing was moved.")
        if relative in seen:
            raise ImageFolderError(f"{log} lists {path!r} twice; it was edited by hand. Nothing was moved.")
        seen.add(relative)
    return record


def undo_quarantine(log: Path) -> int:
    """Move every file a quarantine moved back where it was; returns how many moved (0 if already undone).

    Refuses (moving nothing) when a file is missing from the quarantine folder or its old place is taken.
    """
    record = _read_log(log)
    if record.get("undone"):
        return 0
    root, destination = Path(record["root"]), Path(record["destination"])
    pairs = [(destination / entry["path"], root / entry["path"]) for entry in record["files"]]
    for source, target in pairs:
        if not os.path.lexists(source):
            raise ImageFolderError(
                f"{source} is no longer in the quarantine folder; nothing was moved back. Put it back there, "
                f"then rerun --undo {log}."
            )
        if os.path.lexists(target):
            raise ImageFolderError(
                f"{target} exists again; nothing was moved back. Move that file away first, then rerun --undo {log}."
            )
    left = list(record["files"])
    try:
        for entry, (source, target) in zip(record["files"], pairs, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, target)
            left.remove(entry)
    except OSError as error:
        _write_log(Path(log), {**record, "files": left})  # what is still in quarantine: a rerun finishes the undo
        raise ImageFolderError(
            f"moving {source} back failed ({error.strerror or error}); {len(pairs) - len(left)} of {len(pairs)} "
            f"file(s) are back, the log now lists the rest: fix the cause, then rerun --undo {log}."
        ) from None
    _write_log(Path(log), {**record, "undone": True})
    return len(pairs)
