"""A fast ``tf.data`` input pipeline with the legacy generator's augmentation semantics.

``flow_from_directory`` + ``ImageDataGenerator`` augments one image at a time in Python and SciPy.
:func:`fast_dataset` decodes in parallel, batches, then augments a whole batch in one graph op: each
image gets ONE affine transform that does its shear (degrees), independent zoom per axis in
[1-z, 1+z] and horizontal flip, exactly as the legacy generator composes them (about the image
centre, nearest-edge fill, bilinear sampling), then ``rescale``. Labels, class order (sorted folder
names) and the smaller last batch behave like ``flow_from_directory(class_mode="binary")``.
The transform runs as two 1-D bilinear passes (:func:`separable_bilinear`), which is exact here (TensorFlow's 2-D
kernel gives the same pixels; make bench times both). :mod:`helpers.opencv_pipeline` applies the same map with OpenCV.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

import numpy as np

from helpers.augmentation import check_settings, zoom_bounds
from helpers.file_health import ERROR, SIGNATURES, Finding, inspect_file
from helpers.images import ImageFolderError, check_target_size, class_folders, image_files
from helpers.runtime import quiet_import

FAST_SETTINGS = ("rescale", "shear_range", "zoom_range", "horizontal_flip")


FINGERPRINT_BUCKETS = 2**62  # tf.strings.to_hash_bucket_fast: Fingerprint64 of the file's bytes


@functools.cache
def _errors(path: str, size: int, modified_ns: int) -> tuple[Finding, ...]:
    """The health check's errors for one file, remembered while it is unchanged (size and time)."""
    findings, _ = inspect_file(Path(path), Path(Path(path).name))
    return tuple(finding for finding in findings if finding.severity == ERROR)


@functools.cache
def _fingerprint(path: str, size: int, modified_ns: int) -> int:
    """TensorFlow's Fingerprint64 of the file's bytes (what the pipeline recomputes when it reads the file)."""
    tf = quiet_import("tensorflow")
    return int(tf.strings.to_hash_bucket_fast([Path(path).read_bytes()], FINGERPRINT_BUCKETS)[0])


def check_file(path: Path, decoder: str = "TensorFlow") -> int:
    """Refuse, by name, a file that would stop an epoch halfway: what the health check calls an error
    (truncated, empty, unreadable, not an image, too large to decode), or, for ``decoder="TensorFlow"``, a
    format TensorFlow cannot decode (OpenCV reads TIFF, PPM and every BMP, like flow_from_directory).
    Returns the fingerprint of the bytes it checked for TensorFlow (its pipeline compares it when it reads the
    file), -1 for another decoder."""
    status = path.stat()
    errors = _errors(str(path), status.st_size, status.st_mtime_ns)
    if errors:
        raise ImageFolderError(
            f"{path}: {errors[0].problem}, {errors[0].detail}. Move it out of the dataset "
            "(data_scripts/check_images.py --quarantine does that)."
        )
    if decoder != "TensorFlow":
        return -1
    with path.open("rb") as file:
        head = file.read(30)
    if not any(head.startswith(magic) for magic in SIGNATURES):  # tf.io.decode_image reads exactly these formats
        raise ImageFolderError(
            f"{path} is an image TensorFlow cannot decode (it reads {', '.join(SIGNATURES.values())}); convert it to "
            "JPEG or PNG, or use opencv_sequence or flow_from_directory, which read it."
        )
    bits = int.from_bytes(head[28:30], "little") if head.startswith(b"BM") else 24
    if bits not in (24, 32):  # 1-, 4- and 8-bit BMPs: TensorFlow fails on them, or reads palette indices as grey
        raise ImageFolderError(
            f"{path} is a {bits}-bit BMP; TensorFlow's decoder reads only 24- and 32-bit BMPs. Convert it to PNG "
            "or JPEG, or use opencv_sequence or flow_from_directory, which read it."
        )
    return _fingerprint(str(path), status.st_size, status.st_mtime_ns)


def list_images(
    folder: Path, check: bool = True, decoder: str = "TensorFlow"
) -> tuple[list[bytes], list[int], list[str], list[int]]:
    """Image paths (as file-system bytes, so any name works), labels, class names and fingerprints of a
    class-folder tree, in ``flow_from_directory``'s order. ``check`` refuses bad files up front (:func:`check_file`,
    for ``decoder``); without it the fingerprints are -1 (not compared)."""
    paths, labels, names, fingerprints = [], [], [], []
    for number, class_folder in enumerate(class_folders(Path(folder))):
        files = image_files(class_folder)
        if not files:
            raise ImageFolderError(f"class folder {class_folder} has no images; add images or remove the folder.")
        for path in files:
            fingerprints.append(check_file(path, decoder) if check else -1)
            paths.append(os.fsencode(path))
            labels.append(number)
        names.append(class_folder.name)
    return paths, labels, names, fingerprints


