"""The fast input pipeline: OpenCV decodes and augments near the decoder's speed, ``tf.data`` or a ``PyDataset`` feeds.

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
import threading
import weakref
from pathlib import Path

import numpy as np

from helpers.augmentation import check_settings, zoom_bounds
from helpers.batch_arrays import BatchArrays
from helpers.images import ImageFolderError, check_target_size
from helpers.pipeline import FAST_SETTINGS, legacy_coefficients, list_images, without_autotuning
from helpers.run_ahead import RunAhead
from helpers.runtime import quiet_import


@functools.cache
def _cv2():
    import cv2

    cv2.setNumThreads(1)  # one image per thread; OpenCV's own threads would only fight the pipeline's
    return cv2


def _file_bytes(name: str) -> np.ndarray:
    """The whole file, in as few Python steps as possible: ``np.fromfile`` took enough of them (opening through
    Python's io, duplicating the descriptor) to make the two-thread pipeline 14 % slower, measured."""
    descriptor = os.open(name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(descriptor).st_size
        wanted = size + 1  # one byte more: a shorter read at the stated size is the end of the file
        parts = [os.read(descriptor, wanted)]
        read = len(parts[0])
        while parts[-1] and (read < size or len(parts[-1]) == wanted):  # a read capped by the system, or it grew
            parts.append(os.read(descriptor, wanted))
            read += len(parts[-1])
    finally:
        os.close(descriptor)
    return np.frombuffer(b"".join(parts) if len(parts) > 1 else parts[0], np.uint8)


def read_rgb(path: bytes | str | Path, target_size: tuple[int, int]) -> np.ndarray:
    """One file as uint8 RGB of ``target_size``, resized nearest-neighbour like ``flow_from_directory``."""
    cv2 = _cv2()
    # RGB, as Keras loads; EXIF orientation ignored, as Keras's load_img does; 16-bit kept, to saturate like Keras
    flags = cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION | cv2.IMREAD_ANYDEPTH
    name = os.fsdecode(path)
    try:
        contents = _file_bytes(name)
    except OSError as error:
        raise ImageFolderError(
            f"{name} cannot be read ({error.strerror or error}): moved or deleted since the pipeline listed the "
            "folder? Build the pipeline again after changing its folder."
        ) from None
    image = cv2.imdecode(contents, flags) if contents.size else None  # OpenCV refuses an empty buffer outright
    if image is not None and image.dtype != np.uint8:  # flow_from_directory clips 16-bit values at 255
        image = np.minimum(image, 255).astype(np.uint8)
    if image is None:  # also a JPEG cut short: imdecode refuses it (cv2.imread would return it half grey)
        raise ImageFolderError(
            f"{name} cannot be decoded (changed since it was checked?); check the folder again with "
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


def affine_matrices(parameters: tuple[np.ndarray, ...], height: int, width: int) -> np.ndarray:
    """OpenCV's 2 x 3 matrices (output pixel -> input pixel) for per-image (shear, zoom x, zoom y, flip) arrays."""
    a0, a1, a2, b1, b2 = legacy_coefficients(np, *(np.asarray(values) for values in parameters), height, width)
    matrices = np.zeros((len(a0), 2, 3))
    matrices[:, 0, 0], matrices[:, 0, 1], matrices[:, 0, 2], matrices[:, 1, 1], matrices[:, 1, 2] = a0, a1, a2, b1, b2
    return matrices


def warp(image: np.ndarray, matrix: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``image`` through one legacy matrix: bilinear, nearest-edge fill (OpenCV's fixed-point weights), into ``out``."""
    cv2 = _cv2()
    height, width = image.shape[:2]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(image, matrix, (width, height), dst=out, flags=flags, borderMode=cv2.BORDER_REPLICATE)


def augment(image: np.ndarray, shear: float, zoom_x: float, zoom_y: float, flip: bool) -> np.ndarray:
    """One image through the legacy affine map of these parameters."""
    return warp(image, affine_matrices(([shear], [zoom_x], [zoom_y], [flip]), *image.shape[:2])[0])


def load_batch(paths: list, target_size: tuple[int, int], settings: dict, seed: list[int], out=None) -> np.ndarray:
    """Decode, augment and rescale one batch into float32 ``out`` (N x H x W x 3; a new array if None).

    ``seed`` fixes its transforms. The batch's matrices are computed at once, and each image is warped and
    converted while it is still in the CPU's cache: the less Python and memory traffic per image, the less the
    threads wait for each other. The conversion is ``tf.cast(x, tf.float32) * rescale`` to the bit.
    """
    height, width = target_size
    batch = np.empty((len(paths), height, width, 3), np.float32) if out is None else out
    geometric = any(settings.get(name) for name in ("shear_range", "zoom_range", "horizontal_flip"))
    parameters = random_parameters(np.random.default_rng(seed), len(paths), settings)
    matrices = affine_matrices(parameters, height, width) if geometric else None
    warped, scale = np.empty((height, width, 3), np.uint8), _scale(settings)
    for index, path in enumerate(paths):
        image = read_rgb(path, target_size)
        np.multiply(image if matrices is None else warp(image, matrices[index], warped), scale, out=batch[index])
    return batch


def _scale(settings: dict) -> np.float32:
    return np.float32(settings["rescale"] if settings.get("rescale") is not None else 1.0)


class _Epochs:
    """The batches of any epoch: epoch ``e`` has its own file order and transforms, seeded by (seed, e)."""

    def __init__(
        self, paths: list, labels: np.ndarray, target_size, batch_size: int, shuffle: bool, seed: int, settings: dict
    ) -> None:
        self.paths, self.labels, self.target_size, self.batch_size = paths, labels, target_size, batch_size
        self.shuffle, self.seed, self.settings = shuffle, seed, settings
        self._orders: dict[int, np.ndarray] = {}  # the two latest epochs' orders: a pass and its run-ahead
        self._orders_lock = threading.Lock()  # worker threads ask for orders at once
        self.arrays = BatchArrays()

    def order(self, epoch: int) -> np.ndarray:
        """The file order of ``epoch``: shuffled with (seed, epoch), or the folder's order."""
        with self._orders_lock:
            if epoch not in self._orders:
                indices = np.arange(len(self.paths))
                order = np.random.default_rng([self.seed, epoch]).permutation(indices) if self.shuffle else indices
                self._orders = {**dict(list(self._orders.items())[-1:]), epoch: order}
            return self._orders[epoch]

    def __len__(self) -> int:
        return -(-len(self.paths) // self.batch_size)

    def batch(self, epoch: int, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``index`` of epoch ``epoch``: float32 images, rescaled, and float32 labels."""
        chosen = self.order(epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.arrays.take((len(chosen), *self.target_size, 3))
        load_batch([self.paths[i] for i in chosen], self.target_size, self.settings, [self.seed, epoch, index], images)
        return images, self.labels[chosen]


def _check_count(name: str, value: object) -> None:
    """A Python int of at least 1 (not a bool, a float or a NumPy number), or one message naming the argument."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}.")


def _epochs_of(folder: Path, target_size: object, batch_size: object, shuffle: bool, seed: int, settings: dict):
    """The checked arguments as the batches of one epoch after another, the settings and the class names."""
    target_size = check_target_size(target_size)
    _check_count("batch_size", batch_size)
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

    ``workers`` threads of our own decode, augment and rescale whole batches (OpenCV lets go of Python's GIL,
    so they run at once), ``2 * workers`` batches ahead and, near a pass's end, the next epoch's first
    ``workers``. Each image is converted to float32 as it is made, into a batch array used again once nothing
    refers to it, and aligned so that ``tf.data.Dataset.from_generator`` takes it without a copy. Each pass over
    the dataset is a new epoch (epoch p has the order and transforms of seed and p, as ``opencv_sequence``'s).
    One pass at a time: give ``validation_data`` a dataset of its own. tf.data's autotuning is off for it (at the
    start of some epochs it stalled 1.2 s on two cores); options hold for the whole pipeline, so a map added after
    it is not autotuned either.
    """
    tf = quiet_import("tensorflow")
    epochs, settings, names = _epochs_of(folder, target_size, batch_size, shuffle, seed, settings)
    _check_count("workers", workers)
    batches = RunAhead(epochs, workers)

    signature = (tf.TensorSpec([None, *epochs.target_size, 3], tf.float32), tf.TensorSpec([None], tf.float32))
    dataset = tf.data.Dataset.from_generator(batches.one_pass, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(epochs)))  # len() and fit's step count
    dataset = without_autotuning(dataset.prefetch(tf.data.AUTOTUNE))  # nothing to tune: our threads do the work
    weakref.finalize(dataset, batches.forget)  # TensorFlow may still run the pipeline (a tf.function holding it)
    return dataset, names


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

    class OpenCVBatches(keras.utils.PyDataset):
        """Batch ``i`` of the current epoch's order; a new order and new transforms every epoch."""

        def __init__(self) -> None:
            super().__init__(workers=workers, use_multiprocessing=False)
            self.epoch = 0

        def __len__(self) -> int:
            return len(epochs)

        def __getitem__(self, index: int):
            return epochs.batch(self.epoch, index)

        def on_epoch_end(self) -> None:
            self.epoch += 1

    return OpenCVBatches(), names
