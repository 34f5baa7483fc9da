"""Load a class-folder tree into memory, with one clear message for every kind of bad input.

Follows ``flow_from_directory`` where it matters for the lessons: classes are the sorted sub-folder
names (plain string order), images become RGB and are resized with nearest-neighbour interpolation
(its default). Unlike it, this loader refuses an empty class and skips hidden folders and files.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

# What flow_from_directory loads: DirectoryIterator's white_list_formats (keras/src/legacy/preprocessing/image.py,
# tf_keras/src/preprocessing/image.py), matched as it does, by the end of the lower-cased name.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")
# Image files flow_from_directory skips without a word (image_dataset_from_directory reads .gif, TF decodes both).
SKIPPED_IMAGE_EXTENSIONS = (".gif", ".webp")
MAX_PIXELS = 40_000_000  # more is "huge" for the health check, and refused where a whole image would be held


def is_image_name(name: str) -> bool:
    """True when flow_from_directory counts a file of this name as an image (``name.lower().endswith(...)``)."""
    return name.lower().endswith(tuple(extension.lstrip(".") for extension in IMAGE_EXTENSIONS))


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


def check_target_size(target_size: object) -> tuple[int, int]:
    """``target_size`` as a (height, width) pair of positive ints, or a message that shows the right form."""
    if (
        not isinstance(target_size, tuple | list)
        or len(target_size) != 2
        or not all(isinstance(side, int) and not isinstance(side, bool) and side > 0 for side in target_size)
    ):
        raise ImageFolderError(
            f"target_size must be two positive whole numbers (height, width), e.g. (64, 64); got {target_size!r}."
        )
    return int(target_size[0]), int(target_size[1])


def _to_8_bit(image: Image.Image) -> Image.Image:
    """16- and 32-bit integer images scaled to 0-255 (``convert`` alone would clip them to white)."""
    if image.mode.startswith("I;16") or image.mode == "I":
        values = np.asarray(image, dtype=np.int64)
        top = 255 if values.max(initial=0) <= 255 else 65535
        return Image.fromarray(np.clip(np.rint(values * (255 / top)), 0, 255).astype(np.uint8), mode="L")
    if image.mode == "F":
        raise ImageFolderError("floating-point images are not supported; save them as 8-bit PNG or JPEG first.")
    return image


RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,  # flow_from_directory's default
    "bilinear": Image.Resampling.BILINEAR,  # image_dataset_from_directory's default
    "bicubic": Image.Resampling.BICUBIC,  # Pillow's own default for Image.resize
}


def load_rgb(path: Path, target_size: tuple[int, int], interpolation: str = "nearest") -> np.ndarray:
    """One image as a ``(height, width, 3)`` uint8 array, resized like ``flow_from_directory`` does.

    Grayscale, palette, RGBA, CMYK and 16-bit images become 8-bit RGB (alpha is dropped, as Keras does).
    ``interpolation`` is one of :data:`RESAMPLING` (default nearest, as ``flow_from_directory``).
    """
    height, width = check_target_size(target_size)
    if interpolation not in RESAMPLING:
        raise ImageFolderError(f"interpolation must be one of {sorted(RESAMPLING)}, got {interpolation!r}.")
    with opened_image(path) as image:
        image.load()
        rgb = _to_8_bit(image).convert("RGB").resize((width, height), RESAMPLING[interpolation])
    return np.asarray(rgb, dtype=np.uint8)


@contextmanager
def opened_image(path: Path, max_pixels: int | None = None) -> Iterator[Image.Image]:
    """``Image.open`` with one clear :class:`ImageFolderError` (naming the file and the fix) for every failure.

    Empty, non-image, damaged, truncated and decompression-bomb files are refused, and so is an image of
    more than ``max_pixels`` when given (checked from its header, before decoding).
    """
    path = Path(path)
    with warnings.catch_warnings():
        yield from _checked_open(path, max_pixels)


def _checked_open(path: Path, max_pixels: int | None) -> Iterator[Image.Image]:
    if not path.exists():
        raise ImageFolderError(f"{path} does not exist; check the name (and that a link still points somewhere).")
    if path.is_dir():
        raise ImageFolderError(f"{path} is a folder, not an image; give the path of one image file.")
    try:
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused by size below, or loaded on purpose
        if path.stat().st_size == 0:
            raise ImageFolderError(f"{path} is empty (0 bytes); re-download it or move it out of the dataset.")
        with Image.open(path) as image:
            width, height = image.size
            if max_pixels is not None and width * height > max_pixels:
                raise ImageFolderError(
                    f"{path} is {width:,}x{height:,} px ({width * height / 1e6:,.0f} megapixels), more than "
                    f"{max_pixels / 1e6:,.0f}: too large to hold safely. Shrink it first (e.g. longest side 1,024 px)."
                )
            yield image
    except ImageFolderError as error:
        message = str(error)
        raise ImageFolderError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    except UnidentifiedImageError:
        raise ImageFolderError(f"{path} is not an image Pillow can read; move it out of the dataset.") from None
    except Image.DecompressionBombError:
        raise ImageFolderError(f"{path} is too large to load safely; shrink it or move it out.") from None
    except OSError as error:
        raise ImageFolderError(f"{path} is damaged or truncated ({error}); move it out of the dataset.") from None


def image_files(folder: Path) -> list[Path]:
    """The image files of one class folder, sorted; hidden files (e.g. macOS ``._name.jpg``) are skipped."""
    return sorted(p for p in folder.iterdir() if p.is_file() and is_image_name(p.name) and not p.name.startswith("."))


def load_image_folder(
    folder: Path, target_size: tuple[int, int] = (64, 64), interpolation: str = "nearest"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All images under ``folder/<class>/`` as (uint8 images, float32 labels 0..k-1, class names)."""
    check_target_size(target_size)
    images, labels, names = [], [], []
    for number, class_folder in enumerate(class_folders(folder)):
        files = image_files(class_folder)
        if not files:
            raise ImageFolderError(
                f"Class folder {class_folder} has no images ({', '.join(IMAGE_EXTENSIONS)}); add images or remove it."
            )
        names.append(class_folder.name)
        for path in files:
            images.append(load_rgb(path, target_size, interpolation))
            labels.append(number)
    return np.stack(images), np.asarray(labels, dtype=np.float32), names
