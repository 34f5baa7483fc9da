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


def plot_accuracy(train_accuracy: list[float], val_accuracy: list[float], title: str) -> list[tuple[int, float, float]]:
    """Plot training and validation accuracy per epoch; return (epoch, train, val) rows rounded to 3 places."""
    if len(train_accuracy) != len(val_accuracy) or not train_accuracy:
        raise ValueError("train_accuracy and val_accuracy must be non-empty and of equal length.")
    epochs = np.arange(1, len(train_accuracy) + 1)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.plot(epochs, train_accuracy, marker="o", label="training")
    axis.plot(epochs, val_accuracy, marker="s", label="validation")
    axis.set(title=title, xlabel="epoch", ylabel="accuracy", ylim=(0.0, 1.02))
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    plt.show()
    return [
        (int(e), round(float(t), 3), round(float(v), 3))
        for e, t, v in zip(epochs, train_accuracy, val_accuracy, strict=True)
    ]
