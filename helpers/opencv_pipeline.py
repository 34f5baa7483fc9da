"""The fast input pipeline at the decoder's speed: OpenCV decodes and augments, ``tf.data`` or a ``PyDataset`` feeds.

The legacy generator's augmentation (shear in degrees, independent zoom per axis in [1-z, 1+z], horizontal
flip, about the image centre, nearest-edge fill, bilinear) is ONE affine map per image: the same matrix
:func:`helpers.pipeline.legacy_coefficients` builds. TensorFlow's CPU resampling kernel applies it one pixel at a
time; OpenCV's ``warpAffine`` is vectorized and, like its JPEG decoder, releases Python's GIL, so two threads
decode and augment two images at once. Labels, class order, the smaller last batch and ``rescale`` behave like
``flow_from_directory(class_mode="binary")``. OpenCV reads BGR by default (lesson 05's pitfall): images are
decoded straight to RGB (``IMREAD_COLOR_RGB``), and a test checks a red image comes out red.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from helpers.augmentation import check_settings, zoom_bounds
from helpers.images import ImageFolderError, check_target_size
from helpers.pipeline import FAST_SETTINGS, legacy_coefficients, list_images
from helpers.runtime import quiet_import


@functools.cache
def _cv2():
    import cv2

    cv2.setNumThreads(1)  # one image per thread; OpenCV's own threads would only fight the pipeline's
    return cv2


def read_rgb(path: bytes | str | Path, target_size: tuple[int, int]) -> np.ndarray:
    """One file as uint8 RGB of ``target_size``, resized nearest-neighbour like ``flow_from_directory``."""
    cv2 = _cv2()
    # RGB, as Keras loads; EXIF orientation ignored, as Keras's load_img does; 16-bit kept, to saturate like Keras
    flags = cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION | cv2.IMREAD_ANYDEPTH
    image = cv2.imdecode(np.fromfile(os.fsdecode(path), np.uint8), flags)
    if image is not None and image.dtype != np.uint8:  # flow_from_directory clips 16-bit values at 255
        image = np.minimum(image, 255).astype(np.uint8)
    if image is None:
        raise ImageFolderError(
            f"{os.fsdecode(path)} cannot be decoded (changed since it was checked?); check the folder again with "
            "data_scripts/check_images.py and move broken files out."
        )
    height, width = target_size
    if image.shape[:2] != (height, width):  # NEAREST_EXACT picks pixel centres, as Pillow and TensorFlow do
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
    return image


def random_parameters(rng: np.random.Generator, count: int, settings: dict) -> tuple[np.ndarray, ...]:
    """Per image: shear (degrees), zoom x, zoom y and flip, drawn like the legacy generator draws them."""
    shear_range = float(settings.get("shear_range", 0.0))
    lower, upper = zoom_bounds(settings.get("zoom_range", 0.0))
    shear = rng.uniform(-shear_range, shear_range, count) if shear_range else np.zeros(count)
    zoom_x, zoom_y = (
        rng.uniform(lower, upper, count) if (lower, upper) != (1.0, 1.0) else np.ones(count) for _ in "xy"
    )
    flip = rng.random(count) < 0.5 if settings.get("horizontal_flip") else np.zeros(count, bool)
    return shear, zoom_x, zoom_y, flip


def augment(image: np.ndarray, shear: float, zoom_x: float, zoom_y: float, flip: bool) -> np.ndarray:
    """One image through the legacy affine map: bilinear, nearest-edge fill (OpenCV's fixed-point weights)."""
    cv2 = _cv2()
    height, width = image.shape[:2]
    a0, a1, a2, b1, b2 = legacy_coefficients(np, shear, zoom_x, zoom_y, flip, height, width)
    matrix = np.array([[a0, a1, a2], [0.0, b1, b2]], np.float64)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP  # the matrix maps output pixels to input pixels
    return cv2.warpAffine(image, matrix, (width, height), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def load_batch(paths: list, target_size: tuple[int, int], settings: dict, seed: list[int]) -> np.ndarray:
    """Decode and augment one batch (uint8, N x H x W x 3, not yet rescaled); ``seed`` fixes its transforms."""
    height, width = target_size
    batch = np.empty((len(paths), height, width, 3), np.uint8)
    parameters = random_parameters(np.random.default_rng(seed), len(paths), settings)
    geometric = any(settings.get(name) for name in ("shear_range", "zoom_range", "horizontal_flip"))
    for index, path in enumerate(paths):
        image = read_rgb(path, target_size)
        batch[index] = augment(image, *(values[index] for values in parameters)) if geometric else image
    return batch


def _scale(settings: dict) -> np.float32:
    return np.float32(settings["rescale"] if settings.get("rescale") is not None else 1.0)


class _Epochs:
    """The batches of one epoch after another: a new file order and new transforms each epoch, seeded."""

    def __init__(
        self, paths: list, labels: np.ndarray, target_size, batch_size: int, shuffle: bool, seed: int, settings: dict
    ) -> None:
        self.paths, self.labels, self.target_size, self.batch_size = paths, labels, target_size, batch_size
        self.shuffle, self.seed, self.settings, self.epoch = shuffle, seed, settings, 0
        self.order = self._order()

    def _order(self) -> np.ndarray:
        indices = np.arange(len(self.paths))
        return np.random.default_rng([self.seed, self.epoch]).permutation(indices) if self.shuffle else indices

    def __len__(self) -> int:
        return -(-len(self.paths) // self.batch_size)

    def batch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``index`` of the current epoch: uint8 images and float32 labels."""
        chosen = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images = load_batch(
            [self.paths[i] for i in chosen], self.target_size, self.settings, [self.seed, self.epoch, index]
        )
        return images, self.labels[chosen]

    def next_epoch(self) -> None:
        self.epoch += 1
        self.order = self._order()


def _epochs_of(folder: Path, target_size: object, batch_size: object, shuffle: bool, seed: int, settings: dict):
    """The checked arguments as the batches of one epoch after another, the settings and the class names."""
    target_size = check_target_size(target_size)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}.")
    settings = check_settings(settings)
    unsupported = sorted(set(settings) - set(FAST_SETTINGS))
    if unsupported:
        raise ValueError(f"the OpenCV pipeline does {', '.join(FAST_SETTINGS)}; not {', '.join(unsupported)}.")
    paths, labels, names, _ = list_images(folder, decoder="OpenCV")
    epochs = _Epochs(paths, np.asarray(labels, np.float32), target_size, batch_size, shuffle, seed, settings)
    return epochs, settings, names


def opencv_dataset(
    folder: Path,
    target_size=(128, 128),
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int = 0,
    workers: int = 2,
    **settings,
):
    """A ``tf.data.Dataset`` of ``(x, y)`` batches decoded and augmented by OpenCV, and the class names.

    ``workers`` threads of our own decode and augment whole batches (OpenCV lets go of Python's GIL, so they
    run at once); ``tf.data.Dataset.from_generator`` takes the finished uint8 batches in order, and TensorFlow
    converts them to float32 and rescales them. Each pass over the dataset is a new epoch.
    """
    tf = quiet_import("tensorflow")
    epochs, settings, names = _epochs_of(folder, target_size, batch_size, shuffle, seed, settings)

    def one_epoch():
        with ThreadPoolExecutor(max_workers=workers) as pool:
            yield from pool.map(epochs.batch, range(len(epochs)))
        epochs.next_epoch()

    signature = (tf.TensorSpec([None, *epochs.target_size, 3], tf.uint8), tf.TensorSpec([None], tf.float32))
    dataset = tf.data.Dataset.from_generator(one_epoch, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(epochs)))  # len() and fit's step count
    scale = _scale(settings)
    dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32) * scale, y), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE), names


def opencv_sequence(
    folder: Path,
    target_size=(128, 128),
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int = 0,
    workers: int = 2,
    **settings,
):
    """The same batches from a ``keras.utils.PyDataset`` whose ``workers`` threads fetch batches by index."""
    keras = quiet_import("keras")
    epochs, settings, names = _epochs_of(folder, target_size, batch_size, shuffle, seed, settings)
    scale = _scale(settings)

    class OpenCVBatches(keras.utils.PyDataset):
        """Batch ``i`` of the current epoch's order; a new order and new transforms every epoch."""

        def __init__(self) -> None:
            super().__init__(workers=workers, use_multiprocessing=False)

        def __len__(self) -> int:
            return len(epochs)

        def __getitem__(self, index: int):
            images, batch_labels = epochs.batch(index)
            return np.multiply(images, scale, dtype=np.float32), batch_labels

        def on_epoch_end(self) -> None:
            epochs.next_epoch()

    return OpenCVBatches(), names
