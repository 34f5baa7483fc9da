"""Inference-time preprocessing done right: predict one image, check a batch, export a self-contained model.

A model only knows the numbers it was trained on. How images were resized and scaled at training time
lives OUTSIDE a model trained on generators, so it must be recorded (the sidecar of
:func:`helpers.models.shapes_model`) or moved inside the model (:func:`export_with_preprocessing`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.images import MAX_PIXELS, load_rgb, opened_image
from helpers.runtime import quiet_import


class PreprocessingUnknownError(Exception):
    """How a model's inputs must be prepared cannot be found; the message says where it should come from."""


SCALES = {"1/255": 1 / 255, "1": 1.0}


def preprocessing_layers(model) -> set[str]:
    """Names of the preprocessing layer types inside ``model``, nested models included."""
    keras = quiet_import("keras")
    found: set[str] = set()
    for layer in model.layers:
        if isinstance(layer, keras.layers.Rescaling | keras.layers.Resizing):
            found.add(type(layer).__name__)
        if hasattr(layer, "layers"):
            found |= preprocessing_layers(layer)
    return found


RECIPE_KEYS = ("target_size", "interpolation", "scale", "class_names")


def predict_image(model, path: Path, preprocessing: dict | None = None) -> tuple[str, float]:
    """Class name and probability of that class for one image file, prepared exactly as in training.

    For a binary model with one sigmoid output. ``preprocessing`` is the training-time record
    (``target_size``, ``interpolation``, ``scale``, ``class_names``), e.g. ``shapes_model().preprocessing``;
    a model that resizes and rescales by itself needs only ``class_names``. Refuses when the recipe is unknown.
    """
    if model.output_shape[-1] != 1:
        raise ValueError(f"predict_image handles one sigmoid output (two classes); the output is {model.output_shape}.")
    inside = preprocessing_layers(model)
    self_contained = {"Rescaling", "Resizing"} <= inside
    needed = ("class_names",) if self_contained else RECIPE_KEYS
    missing = [key for key in needed if key not in (preprocessing or {})]
    if missing:
        raise PreprocessingUnknownError(
            f"predict_image needs the training-time preprocessing {list(needed)}; missing {missing}. For the kit's "
            "model pass shapes_model().preprocessing, or export the model with Resizing and Rescaling inside. "
            "Guessing the size or scale silently gives wrong answers."
        )
    if inside and not self_contained:
        raise PreprocessingUnknownError(
            f"the model contains {sorted(inside)} but not both Resizing and Rescaling, so it is unclear which steps "
            "are left to do outside. Export the bare model with export_with_preprocessing."
        )
    if self_contained:  # the model resizes by itself, so it gets the whole image: refuse one too large to hold
        with_batch_axis = np.asarray(load_rgb(path, _native_size(path)), dtype="float32")[None]
    else:
        scale = _scale(preprocessing)
        pixels = load_rgb(path, tuple(preprocessing["target_size"]), preprocessing["interpolation"])
        with_batch_axis = (pixels.astype("float32") * scale)[None]
    probability = float(model.predict(with_batch_axis, verbose=0).ravel()[0])
    chosen = int(probability > 0.5)
    return preprocessing["class_names"][chosen], probability if chosen else 1.0 - probability


def _scale(preprocessing: dict) -> float:
    if preprocessing.get("scale") not in SCALES:
        raise PreprocessingUnknownError(
            f"unknown scale {preprocessing.get('scale')!r}; expected one of {sorted(SCALES)}."
        )
    return SCALES[preprocessing["scale"]]


def _native_size(path: Path) -> tuple[int, int]:
    """The image's own (height, width); refuses empty, broken and huge files in one line (a model that resizes
    by itself gets the whole image, so a 144-megapixel photo would need gigabytes)."""
    with opened_image(path, max_pixels=MAX_PIXELS) as image:
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
    inside = "Rescaling" in preprocessing_layers(model)
    if np.issubdtype(batch.dtype, np.integer):
        advice = "convert to float32" + ("" if inside else " (and scale as in training)")
        warnings.append(f"dtype {batch.dtype}: integer pixels; {advice}.")
    low, high = float(batch.min()), float(batch.max())
    if not inside and high > 1.5:
        warnings.append(f"values reach {high:.0f}: this model was trained on 0-1 pixels; divide by 255 (once).")
    if inside and high <= 1.5:
        warnings.append(f"values only reach {high:.3g}: this model rescales inside; pass raw 0-255 pixels.")
    if low < 0:
        shrunk = " and shrunk by /255 on top" if high < 0.05 else ""
        warnings.append(
            f"negative values ({low:.3g}..{high:.3g}): this model expects 0-1 pixels; preprocess_input (-1..1) "
            f"was used{shrunk}?"
        )
    elif not inside and high < 0.05:
        warnings.append(f"values only reach {high:.3g}: scaled twice? (e.g. /255 in the generator and again)")
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
    inside = preprocessing_layers(model)
    if inside:
        raise ValueError(
            f"the model already contains {sorted(inside)}; wrapping it again would resize or "
            "rescale twice. Export the bare model."
        )
    missing = [key for key in RECIPE_KEYS if key != "class_names" and key not in preprocessing]
    if missing:
        raise PreprocessingUnknownError(f"cannot export without the training-time {missing}.")
    scale = _scale(preprocessing)
    height, width = preprocessing["target_size"]
    return keras.Sequential(
        [
            keras.Input((None, None, 3)),
            keras.layers.Resizing(height, width, interpolation=preprocessing["interpolation"]),
            keras.layers.Rescaling(scale),
            model,
        ],
        name=f"{model.name}_with_preprocessing",
    )
