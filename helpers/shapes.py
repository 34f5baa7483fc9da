"""Draw the synthetic photographs of the offline datasets: shapes on textured, noisy backgrounds.

Each image is a pure function of its own random generator, so a dataset is byte-reproducible for
a seed and any single image can be redrawn alone. Two kinds exist:

* ``shapes``: ``circle`` vs ``square`` (rotated, scaled, placed and coloured at random);
* ``arrows``: ``left`` vs ``right`` pointing arrows, the dataset where a horizontal flip swaps the label.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

KINDS: dict[str, tuple[str, str]] = {"shapes": ("circle", "square"), "arrows": ("left", "right")}

SUPERSAMPLE = 4  # shapes are drawn 4x larger and reduced, so edges are anti-aliased like a photo
MIN_CONTRAST = 90.0  # minimum luminance gap between shape and background, in 0-255 units


def _luminance(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.299, 0.587, 0.114]))


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth two-colour gradient with coarse blotches and fine sensor noise, as float RGB."""
    top, bottom = rng.uniform(0, 255, size=(2, 3))
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    mix = (np.cos(angle) * xx + np.sin(angle) * yy)[..., None]
    mix = (mix - mix.min()) / max(float(np.ptp(mix)), 1e-6)
    base = top * (1 - mix) + bottom * mix
    blotch_grid = rng.normal(0.0, 18.0, size=(6, 6, 3)).astype(np.float32)
    blotches = (
        np.asarray(
            Image.fromarray(np.clip(blotch_grid + 128, 0, 255).astype(np.uint8)).resize(
                (size, size), Image.Resampling.BICUBIC
            ),
            dtype=np.float64,
        )
        - 128.0
    )
    noise = rng.normal(0.0, rng.uniform(4.0, 14.0), size=(size, size, 3))
    return base + blotches + noise


def _shape_colour(rng: np.random.Generator, background_luminance: float) -> np.ndarray:
    """A random colour whose luminance differs enough from the background to stay visible."""
    for _ in range(100):
        colour = rng.uniform(0, 255, size=3)
        if abs(_luminance(colour) - background_luminance) >= MIN_CONTRAST:
            return colour
    return np.full(3, 0.0 if background_luminance > 127 else 255.0)


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    theta = np.deg2rad(degrees)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return points @ rotation.T


def _outline(label: str, rng: np.random.Generator) -> np.ndarray | None:
    """Polygon of a unit-radius shape centred on 0 (``None`` for a circle, drawn as an ellipse)."""
    if label == "circle":
        return None
    if label == "square":
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float) * 0.8
        return _rotate(corners, rng.uniform(-25, 25))
    # An arrow pointing right: shaft then head; mirrored for "left".
    arrow = np.array([[-1.0, -0.22], [0.15, -0.22], [0.15, -0.6], [1.0, 0.0], [0.15, 0.6], [0.15, 0.22], [-1.0, 0.22]])
    if label == "left":
        arrow[:, 0] *= -1
    return _rotate(arrow, rng.uniform(-15, 15))


def draw_image(label: str, rng: np.random.Generator, size: int = 128) -> Image.Image:
    """Draw one RGB image of ``label`` (a class of :data:`KINDS`) at ``size`` x ``size`` pixels."""
    if not any(label in classes for classes in KINDS.values()):
        known = sorted(c for classes in KINDS.values() for c in classes)
        raise ValueError(f"Unknown class {label!r}; expected one of {known}.")
    if size < 16:
        raise ValueError(f"Image size {size} is too small to draw on; use at least 16 pixels.")
    background = _background(rng, size)
    colour = _shape_colour(rng, _luminance(background.reshape(-1, 3).mean(axis=0)))
    radius = rng.uniform(0.22, 0.36) * size
    centre = rng.uniform(radius, size - radius, size=2)
    big = size * SUPERSAMPLE
    mask_image = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask_image)
    outline = _outline(label, rng)
    if outline is None:
        cx, cy = centre * SUPERSAMPLE
        r = radius * SUPERSAMPLE
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    else:
        points = (outline * radius + centre) * SUPERSAMPLE
        draw.polygon([tuple(p) for p in points], fill=255)
    mask_image = mask_image.resize((size, size), Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(0.6))
    mask = np.asarray(mask_image, dtype=np.float64)[..., None] / 255.0
    shading = rng.normal(0.0, 6.0, size=(size, size, 3))
    pixels = background * (1 - mask) + (colour + shading) * mask
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="RGB")
