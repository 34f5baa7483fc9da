"""Inference-time preprocessing done right: predict one image, check a batch, export a self-contained model.

A model only knows the numbers it was trained on. How images were resized and scaled at training time
lives OUTSIDE a model trained on generators, so it must be recorded (the sidecar of
:func:`helpers.models.shapes_model`) or moved inside the model (:func:`export_with_preprocessing`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.images import load_rgb
from helpers.runtime import quiet_import


class PreprocessingUnknownError(Exception):
    """How a model's inputs must be prepared cannot be found; the message says where it should come from."""


SCALES = {"1/255": 1 / 255, "1": 1.0}


def has_own_preprocessing(model) -> bool:
    """True when the model itself starts with resizing/rescaling layers (then raw pixels go in)."""
    keras = quiet_import("keras")
    return any(isinstance(layer, keras.layers.Rescaling | keras.layers.Resizing) for layer in model.layers)


def predict_image(model, path: Path, preprocessing: dict | None = None) -> tuple[str, float]:
    """Class name and probability of that class for one image file, prepared exactly as in training.

    ``preprocessing`` is the training-time record (``target_size``, ``interpolation``, ``scale``,
    ``class_names``), e.g. ``shapes_model().preprocessing``. A model exported with its own Resizing and
    Rescaling layers needs only ``class_names``. Refuses, with a message, when the recipe is unknown.
    """
    if preprocessing is None or "class_names" not in preprocessing:
        raise PreprocessingUnknownError(
            "predict_image needs the training-time preprocessing: pass preprocessing=... (for the kit's model, "
            "shapes_model().preprocessing), at least with 'class_names'. Guessing the size or scale silently "
            "gives wrong answers."
        )
    class_names = preprocessing["class_names"]
    if has_own_preprocessing(model):
        with_batch_axis = np.asarray(load_rgb(path, _native_size(path)), dtype="float32")[None]
    else:
        missing = [key for key in ("target_size", "interpolation", "scale") if key not in preprocessing]
        if missing:
            raise PreprocessingUnknownError(
                f"the model has no Rescaling/Resizing layers, and the preprocessing record lacks {missing}; "
                "record them at training time (see shapes_model) or export the model with them inside."
            )
        if preprocessing["scale"] not in SCALES:
            raise PreprocessingUnknownError(
                f"unknown scale {preprocessing['scale']!r}; expected one of {sorted(SCALES)}."
            )
        pixels = load_rgb(path, tuple(preprocessing["target_size"]), preprocessing["interpolation"])
        with_batch_axis = (pixels.astype("float32") * SCALES[preprocessing["scale"]])[None]
    probability = float(model.predict(with_batch_axis, verbose=0).ravel()[0])
    chosen = int(probability > 0.5)
    return class_names[chosen], probability if chosen else 1.0 - probability


def _native_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.height, image.width


def check_preprocessing(model, batch: np.ndarray, channel_means: list[float] | None = None) -> list[str]:
    """Warnings about a batch before it goes into ``model.predict``; an empty list means it looks right.

    Checks the batch axis and size against the model's input, the dtype, the value range (0-1 for a model
    without a Rescaling layer, 0-255 for one with it) and, given the training images' mean per channel
    (0-1 scale), whether the channels look reversed (BGR from OpenCV).
    """
    batch = np.asarray(batch)
    warnings: list[str] = []
    expected = tuple(model.input_shape[1:])
    wanted = f"(n, {', '.join(map(str, expected))})"
    if batch.ndim == len(expected):
        return [f"no batch axis: got shape {batch.shape}, the model wants {wanted}; use x[None]."]
    if batch.ndim != len(expected) + 1:
        return [f"shape {batch.shape} cannot be a batch for input {wanted}."]
    wrong_size = [
        i for i, (got, want) in enumerate(zip(batch.shape[1:], expected, strict=True)) if want and got != want
    ]
    if wrong_size:
        warnings.append(f"image size {batch.shape[1:]} differs from the model's {expected}: resize as in training.")
    if np.issubdtype(batch.dtype, np.integer):
        warnings.append(f"dtype {batch.dtype}: integer pixels; convert to float32 (and scale as in training).")
    low, high = float(batch.min()), float(batch.max())
    inside = has_own_preprocessing(model)
    if not inside and high > 1.5:
        warnings.append(f"values reach {high:.0f}: this model was trained on 0-1 pixels; divide by 255 (once).")
    if inside and high <= 1.5:
        warnings.append(f"values only reach {high:.3g}: this model rescales inside; pass raw 0-255 pixels.")
    if not inside and max(abs(low), abs(high)) < 0.05:
        warnings.append(f"values only span {low:.3g}..{high:.3g}: scaled twice? (e.g. /255 in the generator and again)")
    if low < 0:
        warnings.append(f"negative values (min {low:.3g}): preprocess_input and a rescale used together?")
    if channel_means is not None and batch.ndim == 4 and batch.shape[-1] == 3:
        scale = 255.0 if high > 1.5 else 1.0
        means = batch.reshape(-1, 3).mean(axis=0) / scale
        reference = np.asarray(channel_means)
        if np.abs(means[::-1] - reference).sum() + 0.05 < np.abs(means - reference).sum():
            warnings.append(f"channel means {np.round(means, 2).tolist()} match training reversed: BGR instead of RGB?")
    return warnings


def export_with_preprocessing(model, preprocessing: dict):
    """A new model that takes raw RGB pixels (0-255) of any size and resizes and rescales them itself."""
    keras = quiet_import("keras")
    height, width = preprocessing["target_size"]
    return keras.Sequential(
        [
            keras.Input((None, None, 3)),
            keras.layers.Resizing(height, width, interpolation=preprocessing["interpolation"]),
            keras.layers.Rescaling(SCALES[preprocessing["scale"]]),
            model,
        ],
        name=f"{model.name}_with_preprocessing",
    )
