"""The input pipelines that ``make bench`` and lesson 06 compare, each built from the same folder and settings.

Every augmenting pipeline shears by up to 20 degrees, zooms by 0.2 per axis, flips and rescales 1/255; decode-only
reads and batches the same files without augmenting: the ceiling.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from helpers.augmentation import keras3_layers, legacy_generator
from helpers.opencv_pipeline import opencv_dataset, opencv_sequence
from helpers.pipeline import fast_dataset, without_autotuning
from helpers.runtime import quiet_import

SETTINGS = {"shear_range": 20, "zoom_range": 0.2, "horizontal_flip": True, "rescale": 1 / 255}
PIPELINES = {
    "legacy": "ImageDataGenerator.flow_from_directory, one thread",
    "legacy + threads": "the same, workers=2 (2 threads fetch batches by index)",
    "layers in map": "image_dataset_from_directory + Keras 3 layers in Dataset.map",
    "TensorFlow only": "helpers.pipeline.fast_dataset: one affine transform per image, in TensorFlow",
    "OpenCV, tf.data": "helpers.opencv_pipeline.opencv_dataset: OpenCV in 2 threads, tf.data from_generator",
    "OpenCV, PyDataset": "helpers.opencv_pipeline.opencv_sequence: OpenCV in a PyDataset, workers=2",
    "decode only": "decode + resize + batch, no augmentation, autotuning off (the ceiling)",
}
FAST_CANDIDATES = ("OpenCV, tf.data", "OpenCV, PyDataset")  # "fast" is whichever of the two is faster here
WORKERS = 2


def legacy_flow(folder: Path, size: int, batch_size: int, seed: int = 0):
    """The classic recipe: an augmenting ``ImageDataGenerator`` flowing from the folder."""
    return legacy_generator(**SETTINGS).flow_from_directory(
        folder, target_size=(size, size), batch_size=batch_size, class_mode="binary", seed=seed
    )


def by_index_in_threads(batches, threads: int = WORKERS) -> Callable[[], Iterable]:
    """One epoch of a sequence's batches fetched by ``threads`` threads of our own, outside Keras (the profile)."""

    def epoch() -> Iterable:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            yield from pool.map(batches.__getitem__, range(len(batches)))
        batches.on_epoch_end()

    return epoch


def through_keras(batches) -> Callable[[], Iterable]:
    """One epoch of a ``PyDataset`` the way ``fit`` reads it on the TensorFlow backend: Keras's own adapter
    (keras/src/trainers/data_adapters/py_dataset_adapter.py, ``PyDatasetAdapter.get_tf_dataset``), whose worker
    threads fill a queue that one ``tf.data.Dataset.from_generator`` hands over, one batch at a time."""
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    adapter = PyDatasetAdapter(batches, shuffle=False)

    def epoch() -> Iterable:
        yield from adapter.get_tf_dataset()
        adapter.on_epoch_end()

    return epoch


def keras_input(name: str, folder: Path, size: int, batch_size: int, seed: int = 0):
    """What ``fit`` is given for a pipeline: a ``PyDataset`` (Keras runs its workers) or a ``tf.data.Dataset``."""
    target = (size, size)
    if name in ("legacy", "legacy + threads"):
        flow = legacy_flow(folder, size, batch_size, seed)
        flow.workers = WORKERS if name == "legacy + threads" else 1  # Keras 3: workers live on the PyDataset
        return flow
    if name == "OpenCV, PyDataset":
        return opencv_sequence(folder, target, batch_size, seed=seed, workers=WORKERS, **SETTINGS)[0]
    if name == "layers in map":
        tf, keras = quiet_import("tensorflow"), quiet_import("keras")
        augmentation = keras.Sequential(keras3_layers(seed=seed, **SETTINGS))
        dataset = keras.utils.image_dataset_from_directory(
            folder, image_size=target, batch_size=batch_size, interpolation="nearest", seed=seed, verbose=False
        )
        augment = tf.autograph.experimental.do_not_convert(lambda x, y: (augmentation(x, training=True), y))
        return dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    if name == "TensorFlow only":
        return fast_dataset(folder, target, batch_size, seed=seed, **SETTINGS)[0]
    if name == "OpenCV, tf.data":
        return opencv_dataset(folder, target, batch_size, seed=seed, **SETTINGS)[0]
    if name == "decode only":  # the decoder at its best, without the autotuner's stalls
        return without_autotuning(fast_dataset(folder, target, batch_size, shuffle=False)[0])
    raise ValueError(f"unknown pipeline {name!r}; choose from {', '.join(PIPELINES)}.")


def pipeline_batches(name: str, folder: Path, size: int, batch_size: int, seed: int = 0) -> Callable[[], Iterable]:
    """A function that returns one epoch of ``(x, y)`` batches from the named pipeline (built once: each call is
    a new epoch of the same pipeline)."""
    source = keras_input(name, folder, size, batch_size, seed)
    if name == "legacy":
        return lambda: (source[index] for index in range(len(source)))
    if name in ("legacy + threads", "OpenCV, PyDataset"):
        return through_keras(source)
    return lambda: source


def restore_malloc_thresholds() -> bool:
    """Undo what iterating a ``from_generator`` dataset does to the whole process (TensorFlow 2.21 logs "Memory
    patch applied: M_TRIM_THRESHOLD=128 kb"): glibc's mmap threshold stops adapting, so if that comes before the
    first large allocations, every later one of 128 KB or more (one float32 image of 128 x 128) is mapped and
    zeroed afresh. Measured here: decode-only 2 to 2.7x slower, 44 to 57 page faults per image, until this sets
    the largest thresholds glibc's own adaptation reaches (mmap 32 MB, trim 64 MB; fixed from then on, for the
    whole process). True where it could (Linux with glibc); elsewhere there is nothing to undo.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    trim_threshold, mmap_threshold = -1, -3  # M_TRIM_THRESHOLD and M_MMAP_THRESHOLD in glibc's malloc.h
    return bool(mallopt(mmap_threshold, 32 << 20)) and bool(mallopt(trim_threshold, 64 << 20))


def images_per_second(epoch: Callable[[], Iterable], warm_up: bool = True, min_seconds: float = 0.0) -> float:
    """Time whole passes over ``epoch()`` (after one warm-up pass, unless told) until ``min_seconds`` have gone by,
    at least one pass, and return images per second.

    Several short passes average out tf.data's occasional stall as a pass starts (its autotuning: 1 to 10 passes
    in 20 over a 1,000-image folder took about 70 ms more, measured on two cores), which a single pass either
    misses or doubles. Each measurement starts from glibc's thresholds (``restore_malloc_thresholds``),
    whichever pipeline ran before it.
    """
    if warm_up:  # graph tracing, file cache, thread pools
        for _ in epoch():
            pass
    restore_malloc_thresholds()  # after the first pass: that is when a from_generator dataset changes them
    started, images = time.perf_counter(), 0
    while True:
        for batch in epoch():
            images += len(batch[1])
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return images / elapsed
