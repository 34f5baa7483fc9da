"""Find what a Keras image generator would choke on before training does: one finding per file and problem.

Errors break training mid-epoch (truncated, unreadable, empty files, non-images with an image extension) or
shift its labels (a hidden folder such as JupyterLab's ``.ipynb_checkpoints`` that Keras counts as a class).
Warnings are converted silently by Keras and deserve a look (grayscale, transparency, CMYK, 16-bit, tiny
or huge images, empty classes, stray files, the same content twice). Real archives contain such files:
Microsoft's PetImages (cats vs dogs) ships zero-byte and damaged JPEGs and Thumbs.db files.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from helpers.images import SKIPPED_IMAGE_EXTENSIONS, ImageFolderError, class_folders, is_image_name
from helpers.quarantine import quarantine, undo_quarantine

__all__ = [
    "Finding",
    "HealthReport",
    "check_image_file",
    "check_image_tree",
    "quarantine",
    "undo_quarantine",
]

ERROR, WARNING = "error", "warning"
SPLIT_NAMES = ("train", "val", "validation", "test")  # the order duplicates keep: the train copy stays
FIXES = {
    "empty file": "re-download it, or move it out (check_images.py --quarantine DIR)",
    "truncated": "move it out (check_images.py --quarantine DIR); LOAD_TRUNCATED_IMAGES=True only hides it",
    "unreadable": "move it out (check_images.py --quarantine DIR); Pillow cannot decode it",
    "not an image": "move it out (check_images.py --quarantine DIR), or give it its real extension",
    "grayscale": "fine if intended: Keras copies the one channel into R, G and B",
    "rgba": "flatten it onto a background if transparency matters: Keras drops the alpha channel",
    "cmyk": "convert it to RGB once with its colour profile if colours matter",
    "16-bit": "convert it to 8-bit with scaling first (helpers.images.load_rgb does)",
    "32-bit": "convert it to 8-bit with scaling first (helpers.images.load_rgb does)",
    "too small": "check it is a real photo, not an icon or thumbnail; move it out if not",
    "huge": "shrink it once beforehand (e.g. longest side 1,024 px) instead of every epoch",
    "empty class": "add images or remove the folder: Keras still numbers it as a class",
    "hidden class": "move it out (check_images.py --quarantine DIR does), or give flow_from_directory classes=[...]",
    "skipped image": "convert it to .jpg or .png if it is data: flow_from_directory skips it without a word",
    "stray file": "move it out of the class folder: generators skip it, it is not data",
    "duplicate": "keep one copy: remove it from val/test (leakage) or from the wrong class",
}


@dataclass(frozen=True)
class Finding:
    """One problem with one file (or class folder), with a one-line detail and fix."""

    path: Path  # relative to the scanned root
    problem: str  # short code, a key of FIXES
    severity: str  # "error" (breaks training) or "warning" (Keras converts it silently)
    detail: str
    fix: str


def _finding(path: Path, problem: str, severity: str, detail: str) -> Finding:
    return Finding(Path(path), problem, severity, detail, FIXES[problem])


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


@contextmanager
def _strict_loading() -> Iterator[None]:
    """Let truncated images raise while checking, then restore whatever the caller had set."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _describe_bytes(data: bytes) -> str:
    head = data[:64]
    if all(32 <= byte < 127 or byte in (9, 10, 13) for byte in head):
        text = " ".join(head.decode("ascii").split())
        return f'text ("{text[:40]}{"..." if len(text) > 40 else ""}"), not an image'
    return f"unknown format (starts with {head[:4].hex(' ')}), not an image"


def _mode_finding(relative: Path, image: Image.Image) -> Finding | None:
    """Grayscale, transparency, CMYK or more than 8 bits: what Keras's ``convert("RGB")`` changes silently."""
    mode = image.mode
    if mode in ("1", "L"):
        return _finding(relative, "grayscale", WARNING, f"mode {mode}: one channel, repeated into RGB")
    if mode in ("RGBA", "RGBa", "LA", "La", "PA") or (mode == "P" and "transparency" in image.info):
        return _finding(relative, "rgba", WARNING, f"mode {mode} with transparency: the alpha channel is dropped")
    if mode == "CMYK":
        return _finding(relative, "cmyk", WARNING, "CMYK: converted to RGB without its colour profile")
    if mode.startswith("I;16") or mode == "I":
        white = float(np.mean(np.asarray(image) > 255))
        code = "16-bit" if mode.startswith("I;16") else "32-bit"
        detail = f"mode {mode}: flow_from_directory clips it to 8 bits, {white:.0%} of pixels turn white"
        return _finding(relative, code, WARNING, detail)
    if mode == "F":
        return _finding(relative, "32-bit", WARNING, "mode F (floats): flow_from_directory clips values to 0-255")
    return None


