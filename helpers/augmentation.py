"""Augmentation settings in the legacy generator's terms, checked, and run on either engine.

One dictionary of legacy ``ImageDataGenerator`` settings (``shear_range=20, zoom_range=0.2, ...``)
drives both engines: the legacy generator itself, or the Keras 3 layers that do the same thing
(:func:`keras3_layers` holds the conversion the lesson measures). Each augmented photo is paired with
an identically transformed measuring card, so every preview comes with measured numbers.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image

from helpers.geometry import DrawSummary, Geometry, measure_card, measuring_card, summarize_draws
from helpers.runtime import quiet_import

ENGINES = ("legacy", "keras3")
# The settings the kit's previews and explorer understand, with what each value means.
SETTINGS = {
    "rescale": "a factor multiplied into every pixel, e.g. 1/255",
    "shear_range": "the largest shear angle in DEGREES, e.g. 20",
    "zoom_range": "z for factors in [1-z, 1+z] per axis (0 <= z < 1), or [lower, upper]",
    "rotation_range": "the largest rotation in degrees, 0 to 180",
    "width_shift_range": "the largest horizontal shift as a fraction of the width, 0 to 1",
    "height_shift_range": "the largest vertical shift as a fraction of the height, 0 to 1",
    "brightness_range": "[lower, upper] brightness factors, e.g. [0.5, 1.5]",
    "horizontal_flip": "True to mirror left-right half of the time",
    "vertical_flip": "True to mirror up-down half of the time",
}


class AugmentationError(ValueError):
    """An augmentation setting is unknown or out of range; the message names it and shows a valid value."""


def _number(name: str, value: object, low: float, high: float) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not low <= value <= high:
        raise AugmentationError(f"{name}={value!r} is out of range: it is {SETTINGS[name]} (from {low} to {high}).")
    return float(value)


def _pair(name: str, value: object, low: float, high: float) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise AugmentationError(f"{name}={value!r} must be two numbers: {SETTINGS[name]}.")
    lower, upper = (_number(name, side, low, high) for side in value)
    if lower > upper:
        raise AugmentationError(f"{name}={value!r} has its lower bound above its upper bound; swap them.")
    return lower, upper


def check_settings(settings: dict) -> dict:
    """The settings, validated: unknown names get a suggestion, values outside their range a clear message."""
    for name, value in settings.items():
        if name not in SETTINGS:
            close = difflib.get_close_matches(name, SETTINGS, n=1)
            suggestion = f"did you mean {close[0]!r}? " if close else ""
            raise AugmentationError(f"unknown setting {name!r}: {suggestion}Known settings: {', '.join(SETTINGS)}.")
        if name in ("horizontal_flip", "vertical_flip") and not isinstance(value, bool):
            raise AugmentationError(f"{name}={value!r} must be True or False.")
        if name == "rescale" and value is not None:
            _number(name, value, 1e-6, 1e6)
        if name == "shear_range":
            _number(name, value, 0, 89)
        if name == "rotation_range":
            _number(name, value, 0, 180)
        if name in ("width_shift_range", "height_shift_range"):
            _number(name, value, 0, 1)
        if name == "brightness_range":
            _pair(name, value, 0.01, 10)
        if name == "zoom_range":
            if isinstance(value, list | tuple):
                _pair(name, value, 0.01, 10)
            else:
                _number(name, value, 0, 0.99)
    return dict(settings)


def legacy_generator(**settings: object):
    """A legacy ``ImageDataGenerator`` (Keras 3's ``tf.keras.preprocessing.image``) with checked settings."""
    tf = quiet_import("tensorflow")
    return tf.keras.preprocessing.image.ImageDataGenerator(**check_settings(settings))


def zoom_bounds(zoom_range: object) -> tuple[float, float]:
    """The legacy zoom factors' [lower, upper] for a ``zoom_range`` value (a number z means [1-z, 1+z])."""
    if isinstance(zoom_range, list | tuple):
        return float(zoom_range[0]), float(zoom_range[1])
    return 1.0 - float(zoom_range), 1.0 + float(zoom_range)


def keras3_layers(seed: int | None = None, **settings: object) -> list:
    """The Keras 3 layers that do what the legacy settings do, converted the way the lesson measures.

    Shear: the legacy shear_range=s slants by atan(sin s) (its matrix is [[1, -sin s], [0, cos s]],
    which also stretches vertically by 1/cos s); ``RandomShear(x_factor=f)`` slants by atan(f), so
    f = sin(s) gives the legacy slant (without the stretch, and never above RandomShear's limit of 1).
    ``RandomShear`` pivots about the top-left corner, legacy about the centre, so the layer also
    slides the picture sideways. Zoom: factor f means zoom 1+f (positive zooms out, as in legacy);
    ``width_factor`` must be given or both axes share one factor. Flips: one ``RandomFlip`` per
    axis, because ``RandomFlip()`` flips both axes together (a 180-degree turn). Fill: legacy fills
    with the nearest edge pixel, the layers reflect unless told. ``seed`` seeds each random layer
    (seed, seed+1, ...) so that a preview can be repeated.
    """
    settings = check_settings(settings)
    keras = quiet_import("keras")
    layers, fill = keras.layers, {"fill_mode": "nearest"}
    seeds = iter(range(seed, seed + 10)) if seed is not None else iter([None] * 10)
    if "brightness_range" in settings:
        raise AugmentationError(
            "brightness_range has no exact Keras 3 layer: legacy multiplies pixels by a factor, "
            "RandomBrightness adds an offset. Use the legacy engine, or drop brightness_range."
        )
    converted = []
    if settings.get("rotation_range"):
        converted.append(layers.RandomRotation(settings["rotation_range"] / 360, seed=next(seeds), **fill))
    if settings.get("width_shift_range") or settings.get("height_shift_range"):
        height, width = settings.get("height_shift_range", 0.0), settings.get("width_shift_range", 0.0)
        converted.append(layers.RandomTranslation(height, width, seed=next(seeds), **fill))
    if settings.get("shear_range"):
        converted.append(
            layers.RandomShear(x_factor=math.sin(math.radians(settings["shear_range"])), seed=next(seeds), **fill)
        )
    if settings.get("zoom_range"):
        lower, upper = zoom_bounds(settings["zoom_range"])
        factor = (lower - 1.0, upper - 1.0)
        converted.append(layers.RandomZoom(height_factor=factor, width_factor=factor, seed=next(seeds), **fill))
    if settings.get("horizontal_flip"):
        converted.append(layers.RandomFlip("horizontal", seed=next(seeds)))
    if settings.get("vertical_flip"):
        converted.append(layers.RandomFlip("vertical", seed=next(seeds)))
    if settings.get("rescale") is not None:
        converted.append(layers.Rescaling(settings["rescale"]))
    return converted


LAYER_ARGUMENTS = ("x_factor", "height_factor", "width_factor", "factor", "mode", "scale", "fill_mode")


def describe_layers(layers: list) -> str:
    """The layers as code-like calls with their key arguments, e.g. ``RandomShear(x_factor=(-0.34, 0.34), ...)``."""
    calls = []
    for layer in layers:
        config = layer.get_config()
        arguments = []
        for name in LAYER_ARGUMENTS:
            value = config.get(name)
            if value is None or name == "x_factor" and value == 0.0:
                continue
            if isinstance(value, list | tuple):
                value = tuple(round(v, 3) for v in value)
            elif isinstance(value, float):
                value = round(value, 4)
            arguments.append(f"{name}={value!r}")
        calls.append(f"{type(layer).__name__}({', '.join(arguments)})")
    return "\n".join(calls)


@contextmanager
def kept_numpy_rng() -> Iterator[None]:
    """Restore NumPy's global RNG afterwards: the legacy generator reseeds it whenever given a seed."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


def photo(name: str = "chelsea", size: int = 128) -> np.ndarray:
    """A real photograph shipped with scikit-image (chelsea, astronaut, coffee), centre-cropped, uint8 RGB."""
    from skimage import data

    if name not in ("chelsea", "astronaut", "coffee"):
        raise ValueError(f"photo name must be 'chelsea', 'astronaut' or 'coffee', got {name!r}.")
    image = Image.fromarray(getattr(data, name)())
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return np.asarray(image.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC))


@dataclass(frozen=True)
class Preview:
    """Augmented copies of one image, with the measured geometry and pixel change of each."""

    original: np.ndarray
    images: list[np.ndarray]
    geometries: list[Geometry | None]
    changes: list[float]
    value_ranges: list[tuple[float, float]]

    def describe(self) -> str:
        """One line per copy: value range, mean absolute pixel change, measured geometry."""
        lines = []
        for number, (geometry, change, (low, high)) in enumerate(
            zip(self.geometries, self.changes, self.value_ranges, strict=True), start=1
        ):
            measured = geometry.describe() if geometry else "a card dot is not whole in the frame"
            lines.append(f"#{number}: values {low:.3g}-{high:.3g}, mean |change| {change:5.1f}/255; {measured}")
        return "\n".join(lines)


def _legacy_copies(image: np.ndarray, card: np.ndarray, count: int, seed: int, settings: dict) -> list:
    generator = legacy_generator(**settings)
    copies = []
    # one seed per copy from one stream: np.random.seed(0), seed(1), ... give correlated first draws
    copy_seeds = np.random.RandomState(seed).randint(0, 2**31 - 1, size=count)
    with kept_numpy_rng():
        for copy_seed in copy_seeds:
            params = generator.get_random_transform(image.shape, seed=int(copy_seed))
            pictures = (image,) if image is card else (image, card)  # measuring only: transform the card once
            pair = [generator.standardize(generator.apply_transform(p.astype("float32"), params)) for p in pictures]
            copies.append(pair if len(pair) == 2 else pair * 2)
    return copies


def _run_layers(layers: list, batch: np.ndarray) -> np.ndarray:
    """A float32 batch through Keras 3 layers in training mode (so random layers are active)."""
    keras = quiet_import("keras")
    for layer in layers:
        batch = layer(batch, training=True)
    return keras.ops.convert_to_numpy(batch)


def _keras3_copies(image: np.ndarray, card: np.ndarray, count: int, seed: int, settings: dict) -> list:
    stacked = np.repeat(np.concatenate([image, card], axis=-1)[None].astype("float32"), count, axis=0)
    transformed = _run_layers(keras3_layers(seed=seed, **settings), stacked)
    return [[copy[..., :3], copy[..., 3:]] for copy in transformed]


def measure_layers(layers: list, draws: int = 200) -> DrawSummary:
    """What a list of Keras 3 layers really does, measured on ``draws`` cards (seed the layers yourself)."""
    if not 1 <= draws <= 2000:
        raise AugmentationError(f"draws must be 1 to 2000, got {draws!r}.")
    cards = np.repeat(measuring_card()[None].astype("float32"), draws, axis=0)
    return summarize_draws(list(_run_layers(list(layers), cards)))


def _engine_copies(engine: str, image: np.ndarray, card: np.ndarray, count: int, seed: int, settings: dict) -> list:
    if engine not in ENGINES:
        raise AugmentationError(f"engine must be one of {ENGINES}, got {engine!r}.")
    make = _legacy_copies if engine == "legacy" else _keras3_copies
    return make(image, card, count, seed, settings)


def measure_draws(engine: str = "legacy", draws: int = 200, seed: int = 0, **settings: object) -> DrawSummary:
    """Apply the settings to ``draws`` measuring cards and summarize what they really did."""
    if not 1 <= draws <= 2000:
        raise AugmentationError(f"draws must be 1 to 2000, got {draws!r}.")
    settings = check_settings(settings)
    card = measuring_card()
    scale = settings.get("rescale") or 1.0
    copies = _engine_copies(engine, card, card, draws, seed, settings)
    return summarize_draws([card_copy / scale for _, card_copy in copies])


def augment(image: np.ndarray, engine: str = "legacy", count: int = 6, seed: int = 0, **settings: object) -> Preview:
    """``count`` augmented copies of a uint8 RGB ``image`` by ``engine``, each measured on the card."""
    if not 1 <= count <= 64:
        raise AugmentationError(f"count must be 1 to 64 copies, got {count!r}.")
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise AugmentationError(f"image must be uint8 RGB shaped (height, width, 3), got {image.dtype} {image.shape}.")
    settings = check_settings(settings)
    card = np.asarray(Image.fromarray(measuring_card()).resize(image.shape[1::-1], Image.NEAREST))
    copies = _engine_copies(engine, image, card, count, seed, settings)
    scale = settings.get("rescale") or 1.0
    images = [picture for picture, _ in copies]
    return Preview(
        original=image,
        images=images,
        geometries=[measure_card(card_copy / scale) for _, card_copy in copies],
        changes=[float(np.abs(picture / scale - image).mean()) for picture in images],
        value_ranges=[(float(picture.min()), float(picture.max())) for picture in images],
    )