def legacy_coefficients(xp, shear_degrees, zoom_x, zoom_y, flip, height: int, width: int):
    """The legacy composition as (a0, a1, a2, b1, b2): output pixel (column x, row y) reads input pixel
    (a0 x + a1 y + a2, b1 y + b2). ``xp`` is ``numpy`` or ``tensorflow``: one formula for both pipelines.

    Legacy maps an output pixel p to the input pixel A (p - c) + c with A = shear @ zoom =
    [[zx, -sin(s) zy], [0, cos(s) zy]] in (column, row) coordinates about c = (h/2 - 0.5, w/2 - 0.5),
    and flips afterwards (a flip of the output is folded in as column -> width - 1 - column).
    """
    shear = shear_degrees * (math.pi / 180.0)
    a0, a1 = zoom_x, -xp.sin(shear) * zoom_y
    b1 = xp.cos(shear) * zoom_y  # the input row depends on the output row only
    centre_x, centre_y = height / 2 - 0.5, width / 2 - 0.5  # legacy's order (the same for square images)
    a2 = centre_x - a0 * centre_x - a1 * centre_y
    b2 = centre_y - b1 * centre_y
    a2 = xp.where(flip, a0 * (width - 1) + a2, a2)
    a0 = xp.where(flip, -a0, a0)
    return a0, a1, a2, b1, b2


def legacy_matrices(shear_degrees, zoom_x, zoom_y, flip, height: int, width: int):
    """Per-image projective transforms in TensorFlow's 8-number form (output -> input pixel), see
    :func:`legacy_coefficients`."""
    tf = quiet_import("tensorflow")
    flip = tf.cast(flip, tf.bool)
    a0, a1, a2, b1, b2 = legacy_coefficients(tf, shear_degrees, zoom_x, zoom_y, flip, height, width)
    zeros = tf.zeros_like(a0)
    return tf.stack([a0, a1, a2, zeros, b1, b2, zeros, zeros], axis=1)


def separable_bilinear(images, transforms):
    """Apply legacy-shaped transforms (input row depends on the output row only) as two 1-D bilinear passes.

    The legacy shear is horizontal, so each output row reads ONE input row position: interpolating rows
    first, then along each row, gives exactly the bilinear result of ``ImageProjectiveTransformV3`` with
    nearest-edge fill (coordinates clamped to the image). Which of the two is faster depends on the machine:
    make bench times both.
    """
    tf = quiet_import("tensorflow")
    height, width = images.shape[1], images.shape[2]
    rows, columns = tf.range(height, dtype=tf.float32), tf.range(width, dtype=tf.float32)
    a0, a1, a2, b1, b2 = (transforms[:, index : index + 1] for index in (0, 1, 2, 4, 5))

    def neighbours(position, size: int):
        """Clamped coordinates -> (lower index, upper index, weight of the upper one)."""
        position = tf.clip_by_value(position, 0.0, size - 1.0)
        lower = tf.floor(position)
        lower_index = tf.cast(lower, tf.int32)
        return lower_index, tf.minimum(lower_index + 1, size - 1), position - lower

    top, bottom, weight = neighbours(b1 * rows[None] + b2, height)  # [batch, height]
    first, second = (tf.gather(images, index, axis=1, batch_dims=1) for index in (top, bottom))
    images = first + (second - first) * weight[:, :, None, None]
    left, right, weight = neighbours(a0[:, :, None] * columns + (a1 * rows[None] + a2)[:, :, None], width)
    first, second = (tf.gather(images, index, axis=2, batch_dims=2) for index in (left, right))
    return first + (second - first) * weight[..., None]


def augment_batch(images, seed, settings: dict, two_passes: bool = True):
    """Shear, zoom and flip a float32 batch with one affine transform per image, then rescale.

    ``two_passes=False`` uses TensorFlow's 2-D ``ImageProjectiveTransformV3`` instead (same pixels; make
    bench and lesson 06 time both).
    """
    tf = quiet_import("tensorflow")
    count, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
    seeds = tf.random.experimental.stateless_split(seed, num=4)
    shear_range = float(settings.get("shear_range", 0.0))
    lower, upper = zoom_bounds(settings.get("zoom_range", 0.0))
    shear = tf.random.stateless_uniform([count], seeds[0], -shear_range, shear_range)
    zoom_x = tf.random.stateless_uniform([count], seeds[1], lower, upper)
    zoom_y = tf.random.stateless_uniform([count], seeds[2], lower, upper)
    flip = tf.random.stateless_uniform([count], seeds[3]) < (0.5 if settings.get("horizontal_flip") else 0.0)
    transforms = legacy_matrices(shear, zoom_x, zoom_y, flip, height, width)
    if two_passes:
        images = separable_bilinear(images, transforms)
    else:
        images = tf.raw_ops.ImageProjectiveTransformV3(
            images=images,
            transforms=transforms,
            output_shape=tf.shape(images)[1:3],
            fill_value=0.0,
            interpolation="BILINEAR",
            fill_mode="NEAREST",
        )
    if settings.get("rescale") is not None:
        images = images * settings["rescale"]
    return images


