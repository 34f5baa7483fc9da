"""Small plotting helpers; every one returns the numbers behind its picture so a lesson can print them."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from helpers.images import ImageFolderError, class_folders, image_files, load_rgb


def show_samples(folder: Path, per_class: int = 4, target_size: tuple[int, int] = (128, 128)) -> dict[str, list[str]]:
    """Show the first ``per_class`` images of each class of ``folder`` in a grid, one row a class.

    Returns ``{class name: [file names shown]}``.
    """
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}.")
    classes = class_folders(Path(folder))
    chosen = {class_folder: image_files(class_folder)[:per_class] for class_folder in classes}
    for class_folder, files in chosen.items():
        if not files:
            raise ImageFolderError(f"Class folder {class_folder} has no images to show.")
    shown: dict[str, list[str]] = {}
    size = (1.6 * per_class, 1.8 * len(classes))
    figure, axes = plt.subplots(len(classes), per_class, figsize=size, dpi=80, squeeze=False)
    for row, (class_folder, files) in enumerate(chosen.items()):
        shown[class_folder.name] = [p.name for p in files]
        for column, axis in enumerate(axes[row]):
            axis.set_xticks([])
            axis.set_yticks([])
            if column < len(files):
                axis.imshow(load_rgb(files[column], target_size))
                axis.set_title(files[column].name, fontsize=8)
            if column == 0:
                axis.set_ylabel(f"class '{class_folder.name}'")
    figure.suptitle(f"First {per_class} images per class in {Path(folder).name}/")
    figure.tight_layout()
    plt.show()
    return shown


def plot_history(history: dict[str, list[float]], title: str) -> list[dict[str, float]]:
    """Plot loss and accuracy per epoch, training and validation, side by side (whichever are present).

    ``history`` is ``model.fit(...).history`` (or the same dict); returns one row per epoch, rounded to 3 places.
    """
    panels = [name for name in ("loss", "accuracy") if name in history]
    if not panels:
        raise ValueError(f"history has neither 'loss' nor 'accuracy'; its keys are {sorted(history)}.")
    lengths = {len(values) for values in history.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError("every history entry must have one value per epoch, and at least one epoch.")
    epochs = np.arange(1, lengths.pop() + 1)
    figure, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.2), squeeze=False)
    for axis, name in zip(axes[0], panels, strict=True):
        axis.plot(epochs, history[name], marker="o", label="training")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="s", label="validation")
        axis.set(title=f"{title}: {name}", xlabel="epoch", ylabel=name, xticks=epochs)
        axis.legend()
        axis.grid(alpha=0.3)
    figure.tight_layout()
    plt.show()
    keys = [key for name in panels for key in (name, f"val_{name}") if key in history]
    return [
        {"epoch": int(epoch), **{key: round(float(history[key][i]), 3) for key in keys}}
        for i, epoch in enumerate(epochs)
    ]


def history_table(rows: list[dict[str, float]]) -> str:
    """The rows of :func:`plot_history` as a fixed-width table."""
    keys = list(rows[0])
    lines = ["".join(f"{key:>14}" for key in keys)]
    lines += ["".join(f"{row[key]:>14}" if key == "epoch" else f"{row[key]:>14.3f}" for key in keys) for row in rows]
    return "\n".join(lines)


def show_preview(preview, title: str) -> None:
    """The original and its augmented copies in one row, each titled with its measured change."""
    count = 1 + len(preview.images)
    figure, axes = plt.subplots(1, count, figsize=(1.7 * count, 2.2), dpi=80, squeeze=False)
    scale = 255.0 if preview.images and max(image.max() for image in preview.images) <= 1.0 else 1.0
    pictures = [preview.original, *(np.clip(image * scale, 0, 255).astype("uint8") for image in preview.images)]
    labels = ["original", *(f"#{n}: {change:.0f}/255" for n, change in enumerate(preview.changes, start=1))]
    for axis, picture, label in zip(axes[0], pictures, labels, strict=True):
        axis.imshow(picture)
        axis.set_title(label, fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    axes[0][0].set_ylabel("image")
    figure.suptitle(f"{title} (titles: mean |pixel change|)", fontsize=10)
    figure.tight_layout()
    plt.show()
