"""One image file, checked the way a Keras generator would read it: what breaks training, what it converts silently.

The findings' vocabulary (problem codes, severities, fixes) is shared by :mod:`helpers.health` (whole trees),
the fetch scripts and :func:`helpers.pipeline.fast_dataset`'s pre-flight check: one definition of "healthy".
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from helpers.images import MAX_PIXELS

ERROR, WARNING = "error", "warning"
FIXES = {
    "empty file": "re-download it, or move it out (check_images.py --quarantine DIR)",
    "truncated": "move it out (check_images.py --quarantine DIR); LOAD_TRUNCATED_IMAGES=True only hides it",
    "unreadable": "move it out (check_images.py --quarantine DIR); Pillow cannot decode it",
    "not an image": "move it out (check_images.py --quarantine DIR), or give it its real extension",
    "grayscale": "fine if intended: Keras copies the one channel into R, G and B",
    "rgba": "flatten it onto a background if transparency matters: Keras drops the alpha channel",
    "cmyk": "convert it to RGB once with its colour profile if colours matter",
    "16-bit": "convert it to 8-bit with scaling first (helpers.images.load_rgb does)",
    "32-bit": "convert it to 8-bit with scaling first (helpers.images.load_rgb does)",
    "too small": "check it is a real photo, not an icon or thumbnail; move it out if not",
    "huge": "shrink it once beforehand (e.g. longest side 1,024 px) instead of every epoch",
    "empty class": "add images or remove the folder: Keras still numbers it as a class",
    "hidden class": "move it out (check_images.py --quarantine DIR does), or give flow_from_directory classes=[...]",
    "skipped image": "convert it to .jpg or .png if it is data: flow_from_directory skips it without a word",
    "stray file": "move it out of the class folder: generators skip it, it is not data",
    "duplicate": "keep one copy: remove it from val/test (leakage) or from the wrong class",
}


@dataclass(frozen=True)
class Finding:
    """One problem with one file (or class folder), with a one-line detail and fix."""

    path: Path  # relative to the scanned root
    problem: str  # short code, a key of FIXES
    severity: str  # "error" (breaks training) or "warning" (Keras converts it silently)
    detail: str
    fix: str


def make_finding(path: Path, problem: str, severity: str, detail: str) -> Finding:
    return Finding(Path(path), problem, severity, detail, FIXES[problem])


@contextmanager
def _strict_loading() -> Iterator[None]:
    """Let truncated images raise while checking, then restore whatever the caller had set."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


SIGNATURES = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"BM": "BMP", b"RIFF": "WebP"}


def _describe_bytes(data: bytes) -> str:
    head = data[:64]
    kind = next((name for magic, name in SIGNATURES.items() if head.startswith(magic)), None)
    if kind is not None:
        return f"starts like a {kind} but Pillow cannot read it (damaged)"
    if all(32 <= byte < 127 or byte in (9, 10, 13) for byte in head):
        text = " ".join(head.decode("ascii").split())
        return f'text ("{text[:40]}{"..." if len(text) > 40 else ""}"), not an image'
    return f"unknown format (starts with {head[:4].hex(' ')}), not an image"


def _mode_finding(relative: Path, image: Image.Image) -> Finding | None:
    """Grayscale, transparency, CMYK or more than 8 bits: what Keras's ``convert("RGB")`` changes silently."""
    mode = image.mode
    if mode in ("1", "L"):
        return make_finding(relative, "grayscale", WARNING, f"mode {mode}: one channel, repeated into RGB")
    if mode in ("RGBA", "RGBa", "LA", "La", "PA") or (mode == "P" and "transparency" in image.info):
        return make_finding(relative, "rgba", WARNING, f"mode {mode} with transparency: the alpha channel is dropped")
    if mode == "CMYK":
        return make_finding(relative, "cmyk", WARNING, "CMYK: converted to RGB without its colour profile")
    if mode.startswith("I;16") or mode == "I":
        white = float(np.mean(np.asarray(image) > 255))
        code = "16-bit" if mode.startswith("I;16") else "32-bit"
        detail = f"mode {mode}: flow_from_directory clips it to 8 bits, {white:.0%} of pixels turn white"
        return make_finding(relative, code, WARNING, detail)
    if mode == "F":
        return make_finding(relative, "32-bit", WARNING, "mode F (floats): flow_from_directory clips values to 0-255")
    return None


def inspect_file(
    path: Path, relative: Path, min_side: int = 32, max_pixels: int = MAX_PIXELS
) -> tuple[list[Finding], str | None]:
    """Findings for one file with an image extension, and its content SHA-256 when it loads (else None)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return [make_finding(relative, "unreadable", ERROR, f"cannot read the file: {error.strerror or error}")], None
    if not data:
        return [make_finding(relative, "empty file", ERROR, "0 bytes")], None
    findings = []
    with _strict_loading():
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                width, height = image.size
                findings.append(_mode_finding(relative, image))
        except UnidentifiedImageError:
            return [make_finding(relative, "not an image", ERROR, _describe_bytes(data))], None
        except Image.DecompressionBombError as error:
            return [
                make_finding(relative, "huge", ERROR, f"Pillow refuses to open it: {str(error).split(',')[0]}")
            ], None
        except Exception as error:  # any decoding failure is what would stop a generator mid-epoch
            if "truncated" in str(error).lower():
                end = " (no JPEG end marker)" if data[:2] == b"\xff\xd8" and data[-2:] != b"\xff\xd9" else ""
                return [
                    make_finding(relative, "truncated", ERROR, f"image data stops after {len(data):,} bytes{end}")
                ], None
            return [make_finding(relative, "unreadable", ERROR, f"Pillow: {' '.join(str(error).split())[:120]}")], None
    if min(width, height) < min_side:
        findings.append(make_finding(relative, "too small", WARNING, f"{width}x{height} px, under {min_side} px"))
    if width * height > max_pixels:
        findings.append(make_finding(relative, "huge", WARNING, f"{width:,}x{height:,} px, over {max_pixels:,} pixels"))
    return [f for f in findings if f is not None], hashlib.sha256(data).hexdigest()


def check_image_file(path: Path, min_side: int = 32, max_pixels: int = MAX_PIXELS) -> list[Finding]:
    """The findings for a single image file (paths in them are the file name only)."""
    path = Path(path)
    return inspect_file(path, Path(path.name), min_side, max_pixels)[0]
