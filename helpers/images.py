"""Load a class-folder tree into memory, with one clear message for every kind of bad input.

Mirrors ``flow_from_directory``: classes are the sorted sub-folder names (plain string order),
images are converted to RGB and resized with nearest-neighbour interpolation (its default).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class ImageFolderError(Exception):
    """A folder or image cannot be used; the message names the path and the fix."""


def class_folders(folder: Path) -> list[Path]:
    """The class sub-folders of ``folder`` in the order Keras numbers them (plain string order)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageFolderError(f"{folder} is not a folder. Point at a folder with one sub-folder per class.")
    classes = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    if len(classes) < 2:
        found = ", ".join(p.name for p in classes) or "none"
        raise ImageFolderError(
            f"{folder} needs at least two class sub-folders (found: {found}). "
            "Put each class's images in its own sub-folder, e.g. train/cat/ and train/dog/."
        )
    return classes


def load_rgb(path: Path, target_size: tuple[int, int]) -> np.ndarray:
    """One image as a ``(height, width, 3)`` uint8 array, resized like ``flow_from_directory`` does."""
    height, width = target_size
    if height < 1 or width < 1:
        raise ImageFolderError(f"target_size must be two positive numbers (height, width), got {target_size}.")
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                image = image.point(lambda value: value / 256).convert("L")
            rgb = image.convert("RGB").resize((width, height), Image.Resampling.NEAREST)
    except UnidentifiedImageError:
        raise ImageFolderError(f"{path} is not an image Pillow can read; move it out of the dataset.") from None
    except OSError as error:
        raise ImageFolderError(f"{path} is damaged or truncated ({error}); move it out of the dataset.") from None
    return np.asarray(rgb, dtype=np.uint8)


def load_image_folder(
    folder: Path, target_size: tuple[int, int] = (64, 64)
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All images under ``folder/<class>/`` as (uint8 images, float32 labels 0..k-1, class names)."""
    images, labels, names = [], [], []
    for number, class_folder in enumerate(class_folders(folder)):
        files = sorted(p for p in class_folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            raise ImageFolderError(
                f"Class folder {class_folder} has no images ({', '.join(IMAGE_EXTENSIONS)}); add images or remove it."
            )
        names.append(class_folder.name)
        for path in files:
            images.append(load_rgb(path, target_size))
            labels.append(number)
    return np.stack(images), np.asarray(labels, dtype=np.float32), names
