"""The augmentation explorer: sliders in the lesson, every callback here and unit-tested without a browser."""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
from PIL import Image

from helpers.augmentation import AugmentationError, Preview, augment, photo
from helpers.geometry import measuring_card

PICTURES = ("chelsea", "astronaut", "coffee", "measuring card")
COLUMNS = 4


def preview_png(preview: Preview, rescale: float | None = None, columns: int = COLUMNS) -> bytes:
    """The original and its augmented copies as one PNG grid (``rescale`` undone, values clipped to 0-255)."""
    original = preview.original.astype("float32")
    tiles = [original] + [image / (rescale or 1.0) for image in preview.images]
    height, width = original.shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * (height + 4), columns * (width + 4), 3), 255, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        y, x = row * (height + 4) + 2, column * (width + 4) + 2
        sheet[y : y + height, x : x + width] = np.clip(np.rint(tile), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(sheet).save(buffer, format="PNG")
    return buffer.getvalue()


def picture(name: str) -> np.ndarray:
    """The explorer's source picture: a scikit-image photo or the measuring card."""
    if name == "measuring card":
        return measuring_card()
    return photo(name)


def explorer_settings(values: dict) -> dict:
    """Legacy ``ImageDataGenerator`` settings from the explorer's control values (zeros and False left out)."""
    settings: dict = {}
    for name in ("shear_range", "zoom_range", "rotation_range", "width_shift_range", "height_shift_range"):
        if values[name]:
            settings[name] = values[name]
    if values["brightness"]:
        settings["brightness_range"] = [1.0 - values["brightness"], 1.0 + values["brightness"]]
    for name in ("horizontal_flip", "vertical_flip"):
        if values[name]:
            settings[name] = True
    if values["rescale"]:
        settings["rescale"] = 1 / 255
    return settings


def explorer_output(values: dict, count: int = 7) -> tuple[bytes, str]:
    """The preview PNG and the numbers beside it for one set of control values.

    A setting the chosen engine cannot do (e.g. brightness on Keras 3) shows the original alone and
    the reason, instead of an error in the middle of a lesson.
    """
    image = picture(values["picture"])
    settings = explorer_settings(values)
    try:
        preview = augment(image, values["engine"], count=count, seed=values["seed"], **settings)
    except AugmentationError as error:
        untouched = Preview(image, [], [], [], [])
        return preview_png(untouched), f"cannot preview: {error}"
    listed = ", ".join(f"{name}={value!r}" for name, value in settings.items()) or "no augmentation"
    text = f"{values['engine']} engine, seed {values['seed']}: {listed}\n(first tile: the original)\n"
    return preview_png(preview, settings.get("rescale")), text + preview.describe()


def augmentation_explorer(picture_name: str = "chelsea", engine: str = "legacy", seed: int = 0) -> widgets.VBox:
    """Sliders and checkboxes for each setting, a seed, the engine, and a live preview with its numbers."""
    slider = {"continuous_update": False, "style": {"description_width": "9em"}}
    controls = {
        "picture": widgets.Dropdown(options=PICTURES, value=picture_name, description="picture"),
        "engine": widgets.ToggleButtons(options=["legacy", "keras3"], value=engine, description="engine"),
        "shear_range": widgets.FloatSlider(0.0, min=0, max=45, step=0.5, description="shear (deg)", **slider),
        "zoom_range": widgets.FloatSlider(0.0, min=0, max=0.5, step=0.05, description="zoom range", **slider),
        "rotation_range": widgets.FloatSlider(0.0, min=0, max=90, step=1, description="rotation (deg)", **slider),
        "width_shift_range": widgets.FloatSlider(0.0, min=0, max=0.3, step=0.02, description="width shift", **slider),
        "height_shift_range": widgets.FloatSlider(0.0, min=0, max=0.3, step=0.02, description="height shift", **slider),
        "brightness": widgets.FloatSlider(0.0, min=0, max=0.9, step=0.05, description="brightness +/-", **slider),
        "horizontal_flip": widgets.Checkbox(False, description="horizontal flip"),
        "vertical_flip": widgets.Checkbox(False, description="vertical flip"),
        "rescale": widgets.Checkbox(False, description="rescale 1/255"),
        "seed": widgets.BoundedIntText(seed, min=0, max=2**31 - 1, description="seed"),
    }
    preview = widgets.Image(format="png")
    numbers = widgets.HTML()

    def update(_change: object = None) -> None:
        values = {name: control.value for name, control in controls.items()}
        preview.value, text = explorer_output(values)
        numbers.value = f"<pre>{text}</pre>"

    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([widgets.VBox(list(controls.values())), preview]), numbers])
    box.controls, box.preview, box.numbers = controls, preview, numbers  # handles for tests and the browser test
    box.add_class("fitgen-augmentation-explorer")
    return box