def decode_and_resize(path, target_size: tuple[int, int], fingerprint=None):
    """One file to a float32 RGB image of ``target_size``, nearest-neighbour like ``flow_from_directory``.

    Given the ``fingerprint`` of the file's bytes when it was checked (-1: not checked), a file that changed
    since (cut short by a copy still running, say) stops the epoch with an error that names it, instead of a
    nameless decoder error.
    """
    tf = quiet_import("tensorflow")
    contents = tf.io.read_file(path)
    if fingerprint is not None:
        now = tf.strings.to_hash_bucket_fast(contents, FINGERPRINT_BUCKETS)
        unchanged = tf.logical_or(tf.equal(fingerprint, -1), tf.equal(now, fingerprint))
        message = "fast_dataset: this file changed after it was checked; check the folder again and rebuild:"
        with tf.control_dependencies([tf.debugging.Assert(unchanged, [message, path], summarize=1)]):
            contents = tf.identity(contents)
    image = tf.io.decode_image(contents, channels=3, expand_animations=False)
    same_size = tf.reduce_all(tf.shape(image)[:2] == tf.constant(target_size))
    image = tf.cond(same_size, lambda: image, lambda: tf.image.resize(image, target_size, method="nearest"))
    image.set_shape([*target_size, 3])
    return tf.cast(image, tf.float32)  # nearest keeps uint8; a resize to the same size would only cost time


def without_autotuning(dataset):
    """``dataset`` with ``tf.data``'s autotuning off, for it and any pipeline built from it (a ``map`` after it, a
    ``zip`` with it): on two cores the autotuner stalled some passes about 70 ms and some training epochs 1.2 s
    (README, "The fast input pipeline"). ``with_options`` with ``autotune.enabled = True`` turns it back on."""
    options = quiet_import("tensorflow").data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def fast_dataset(
    folder: Path,
    target_size: tuple[int, int] = (128, 128),
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int = 0,
    cache: bool = False,
    parallel: bool = True,
    check: bool = True,
    prefetch: bool = True,
    batch_first: bool = True,
    **settings: object,
):
    """A ``tf.data.Dataset`` of ``(x, y)`` batches with legacy augmentation semantics, and its class names.

    ``y`` is the class index as float32, like ``flow_from_directory``'s "binary" (two classes) or "sparse" mode.

    ``settings`` are the legacy generator's ``rescale``, ``shear_range``, ``zoom_range`` and
    ``horizontal_flip``. Files are decoded in parallel, optionally cached decoded (``cache=True``:
    memory = images x height x width x 3 x 4 bytes), batched, augmented per batch, and prefetched.
    ``check`` refuses up front, naming the file, what the health check calls an error and formats
    TensorFlow cannot decode (a full decode with Pillow, remembered per unchanged file). ``parallel``,
    ``prefetch`` and ``batch_first`` (augment whole batches, not single images) exist so that lesson 06
    can switch each speed-up off and measure what it gives.
    """
    tf = quiet_import("tensorflow")
    target_size = check_target_size(target_size)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}.")
    settings = check_settings(settings)
    unsupported = sorted(set(settings) - set(FAST_SETTINGS))
    if unsupported:
        raise ValueError(f"fast_dataset does {', '.join(FAST_SETTINGS)}; not {', '.join(unsupported)}.")
    paths, labels, names, fingerprints = list_images(folder, check)
    calls = tf.data.AUTOTUNE if parallel else None
    files = tf.data.Dataset.from_tensor_slices(
        (paths, np.asarray(labels, np.float32), np.asarray(fingerprints, np.int64))
    )
    if shuffle and not cache:  # shuffle file names, not decoded images: the first batch need not wait for all
        files = files.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    plain_graph = tf.autograph.experimental.do_not_convert  # no tensor-dependent Python control flow to convert
    decode = plain_graph(lambda path, label, checked: (decode_and_resize(path, target_size, checked), label))
    images = files.map(decode, num_parallel_calls=calls)
    if cache:  # decoded once, then shuffled in memory each epoch
        images = images.cache()
        if shuffle:
            images = images.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    randomness = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    geometric = any(settings.get(name) for name in ("shear_range", "zoom_range", "horizontal_flip"))

    @plain_graph
    def prepare(x, number):
        if geometric:
            return augment_batch(x, tf.stack([number, tf.constant(seed, tf.int64)]), settings)
        return x * settings["rescale"] if settings.get("rescale") is not None else x

    if batch_first:
        batches = tf.data.Dataset.zip((images.batch(batch_size), randomness))
        dataset = batches.map(lambda batch, number: (prepare(batch[0], number), batch[1]), num_parallel_calls=calls)
    else:
        singles = tf.data.Dataset.zip((images, randomness))
        dataset = singles.map(
            lambda item, number: (prepare(item[0][None], number)[0], item[1]), num_parallel_calls=calls
        )
        dataset = dataset.batch(batch_size)
    # tf.data parallelizes plain maps and adds a final prefetch by itself; switching a speed-up off
    # (lesson 06 measures each) must switch that off too.
    options = tf.data.Options()
    options.experimental_optimization.map_parallelization = parallel
    options.experimental_optimization.map_and_batch_fusion = parallel
    options.experimental_optimization.inject_prefetch = prefetch
    dataset = dataset.with_options(options)
    return (dataset.prefetch(tf.data.AUTOTUNE) if prefetch else dataset), names
