"""What a batch is: memory arithmetic, one-line batch descriptions, and small class trees to experiment on."""

from __future__ import annotations

import numbers
import shutil
from pathlib import Path

import numpy as np

from helpers.images import image_files

BYTES_PER_VALUE = {"float32": 4, "float16": 2, "uint8": 1, "float64": 8}


def dataset_memory(images: int, height: int, width: int, channels: int = 3, dtype: str = "float32") -> int:
    """Bytes needed to hold ``images`` decoded images at once: images x height x width x channels x bytes."""
    for name, value in (("images", images), ("height", height), ("width", width), ("channels", channels)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}.")
    if dtype not in BYTES_PER_VALUE:
        raise ValueError(f"dtype must be one of {sorted(BYTES_PER_VALUE)}, got {dtype!r}.")
    return int(images) * int(height) * int(width) * int(channels) * BYTES_PER_VALUE[dtype]


def human_bytes(size: int) -> str:
    """A byte count the way people read it, in powers of 1,024 (``15,052,800,000`` is ``14.0 GiB``)."""
    if size < 0:
        raise ValueError(f"a size cannot be negative, got {size}.")
    value, unit = float(size), "bytes"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if round(value, 1) < 1024 or unit == "TiB":
            break
        value /= 1024
    return f"{size:,} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def describe_batch(batch: object) -> str:
    """Shape, dtype and value range of a batch's images, and its labels if it has any.

    Accepts what generators yield: ``x`` alone, ``(x, y)`` or ``(x, y, sample_weight)``.
    """
    parts = list(batch) if isinstance(batch, tuple) else [batch]
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"a batch is x, (x, y) or (x, y, sample_weight); got a tuple of {len(parts)}.")
    x = np.asarray(parts[0])
    lines = [
        f"{'tuple of ' + str(len(parts)) if isinstance(batch, tuple) else type(batch).__name__}: "
        f"x {x.shape} {x.dtype}, values {x.min():.4g} to {x.max():.4g}"
    ]
    if len(parts) >= 2:
        y = np.asarray(parts[1])
        labels = y.argmax(axis=-1) if y.ndim == 2 else y  # one-hot (class_mode="categorical") counts by class
        values, counts = np.unique(labels, return_counts=True)
        spread = ", ".join(f"{value:g}: {count}" for value, count in zip(values.tolist(), counts.tolist(), strict=True))
        lines.append(f"y {y.shape} {y.dtype}, label counts {{{spread}}}")
    return "\n".join(lines)


def copy_class_tree(source: Path, destination: Path, class_names: list[str], per_class: int) -> Path:
    """A small class-folder tree under ``destination``: ``per_class`` images of ``source`` per new class name.

    Images are copied from the one folder ``source`` (so the new classes differ only by folder NAME).
    Refuses to write into an existing folder, so it never mixes with or overwrites user files.
    """
    destination = Path(destination)
    if destination.exists():
        raise FileExistsError(f"{destination} already exists; copy_class_tree only creates new folders.")
    if per_class < 1 or len({name.lower() for name in class_names}) != len(class_names) or not class_names:
        raise ValueError(
            f"need class names that differ beyond upper/lower case (they collide on macOS and Windows) and "
            f"per_class >= 1, got {class_names!r} and {per_class}."
        )
    if not Path(source).is_dir():
        raise ValueError(
            f"{source} is not a folder; point source at one folder of images, e.g. data/shapes/train/circle."
        )
    pool = image_files(Path(source))
    if len(pool) < per_class:
        raise ValueError(f"{source} has {len(pool)} images, fewer than per_class={per_class}.")
    for class_number, name in enumerate(class_names):
        folder = destination / name
        folder.mkdir(parents=True)
        for index in range(per_class):
            original = pool[(class_number * per_class + index) % len(pool)]
            shutil.copyfile(original, folder / f"{name}_{index:03d}{original.suffix}")
    return destination


def count_batches(source: object, limit: int) -> int:
    """How many batches one ``for`` loop over ``source`` yields, stopping at ``limit`` (some never end)."""
    count = 0
    for _ in source:
        count += 1
        if count >= limit:
            break
    return count


def capabilities(source: object) -> dict[str, str]:
    """What a batch source offers, measured: ``len()``, indexing, and the batches of two ``for`` passes."""
    try:
        length: int | None = len(source)
    except TypeError:
        length = None
    try:
        source[0]
        indexing = "yes"
    except (TypeError, IndexError, KeyError) as error:
        indexing = f"no ({type(error).__name__})"
    limit = length + 3 if length is not None else 100_000
    passes = [count_batches(source, limit) for _ in range(2)]
    described = [f"never ends (stopped after {count})" if count >= limit else str(count) for count in passes]
    return {
        "len()": "no (TypeError)" if length is None else str(length),
        "source[0]": indexing,
        "1st for-loop": described[0],
        "2nd for-loop": described[1],
    }


def capability_table(rows: dict[str, dict[str, str]]) -> str:
    """The :func:`capabilities` of several sources side by side, one row each."""
    columns = list(next(iter(rows.values())))
    widths = [max(len(name) for name in rows)] + [
        max(len(column), *(len(row[column]) for row in rows.values())) for column in columns
    ]
    lines = ["  ".join(text.ljust(width) for text, width in zip(["source", *columns], widths, strict=True)).rstrip()]
    for name, row in rows.items():
        cells = [name, *(row[column] for column in columns)]
        lines.append("  ".join(text.ljust(width) for text, width in zip(cells, widths, strict=True)).rstrip())
    return "\n".join(lines)
