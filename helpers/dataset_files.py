"""Which files of a dataset folder the builder wrote: its manifest, the log of an unfinished build, and what
else is there. The builder deletes or overwrites only what these say is its own (``datasets.write_dataset``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

MANIFEST_NAME = "manifest.json"
PARTIAL_MARKER = ".fitgen-partial"  # present while a build runs: logs what it writes, so a rerun can finish it
SPLITS = ("train", "val", "test")


class DatasetError(Exception):
    """A dataset cannot be written or read; the message names the folder and the fix."""


def read_manifest(target: Path) -> dict | None:
    """The manifest of a dataset this kit wrote, or ``None`` if there is none (or it is not one of ours)."""
    try:
        manifest = json.loads((Path(target) / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not {"spec", "files", "sha256", "generator"} <= manifest.keys():
        return None
    return manifest


MARKER_HEADER = "fitgen-kit build in progress; rerun the script to finish it. Files it wrote or owns:"


def _safe_relative(relative: object) -> bool:
    """A manifest entry this module may touch: a relative path without '..', backslashes or odd types."""
    if not isinstance(relative, str) or not relative or "\\" in relative:
        return False
    path = PurePosixPath(relative)
    return not path.is_absolute() and ".." not in path.parts


def listed_files(target: Path) -> list[str]:
    """What this module wrote in ``target``: the files its manifest lists and those an unfinished build logged."""
    manifest = read_manifest(target)
    listed = list(manifest["files"]) if manifest and isinstance(manifest["files"], list) else []
    try:
        header, *logged = (target / PARTIAL_MARKER).read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        header, logged = "", []
    return listed + (logged if header == MARKER_HEADER else [])


def owned_files(target: Path) -> set[str]:
    """Listed files that are still plain files really inside ``target`` (never through a link, never outside)."""
    inside = Path(target).resolve()
    owned = set()
    for relative in filter(_safe_relative, listed_files(target)):
        path = target / relative
        if path.is_file() and not path.is_symlink() and path.resolve().is_relative_to(inside):
            owned.add(relative)
    return owned


def refuse_clashes(target: Path, planned: list[str], owned: set[str]) -> None:
    """Refuse, before changing anything, to write over a file this module did not write or through a link."""
    inside = target.resolve()
    clashes = [
        relative
        for relative in [*planned, MANIFEST_NAME]
        if relative not in owned
        and (os.path.lexists(target / relative) or not (target / relative).parent.resolve().is_relative_to(inside))
        and not (relative == MANIFEST_NAME and read_manifest(target) is not None)
    ]
    marker = target / PARTIAL_MARKER
    if (
        clashes
        and marker.is_file()
        and not marker.read_text(encoding="utf-8", errors="replace").startswith(MARKER_HEADER)
    ):
        raise DatasetError(
            f"{target} holds a build that an older version of the kit left unfinished, and that version kept no list "
            "of the files it wrote, so they cannot be told apart from yours. Nothing was changed. If you put no files "
            f"of your own there, delete the folder {target} and rerun: it is rebuilt in seconds."
        )
    if clashes:
        more = f" (and {len(clashes) - 1:,} more)" if len(clashes) > 1 else ""
        raise DatasetError(
            f"{target / clashes[0]}{more} is in the way: this script would write there, but did not write that file "
            "(or its folder is a link). Nothing was changed; move that file or folder out, then rerun."
        )


def write_log(marker: Path, files: list[str]) -> None:
    """Replace the in-progress log in one step (a crash leaves the old log or the new one, never half of one)."""
    partial = marker.with_name(marker.name + ".new")
    partial.write_text("\n".join([MARKER_HEADER, *files]) + "\n", encoding="utf-8")
    os.replace(partial, marker)


def extra_files(target: Path, ours: Iterable[str]) -> list[str]:
    """Files in the dataset's split folders that this module did not write (flow_from_directory counts them too)."""
    ours = set(ours)
    return sorted(
        path.relative_to(target).as_posix()
        for split in SPLITS
        if (target / split).is_dir()
        for path in (target / split).rglob("*")
        if (path.is_file() or path.is_symlink()) and path.relative_to(target).as_posix() not in ours
    )