def inspect_file(
    path: Path, relative: Path, min_side: int = 32, max_pixels: int = 40_000_000
) -> tuple[list[Finding], str | None]:
    """Findings for one file with an image extension, and its content SHA-256 when it loads (else None)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return [_finding(relative, "unreadable", ERROR, f"cannot read the file: {error.strerror or error}")], None
    if not data:
        return [_finding(relative, "empty file", ERROR, "0 bytes")], None
    findings = []
    with _strict_loading():
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                width, height = image.size
                findings.append(_mode_finding(relative, image))
        except UnidentifiedImageError:
            return [_finding(relative, "not an image", ERROR, _describe_bytes(data))], None
        except Image.DecompressionBombError as error:
            return [_finding(relative, "huge", ERROR, f"Pillow refuses to open it: {str(error).split(',')[0]}")], None
        except Exception as error:  # any decoding failure is what would stop a generator mid-epoch
            if "truncated" in str(error).lower():
                end = " (no JPEG end marker)" if data[:2] == b"\xff\xd8" and data[-2:] != b"\xff\xd9" else ""
                return [
                    _finding(relative, "truncated", ERROR, f"image data stops after {len(data):,} bytes{end}")
                ], None
            return [_finding(relative, "unreadable", ERROR, f"Pillow: {' '.join(str(error).split())[:120]}")], None
    if min(width, height) < min_side:
        findings.append(_finding(relative, "too small", WARNING, f"{width}x{height} px, under {min_side} px"))
    if width * height > max_pixels:
        findings.append(_finding(relative, "huge", WARNING, f"{width:,}x{height:,} px, over {max_pixels:,} pixels"))
    return [f for f in findings if f is not None], hashlib.sha256(data).hexdigest()


def check_image_file(path: Path, min_side: int = 32, max_pixels: int = 40_000_000) -> list[Finding]:
    """The findings for a single image file (paths in them are the file name only)."""
    path = Path(path)
    return inspect_file(path, Path(path.name), min_side, max_pixels)[0]


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
        return class_folders(root)
    return [folder for split in splits for folder in class_folders(split)]


def _hidden_classes(root: Path) -> list[Finding]:
    """Hidden folders beside the class folders: flow_from_directory counts every sub-folder as a class."""
    holders = [root / name for name in SPLIT_NAMES if (root / name).is_dir()] or [root]
    findings = []
    for holder in holders:
        folders = sorted(p.name for p in holder.iterdir() if p.is_dir())  # DirectoryIterator's own rule
        for number, name in enumerate(folders):
            if name.startswith("."):
                after = len(folders) - number - 1
                detail = (
                    f"flow_from_directory counts it as class {number} of {len(folders)}: the labels of the "
                    f"{after} class(es) after it move up by one"
                )
                findings.append(_finding((holder / name).relative_to(root), "hidden class", ERROR, detail))
    return findings


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
            findings.append(_finding(other, "duplicate", WARNING, f"same content as {kept.as_posix()} ({why})"))
    return findings


def _sort_key(finding: Finding) -> tuple[int, str, str]:
    return (0 if finding.severity == ERROR else 1, finding.path.as_posix(), finding.problem)


def check_image_tree(root: Path, min_side: int = 32, max_pixels: int = 40_000_000) -> HealthReport:
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
                findings.append(_finding(relative, "skipped image", WARNING, detail))
                continue
            if not is_image_name(path.name):
                findings.append(
                    _finding(relative, "stray file", WARNING, f"'{path.suffix or path.name}' is not an image type")
                )
                continue
            class_images += 1
            file_findings, digest = inspect_file(path, relative, min_side, max_pixels)
            findings += file_findings
            if digest is not None:
                hashes[relative] = digest
        if class_images == 0:
            relative = class_folder.relative_to(root)
            findings.append(_finding(relative, "empty class", WARNING, "no image files in this class folder"))
        images += class_images
    findings += _hidden_classes(root) + _duplicates(hashes)
    return HealthReport(root=root, images=images, findings=tuple(sorted(findings, key=_sort_key)))
