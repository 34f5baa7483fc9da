"""Choose the healthy images of an extracted archive and copy them into a seeded, stratified train/val/test split.

Each class is shuffled on its own (seeded by seed and class name), so a class's split does not depend on
the other classes; every class gets the same fractions. Originals are only read, never changed.
"""

from __future__ import annotations

import math
import random
import shutil
from pathlib import Path

from tqdm import tqdm

from data_scripts.download import FetchError
from helpers.file_health import WARNING, Finding, inspect_file, make_finding
from helpers.health import HealthReport
from helpers.images import SKIPPED_IMAGE_EXTENSIONS, is_image_name

SPLITS = ("train", "val", "test")


def split_counts(total: int, fractions: tuple[float, float, float], label: str) -> tuple[int, int, int]:
    """Images per split for one class: val and test rounded, at least one each when asked for, train the rest."""
    val, test = (math.floor(total * f + 0.5) if f else 0 for f in fractions[1:])
    val, test = (max(n, 1) if f else 0 for n, f in zip((val, test), fractions[1:], strict=True))
    if total - val - test < 1:
        raise FetchError(
            f"class {label} has {total} healthy image(s): too few for --split {','.join(map(str, fractions))}; "
            "use a larger --subset or another --split."
        )
    return total - val - test, val, test


def select_healthy(
    classes_root: Path, subset: int | None, seed: int, quiet: bool = True
) -> tuple[dict[str, list[Path]], HealthReport]:
    """Per class, the healthy images in a seeded random order (``subset`` of them if given), and the report.

    With ``subset`` only as many files are checked as it takes to find that many healthy ones. Files with
    errors are left out; an exact copy of an image already chosen is left out too (no leakage between splits).
    """
    classes = sorted(p.name for p in classes_root.iterdir() if p.is_dir() and p.name[0] not in "._")
    if len(classes) < 2:
        raise FetchError(f"{classes_root.name}/ has {len(classes)} class folder(s), expected at least two.")
    chosen: dict[str, list[Path]] = {}
    findings: list[Finding] = []
    candidates: dict[str, list[Path]] = {}
    for name in classes:
        files = sorted(p for p in (classes_root / name).iterdir() if p.is_file())
        for stray in (p for p in files if not is_image_name(p.name)):
            skipped = stray.suffix.lower() in SKIPPED_IMAGE_EXTENSIONS
            problem, detail = (
                ("skipped image", "flow_from_directory does not load it")
                if skipped
                else ("stray file", f"'{stray.suffix}' file")
            )
            findings.append(make_finding(stray.relative_to(classes_root), problem, WARNING, detail))
        candidates[name] = [p for p in files if is_image_name(p.name)]
        random.Random(f"{seed}/{name}").shuffle(candidates[name])
    seen: dict[str, Path] = {}
    checked = 0
    goal = subset * len(classes) if subset else sum(map(len, candidates.values()))
    with tqdm(total=goal, desc="checking images", unit="img", disable=quiet) as bar:
        for name in classes:
            healthy: list[Path] = []
            for path in candidates[name]:
                if subset and len(healthy) == subset:
                    break
                relative = path.relative_to(classes_root)
                problems, digest = inspect_file(path, relative)
                findings += problems
                checked += 1
                if digest is not None and digest in seen:
                    findings.append(
                        make_finding(
                            relative, "duplicate", WARNING, f"same content as {seen[digest].as_posix()} (copied once)"
                        )
                    )
                elif digest is not None:
                    seen[digest] = relative
                    healthy.append(path)
                    bar.update(1 if subset else 0)
                bar.update(0 if subset else 1)  # with --subset the bar counts healthy images found
            if subset and len(healthy) < subset:
                raise FetchError(f"class {name} has only {len(healthy)} healthy images; use --subset {len(healthy)}.")
            chosen[name] = healthy
    order = {"error": 0, "warning": 1}
    findings.sort(key=lambda f: (order[f.severity], f.path.as_posix(), f.problem))
    return chosen, HealthReport(root=classes_root, images=checked, findings=tuple(findings))


def write_splits(
    chosen: dict[str, list[Path]], folder: Path, fractions: tuple[float, float, float]
) -> tuple[dict, list[str]]:
    """Copy the chosen files to ``folder/<split>/<class>/``; returns counts per split and class, and the files."""
    counts: dict[str, dict[str, int]] = {split: {} for split, f in zip(SPLITS, fractions, strict=True) if f}
    written: list[str] = []
    for name, files in chosen.items():
        sizes = split_counts(len(files), fractions, name)
        start = 0
        for split, size in zip(SPLITS, sizes, strict=True):
            if split not in counts:
                continue
            for path in files[start : start + size]:
                relative = f"{split}/{name}/{path.name}"
                (folder / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, folder / relative)  # the bytes only: the original stays as it was
                written.append(relative)
            counts[split][name] = size
            start += size
    return counts, sorted(written)
