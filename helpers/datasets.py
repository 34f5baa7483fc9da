"""Write, find and describe the offline datasets in the ``flow_from_directory`` layout.

``data/<name>/{train,val,test}/<class>/<class>_<index>.jpg`` plus ``manifest.json`` (counts, image
size, seed and a digest of every file). Lessons call :func:`ensure_dataset`, which builds a missing
dataset in a few seconds, so each lesson runs alone on a fresh clone.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from helpers.dataset_files import (
    MANIFEST_NAME,
    PARTIAL_MARKER,
    SPLITS,
    DatasetError,
    extra_files,
    owned_files,
    read_manifest,
    refuse_clashes,
    write_log,
)
from helpers.shapes import KINDS, draw_image

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_ENVIRONMENT_VARIABLE = "FITGEN_DATA"
SPLIT_NUMBERS = {split: number for number, split in enumerate(SPLITS)}


@dataclass(frozen=True)
class DatasetSpec:
    """What to build: the kind of images, how many per class in each split, their size and seed."""

    kind: str = "shapes"
    train: int = 500
    val: int = 100
    test: int = 100
    size: int = 128
    seed: int = 42
    jpeg_quality: tuple[int, int] = field(default=(70, 95))

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DatasetError(f"Unknown dataset kind {self.kind!r}; choose one of {sorted(KINDS)}.")
        for split in SPLITS:
            count = getattr(self, split)
            if not isinstance(count, int) or count < 1:
                raise DatasetError(f"--{split} must be a whole number of images per class >= 1, got {count!r}.")
        if not 16 <= self.size <= 1024:
            raise DatasetError(f"--size must be between 16 and 1024 pixels, got {self.size}.")
        if self.seed < 0:
            raise DatasetError(f"--seed must be zero or positive, got {self.seed}.")

    @property
    def classes(self) -> tuple[str, str]:
        return KINDS[self.kind]

    def per_class(self, split: str) -> int:
        return int(getattr(self, split))

    @property
    def total(self) -> int:
        return sum(self.per_class(split) for split in SPLITS) * len(self.classes)


DEFAULT_SPECS: dict[str, DatasetSpec] = {
    "shapes": DatasetSpec(kind="shapes", train=500, val=100, test=100),
    "arrows": DatasetSpec(kind="arrows", train=200, val=50, test=50),
}


CACHE_ENVIRONMENT_VARIABLE = "FITGEN_CACHE"


def data_root() -> Path:
    """The folder that holds the datasets: ``$FITGEN_DATA`` if set, else ``data/`` in the repository."""
    configured = os.environ.get(DATA_ENVIRONMENT_VARIABLE)
    if not configured:
        return REPO_ROOT / "data"
    # A relative path means the same folder for `make` (run in the repository) and for a kernel (in notebooks/).
    return REPO_ROOT / Path(configured).expanduser()


def image_bytes(spec: DatasetSpec, split: str, class_number: int, index: int) -> bytes:
    """The JPEG bytes of one image; depends only on the spec and the image's position."""
    rng = np.random.default_rng([spec.seed, SPLIT_NUMBERS[split], class_number, index])
    image = draw_image(spec.classes[class_number], rng, spec.size)
    low, high = spec.jpeg_quality
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(low, high + 1)))
    return buffer.getvalue()


def planned_files(spec: DatasetSpec) -> list[tuple[str, int, int, str]]:
    """Every file of a dataset as (split, class number, index, relative path), in writing order."""
    return [
        (split, number, index, f"{split}/{name}/{name}_{index:04d}.jpg")
        for split in SPLITS
        for number, name in enumerate(spec.classes)
        for index in range(spec.per_class(split))
    ]


def digest_files(root: Path, relative_paths: Iterable[str]) -> str:
    """One SHA-256 over the names and contents of the given files, in sorted order."""
    digest = hashlib.sha256()
    for relative in sorted(relative_paths):
        digest.update(relative.encode())
        digest.update(hashlib.sha256((root / relative).read_bytes()).digest())
    return digest.hexdigest()


def intact(target: Path, manifest: dict) -> bool:
    """True when every file the manifest lists is there with the recorded content (one digest over all)."""
    files = manifest["files"]
    if not all((target / relative).is_file() for relative in files):
        return False
    return digest_files(target, files) == manifest["sha256"]


def _check_target(target: Path, spec: DatasetSpec, force: bool) -> str:
    """Decide what to do with ``target``: 'create', 'present', 'replace' (our own data) or 'write over'.

    Refuses anything unsafe with a :class:`DatasetError` that names the folder and the fix.
    """
    if target.exists() and not target.is_dir():
        raise DatasetError(f"{target} exists and is a file, not a folder; choose another --out.")
    if not target.exists() or not any(target.iterdir()):
        return "create"
    if (target / PARTIAL_MARKER).exists():
        return "replace"
    manifest = read_manifest(target)
    if manifest is None:
        if force:
            return "write over"
        raise DatasetError(
            f"{target} is not empty and was not made by this script (no {MANIFEST_NAME}); "
            "nothing was written. Choose an empty --out folder, or pass --force to write into it anyway."
        )
    if manifest["spec"] == _spec_record(spec) and not force:
        # Same settings: nothing to do, unless the drawing code changed or files were deleted or edited since.
        up_to_date = manifest["generator"] == generator_digest() and intact(target, manifest)
        return "present" if up_to_date else "replace"
    if not force:
        raise DatasetError(
            f"{target} holds a dataset made with other settings ({manifest['spec']}); nothing was "
            "written. Pass --force to replace it, or choose another --out folder."
        )
    return "replace"


def _spec_record(spec: DatasetSpec) -> dict:
    record = asdict(spec)
    record["jpeg_quality"] = list(spec.jpeg_quality)
    return record


