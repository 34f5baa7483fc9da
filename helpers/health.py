"""Find what a Keras image generator would choke on before training does: one finding per file and problem.

Errors break training mid-epoch (truncated, unreadable, empty files, non-images with an image extension) or
shift its labels (a hidden folder such as JupyterLab's ``.ipynb_checkpoints`` that Keras counts as a class).
Warnings are converted silently by Keras and deserve a look (grayscale, transparency, CMYK, 16-bit, tiny
or huge images, empty classes, stray files, the same content twice). Real archives contain such files:
Microsoft's PetImages (cats vs dogs) ships zero-byte and damaged JPEGs and Thumbs.db files.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from helpers.file_health import ERROR, FIXES, WARNING, Finding, check_image_file, inspect_file, make_finding
from helpers.images import MAX_PIXELS, SKIPPED_IMAGE_EXTENSIONS, ImageFolderError, class_folders, is_image_name
from helpers.quarantine import quarantine, undo_quarantine

SPLIT_NAMES = ("train", "val", "validation", "test")  # the order duplicates keep: the train copy stays

__all__ = [
    "ERROR",
    "FIXES",
    "WARNING",
    "Finding",
    "HealthReport",
    "check_image_file",
    "check_image_tree",
    "inspect_file",
    "quarantine",
    "undo_quarantine",
]


@dataclass(frozen=True)
class HealthReport:
    """What :func:`check_image_tree` found. ``images`` counts files with an image extension: what
    ``flow_from_directory`` reports as "Found N images", broken ones included."""

    root: Path
    images: int
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    def summary(self) -> str:
        """One line: images, errors and warnings, with counts per problem."""
        if not self.findings:
            return f"{_count(self.images, 'image')}: no problems found."
        parts = []
        for group, meaning in ((self.errors, "would stop training or mislabel it"), (self.warnings, "worth a look")):
            if group:
                kinds = Counter(f.problem for f in group)
                detail = ", ".join(f"{n} {problem}" for problem, n in sorted(kinds.items()))
                parts.append(f"{_count(len(group), group[0].severity)} ({meaning}: {detail})")
        return f"{_count(self.images, 'image')}: {'; '.join(parts)}."

    def describe(self, limit: int | None = None) -> str:
        """A table of findings (errors first, then by relative path), what to do per problem, and the summary.

        ``limit`` shows only the first rows (and how many more there are): handy for a big archive in a notebook.
        """
        if not self.findings:
            return self.summary()
        findings = sorted(self.findings, key=_sort_key)
        shown = findings if limit is None else findings[:limit]
        rows = [("severity", "problem", "file", "detail")]
        rows += [(f.severity, f.problem, f.path.as_posix(), f.detail) for f in shown]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
            for row in rows
        ]
        if len(shown) < len(findings):
            lines.append(f"... and {len(findings) - len(shown):,} more")
        fixes = {f.problem: f.fix for f in findings}
        width = max(map(len, fixes))
        lines += ["", "what to do:", *(f"  {problem.ljust(width)}  {fixes[problem]}" for problem in sorted(fixes))]
        return "\n".join(lines + ["", self.summary()])


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


def _class_folders_of(root: Path) -> list[Path]:
    """Class folders under ``root``: one level down, or two when ``root`` holds train/val/test splits."""
    if not root.exists():
        raise ImageFolderError(
            f"{root} does not exist. Point at a dataset folder (with train/val/test, or one sub-folder per class)."
        )
    if not root.is_dir():
        raise ImageFolderError(f"{root} is a file, not a folder. Point at the dataset folder that holds it.")
    splits = [root / name for name in SPLIT_NAMES if (root / name).is_dir()]
    datasets = sorted(p.name for p in root.iterdir() if any((p / name).is_dir() for name in SPLIT_NAMES))
    if not splits and datasets:
        raise ImageFolderError(
            f"{root} holds datasets ({', '.join(datasets)}), not classes; "
            f"point at one of them, e.g. {root / datasets[0]}."
        )
    if not splits:
        return [folder for folder in class_folders(root) if folder.name not in NOT_CLASSES]
    return [folder for split in splits for folder in class_folders(split) if folder.name not in NOT_CLASSES]


NOT_CLASSES = ("__MACOSX",)  # macOS archive metadata; hidden folders (a leading dot) are not classes either


def _not_classes(root: Path) -> tuple[list[Finding], int]:
    """Folders beside the classes that flow_from_directory still numbers as classes (it takes every sub-folder),
    and how many image files it counts inside them."""
    holders = [root / name for name in SPLIT_NAMES if (root / name).is_dir()] or [root]
    findings, images = [], 0
    for holder in holders:
        folders = sorted(p.name for p in holder.iterdir() if p.is_dir())  # DirectoryIterator's own rule
        for number, name in enumerate(folders):
            if name.startswith(".") or name in NOT_CLASSES:
                after = len(folders) - number - 1
                detail = (
                    f"flow_from_directory counts it as class {number} of {len(folders)}: the labels of the "
                    f"{after} class(es) after it move up by one"
                )
                findings.append(make_finding((holder / name).relative_to(root), "hidden class", ERROR, detail))
                images += sum(is_image_name(path.name) for path in _walk_files(holder / name))
    return findings, images


def _split_rank(relative: Path) -> tuple[int, str]:
    """Sort key for relative paths: train first, then val, then test, then by path."""
    top = relative.parts[0]
    return (SPLIT_NAMES.index(top) if top in SPLIT_NAMES else len(SPLIT_NAMES), relative.as_posix())


def _walk_files(folder: Path) -> list[Path]:
    """Every file under ``folder``, recursively like flow_from_directory (not following folder links)."""
    files = []
    for directory, subfolders, names in os.walk(folder):
        subfolders.sort()
        files += [Path(directory) / name for name in sorted(names)]
    return files


def _duplicates(hashes: dict[Path, str]) -> list[Finding]:
    """Every copy of the same content after the first (train before val before test, then by path)."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for relative, digest in hashes.items():
        groups[digest].append(relative)
    findings = []
    for copies in groups.values():
        kept, *others = sorted(copies, key=_split_rank)
        for other in others:
            if other.parts[0] != kept.parts[0] and other.parts[0] in SPLIT_NAMES:
                why = "another split: leakage"
            elif other.parent != kept.parent:
                why = "another class: conflicting labels"
            else:
                why = "same class"
            findings.append(make_finding(other, "duplicate", WARNING, f"same content as {kept.as_posix()} ({why})"))
    return findings


