"""Measure what an augmentation really did, from a test card of three coloured dots.

nbval compares text, not images, so every preview in the lessons also prints numbers measured here.
The card has a red dot in the centre, a green one to its right and a blue one below it. After a
transform, the dots' new positions give the zoom per axis, the shear angle, the rotation, the shift
and any mirroring, whatever library did the transform.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

CARD_SIZE = 128
DOT_OFFSET = 24  # pixels from the centre dot to the other two: far enough to measure, near enough to stay inside
DOT_RADIUS = 3
DOMINANCE = 40  # how far a dot's own channel must exceed the others, in 0-255 units
ZOOM_PRECISION = 0.05  # zoom ranges narrower than this are the card's measuring noise, not a zoom
DOT_COLOURS = {"centre": (255, 0, 0), "right": (0, 200, 0), "below": (0, 0, 255)}


def measuring_card(size: int = CARD_SIZE) -> np.ndarray:
    """A white uint8 RGB card with the three measuring dots (see the module docstring)."""
    if size < 4 * (DOT_OFFSET + DOT_RADIUS):
        raise ValueError(f"the measuring card needs at least {4 * (DOT_OFFSET + DOT_RADIUS)} pixels, got size={size}.")
    card = np.full((size, size, 3), 255, dtype=np.uint8)
    middle = size // 2
    for name, (dx, dy) in {"centre": (0, 0), "right": (DOT_OFFSET, 0), "below": (0, DOT_OFFSET)}.items():
        y, x = middle + dy, middle + dx
        card[y - DOT_RADIUS : y + DOT_RADIUS + 1, x - DOT_RADIUS : x + DOT_RADIUS + 1] = DOT_COLOURS[name]
    return card


def _dot_position(image: np.ndarray, name: str) -> np.ndarray | None:
    """(x, y) centroid of one dot, found by its dominant colour channel; None unless it is whole and single.

    A dot that touches the border may be cut off or smeared by the fill mode ("nearest" repeats the edge), and a
    reflected fill can show a second copy: either would move the centroid, so the card counts as unmeasurable.
    """
    channel = {"centre": 0, "right": 1, "below": 2}[name]
    first, second = (image[..., other] for other in range(3) if other != channel)
    # relative to the other channels, so it survives brightness changes and bilinear blending
    mask = image[..., channel] - np.maximum(first, second) > DOMINANCE
    ys, xs = np.nonzero(mask)
    if xs.size == 0 or xs.min() == 0 or ys.min() == 0 or xs.max() == mask.shape[1] - 1 or ys.max() == mask.shape[0] - 1:
        return None
    if ndimage.label(mask, structure=np.ones((3, 3)))[1] != 1:
        return None
    return np.array([xs.mean(), ys.mean()])


def _signed(value: float) -> str:
    """One decimal with a sign, and no "-0.0" for values that round to zero."""
    rounded = round(value, 1)
    return f"{rounded + 0.0:+.1f}" if rounded else "+0.0"


@dataclass(frozen=True)
class Geometry:
    """What a transform did to the card, in the legacy generator's conventions.

    ``zoom_x``/``zoom_y`` above 1 mean zoomed OUT (content smaller), like ``zoom_range``; ``zoom_y`` is measured
    across the rows (the below dot's distance from the line through the other two), so a slant alone is no zoom;
    ``shear_degrees`` is the change of the angle between the card's axes; ``rotation_degrees`` is
    meaningful below 90 degrees; ``mirrored_x`` means left and right swapped.
    """

    zoom_x: float
    zoom_y: float
    shear_degrees: float
    rotation_degrees: float
    shift_x: float
    shift_y: float
    mirrored_x: bool
    mirrored_y: bool

    def describe(self) -> str:
        """One short line with rounded numbers (stable enough to print in a lesson)."""
        mirrored = "+".join(
            axis for axis, flag in (("left-right", self.mirrored_x), ("up-down", self.mirrored_y)) if flag
        )
        return (
            f"zoom x {self.zoom_x:.2f} y {self.zoom_y:.2f}, shear {_signed(self.shear_degrees)} deg, "
            f"rotation {_signed(self.rotation_degrees)} deg, "
            f"shift ({round(self.shift_x) + 0:+d}, {round(self.shift_y) + 0:+d}) px, "
            f"mirrored: {mirrored or 'no'}"
        )


def measure_card(image: np.ndarray) -> Geometry | None:
    """Geometry of a transformed :func:`measuring_card` (any dtype, 0-255 or 0-1), or None if a dot is not whole in
    the frame (gone, cut or smeared at the border, or shown twice)."""
    pixels = np.asarray(image, dtype=np.float64)
    if pixels.ndim != 3 or pixels.shape[-1] < 3:
        raise ValueError(f"measure_card needs one RGB image shaped (height, width, 3), got shape {pixels.shape}.")
    if pixels.max() <= 1.0:
        pixels = pixels * 255.0  # a rescaled card
    centre, right, below = (_dot_position(pixels[..., :3], name) for name in ("centre", "right", "below"))
    if centre is None or right is None or below is None:
        return None
    offset = DOT_OFFSET * pixels.shape[1] / CARD_SIZE  # the card may have been resized to a photo's size
    u, v = (right - centre) / offset, (below - centre) / offset
    length_u, length_v = float(np.hypot(*u)), float(np.hypot(*v))
    cosine = float(np.clip(u @ v / (length_u * length_v), -1.0, 1.0))
    middle = (pixels.shape[1] // 2, pixels.shape[0] // 2)
    height = abs(float(u[0] * v[1] - u[1] * v[0])) / length_u  # v's part across u: a slant does not change it
    return Geometry(
        zoom_x=1.0 / length_u,
        zoom_y=1.0 / height,
        shear_degrees=90.0 - math.degrees(math.acos(cosine)),
        rotation_degrees=math.degrees(math.atan2(u[1], abs(u[0]))),
        shift_x=float(centre[0] - middle[0]),
        shift_y=float(centre[1] - middle[1]),
        mirrored_x=bool(u[0] < 0),
        mirrored_y=bool(v[1] < 0),
    )


@dataclass(frozen=True)
class DrawSummary:
    """Ranges and rates over many random draws of one augmentation (what the lessons print and assert)."""

    draws: int
    lost: int
    zoom_x: tuple[float, float]
    zoom_y: tuple[float, float]
    zoom_correlation: float | None
    largest_shear_degrees: float
    largest_rotation_degrees: float
    largest_shift: float
    mirrored_x_rate: float
    mirrored_y_rate: float
    mirrored_both_rate: float

    def describe(self) -> str:
        """A few rounded lines: what the transform did over all draws."""
        correlation = "n/a (no zoom)" if self.zoom_correlation is None else f"{self.zoom_correlation:+.2f}"
        lines = [
            f"draws {self.draws}" + (f" ({self.lost} with a dot not whole in frame, left out)" if self.lost else ""),
            f"zoom x in [{self.zoom_x[0]:.2f}, {self.zoom_x[1]:.2f}], zoom y in [{self.zoom_y[0]:.2f}, "
            f"{self.zoom_y[1]:.2f}], correlation {correlation}",
            f"largest |shear| {self.largest_shear_degrees:.1f} deg, largest |rotation| "
            f"{self.largest_rotation_degrees:.1f} deg, largest shift {self.largest_shift:.0f} px",
            f"mirrored left-right {self.mirrored_x_rate:.0%}, up-down {self.mirrored_y_rate:.0%}, "
            f"both at once {self.mirrored_both_rate:.0%}",
        ]
        return "\n".join(lines)


def summarize_draws(images: Sequence[np.ndarray]) -> DrawSummary:
    """Measure every transformed card and summarize the ranges, the zoom correlation and the mirror rates."""
    measured = [measure_card(image) for image in images]
    kept = [geometry for geometry in measured if geometry is not None]
    if not kept:
        raise ValueError(f"none of the {len(measured)} cards kept all three dots in the frame; use milder settings.")
    zoom_x = np.array([g.zoom_x for g in kept])
    zoom_y = np.array([g.zoom_y for g in kept])
    # below the card's precision (a few hundredths) a correlation would only correlate measuring noise
    varies = np.ptp(zoom_x) > ZOOM_PRECISION and np.ptp(zoom_y) > ZOOM_PRECISION
    return DrawSummary(
        draws=len(measured),
        lost=len(measured) - len(kept),
        zoom_x=(float(zoom_x.min()), float(zoom_x.max())),
        zoom_y=(float(zoom_y.min()), float(zoom_y.max())),
        zoom_correlation=float(np.corrcoef(zoom_x, zoom_y)[0, 1]) if varies else None,
        largest_shear_degrees=max(abs(g.shear_degrees) for g in kept),
        largest_rotation_degrees=max(abs(g.rotation_degrees) for g in kept),
        largest_shift=max(math.hypot(g.shift_x, g.shift_y) for g in kept),
        mirrored_x_rate=sum(g.mirrored_x for g in kept) / len(kept),
        mirrored_y_rate=sum(g.mirrored_y for g in kept) / len(kept),
        mirrored_both_rate=sum(g.mirrored_x and g.mirrored_y for g in kept) / len(kept),
    )