def generator_digest() -> str:
    """A short digest of the code that draws and encodes images: data made by an older version is rebuilt."""
    digest = hashlib.sha256()
    for module in ("shapes.py", "datasets.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()[:16]


def write_dataset(
    target: Path,
    spec: DatasetSpec,
    force: bool = False,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> dict:
    """Build the dataset described by ``spec`` in ``target`` and return its manifest.

    Does nothing (and returns the existing manifest) when the same dataset is already there. Never touches
    a non-empty folder it did not create unless ``force`` is true. Deletes or overwrites only files that
    its manifest (or an unfinished build's log) lists; refuses, changing nothing, when any other file is
    where it would write. ``extra_files`` in the result lists files it found and left alone.
    """
    target = Path(target)
    action = _check_target(target, spec, force)
    files = planned_files(spec)
    relative_paths = [relative for *_, relative in files]
    if action == "present":
        manifest = read_manifest(target) or {}
        return dict(manifest, status="already present", extra_files=extra_files(target, manifest.get("files", [])))
    owned = owned_files(target) if target.is_dir() else set()
    refuse_clashes(target, relative_paths, owned)
    target.mkdir(parents=True, exist_ok=True)
    marker = target / PARTIAL_MARKER
    write_log(marker, sorted(owned))  # write-ahead: everything that may be ours, before anything changes
    (target / MANIFEST_NAME).unlink(missing_ok=True)
    for relative in sorted(owned - set(relative_paths)):  # ours, and not part of the new dataset
        (target / relative).unlink()
    write_log(marker, sorted(owned & set(relative_paths)))  # a deleted name is no longer ours
    with marker.open("a", encoding="utf-8") as log:  # each name is logged before its file exists
        for split, number, index, relative in progress(files) if progress else files:
            log.write(relative + "\n")
            log.flush()
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(image_bytes(spec, split, number, index))
    manifest = {
        "name": target.name,
        "spec": _spec_record(spec),
        "classes": list(spec.classes),
        "counts": {split: {name: spec.per_class(split) for name in spec.classes} for split in SPLITS},
        "image_size": [spec.size, spec.size],
        "generator": generator_digest(),
        "total": spec.total,
        "sha256": digest_files(target, relative_paths),
        "files": relative_paths,
    }
    (target / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n")
    marker.unlink()
    return dict(manifest, status="written", extra_files=extra_files(target, relative_paths))


def describe_extra_files(target: Path, extra: list[str]) -> str:
    """One line about files left alone in a dataset folder ('' when there are none)."""
    if not extra:
        return ""
    shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3:,} more" if len(extra) > 3 else "")
    return (
        f"note: {display_path(target)} also holds {len(extra):,} file(s) this script did not make, left as they "
        f"are: {shown}. flow_from_directory counts them too; move them out if they are not meant to be data."
    )


def describe_manifest(manifest: dict) -> str:
    """A short, stable, human-readable summary of a manifest (what the script and lesson 00 print)."""
    lines = [
        f"{manifest['name']}: {manifest['total']} images of {manifest['image_size'][0]}x"
        f"{manifest['image_size'][1]} px, seed {manifest['spec']['seed']}, sha256 {manifest['sha256'][:12]}"
    ]
    for split, counts in manifest["counts"].items():
        per_class = ", ".join(f"{name} {count}" for name, count in counts.items())
        lines.append(f"  {split:<5} {per_class}")
    return "\n".join(lines)


def ensure_dataset(name: str = "shapes") -> Path:
    """Path of a dataset under :func:`data_root`: an offline one (built first if missing) or a fetched one.

    A fetched dataset (``data_scripts/fetch_flowers.py``, ``fetch_cats_vs_dogs.py``) must already hold
    ``train/`` and ``val/``; lessons that take a ``DATASET`` parameter read it through here.
    """
    if name not in DEFAULT_SPECS:
        target = data_root() / name
        if (target / "train").is_dir() and (target / "val").is_dir():
            return target
        raise DatasetError(
            f"No dataset called {name!r} under {display_path(data_root())}: the offline ones are "
            f"{sorted(DEFAULT_SPECS)}; fetch a real one first, e.g. .venv/bin/python data_scripts/fetch_flowers.py "
            "--subset 100 (then DATASET = 'flowers')."
        )
    target = data_root() / name
    note = describe_extra_files(target, write_dataset(target, DEFAULT_SPECS[name])["extra_files"])
    if note:
        print(note)
    return target


def cache_root() -> Path:
    """Where lessons keep what they make (trained models, checkpoints, cluster runs): ``$FITGEN_CACHE`` or ``.cache/``.

    Give each student of a shared installation their own (``FITGEN_CACHE=~/fitgen-cache``), so that two kernels
    never write the same checkpoint. A relative path is relative to the repository, as for ``FITGEN_DATA``.
    """
    configured = os.environ.get(CACHE_ENVIRONMENT_VARIABLE)
    return REPO_ROOT / Path(configured).expanduser() if configured else REPO_ROOT / ".cache"


def display_path(path: Path) -> str:
    """``path`` as a lesson prints it: stable across checkouts and cache folders.

    Inside the cache: ``.cache/...``, or ``$FITGEN_CACHE/...`` when that variable moves it; inside the
    repository: relative to it; elsewhere: as given.
    """
    resolved = Path(path).resolve()
    for root, shown in ((cache_root().resolve(), _cache_label()), (REPO_ROOT, "")):
        try:
            relative = resolved.relative_to(root).as_posix()
        except ValueError:
            continue
        return f"{shown}/{relative}" if shown else relative
    return str(path)


def _cache_label() -> str:
    return f"${CACHE_ENVIRONMENT_VARIABLE}" if os.environ.get(CACHE_ENVIRONMENT_VARIABLE) else ".cache"