def _sort_key(finding: Finding) -> tuple[int, str, str]:
    return (0 if finding.severity == ERROR else 1, finding.path.as_posix(), finding.problem)


def check_image_tree(root: Path, min_side: int = 32, max_pixels: int = MAX_PIXELS) -> HealthReport:
    """Scan a dataset (a root with train/val/test, or one split with class folders) and report every problem.

    Reads every image fully (Pillow ``load()``), so it finds what crashes a generator only mid-epoch.
    Never changes a file. Raises :class:`ImageFolderError` when ``root`` is not a dataset folder.
    """
    root = Path(root)
    findings: list[Finding] = []
    hashes: dict[Path, str] = {}
    images = 0
    for class_folder in _class_folders_of(root):
        class_images = 0
        for path in _walk_files(class_folder):
            relative = path.relative_to(root)
            if path.suffix.lower() in SKIPPED_IMAGE_EXTENSIONS:
                detail = f"flow_from_directory does not load '{path.suffix}' files (not counted above)"
                findings.append(make_finding(relative, "skipped image", WARNING, detail))
                continue
            if not is_image_name(path.name):
                findings.append(
                    make_finding(relative, "stray file", WARNING, f"'{path.suffix or path.name}' is not an image type")
                )
                continue
            class_images += 1
            file_findings, digest = inspect_file(path, relative, min_side, max_pixels)
            findings += file_findings
            if digest is not None:
                hashes[relative] = digest
        if class_images == 0:
            relative = class_folder.relative_to(root)
            detail = "no image files, yet flow_from_directory numbers it as a class"
            findings.append(make_finding(relative, "empty class", WARNING, detail))
        images += class_images
    not_classes, hidden_images = _not_classes(root)
    findings += not_classes + _duplicates(hashes)
    images += hidden_images
    return HealthReport(root=root, images=images, findings=tuple(sorted(findings, key=_sort_key)))
