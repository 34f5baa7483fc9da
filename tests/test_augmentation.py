"""The measuring card, the checked augmentation settings, both engines, and the explorer's callbacks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.augmentation import (
    AugmentationError,
    augment,
    check_settings,
    describe_layers,
    keras3_layers,
    measure_draws,
    measure_layers,
    photo,
    zoom_bounds,
)
from helpers.explorer import augmentation_explorer, explorer_output, explorer_settings
from helpers.geometry import measure_card, measuring_card, summarize_draws
from helpers.runtime import quiet_import


def test_an_untouched_card_measures_as_identity() -> None:
    geometry = measure_card(measuring_card())
    assert (geometry.zoom_x, geometry.zoom_y, geometry.shear_degrees, geometry.rotation_degrees) == (1, 1, 0, 0)
    assert not geometry.mirrored_x and not geometry.mirrored_y
    assert "mirrored: no" in geometry.describe()


def test_measure_card_reads_known_transforms() -> None:
    card = measuring_card()
    mirrored = measure_card(card[:, ::-1])
    assert mirrored.mirrored_x and not mirrored.mirrored_y
    turned = measure_card(card[::-1, ::-1])
    assert turned.mirrored_x and turned.mirrored_y
    assert measure_card(card / 255.0).zoom_x == pytest.approx(1.0)  # a rescaled card reads the same
    blank = np.full_like(card, 255)
    assert measure_card(blank) is None  # the dots left the frame
    with pytest.raises(ValueError, match="one RGB image"):
        measure_card(card[..., 0])
    with pytest.raises(ValueError, match="measuring card needs at least"):
        measuring_card(50)


def test_a_slant_alone_is_no_zoom_and_a_cut_or_doubled_dot_is_no_measurement() -> None:
    from PIL import Image

    card = measuring_card()
    factor = math.tan(math.radians(20))  # a pure horizontal slant of 20 degrees about the centre, as RandomShear
    slanted = Image.fromarray(card).transform(
        card.shape[:2], Image.AFFINE, (1, factor, -factor * 64, 0, 1, 0), resample=Image.NEAREST, fillcolor="white"
    )
    geometry = measure_card(np.asarray(slanted))
    assert abs(geometry.shear_degrees) == pytest.approx(20, abs=1.5)
    assert geometry.zoom_x == pytest.approx(1.0, abs=0.03) and geometry.zoom_y == pytest.approx(1.0, abs=0.03)
    cut = np.roll(card, 40, axis=1)  # the centre dot near the right border, the right dot wrapped to the left...
    cut[:, :40] = 255  # ...and removed: put one whole green dot back, touching the border (cut in half by it)
    cut[61:68, 124:128] = (0, 200, 0)
    cut[:, 100:124][cut[:, 100:124, 1] == 200] = 255  # the old right dot is gone; one single green blob remains
    assert measure_card(cut) is None  # one component, touching the border: refused by the border rule alone
    doubled = card.copy()
    doubled[10:17, 10:17] = (0, 0, 255)  # a second blue dot, as a reflected fill can show
    assert measure_card(doubled) is None


def test_measure_card_works_at_any_card_size() -> None:
    from PIL import Image

    for size in (64, 256):
        resized = np.asarray(Image.fromarray(measuring_card()).resize((size, size), Image.NEAREST))
        geometry = measure_card(resized)
        assert geometry.zoom_x == pytest.approx(1.0, abs=0.05) and geometry.zoom_y == pytest.approx(1.0, abs=0.05)
    assert "shift (+0, +0) px" in measure_card(measuring_card()).describe()  # never "-0"


def test_summarize_draws_refuses_when_every_dot_is_lost() -> None:
    with pytest.raises(ValueError, match="none of the 2 cards"):
        summarize_draws([np.full((128, 128, 3), 255, np.uint8)] * 2)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"shear_rnage": 20}, "unknown setting 'shear_rnage': did you mean 'shear_range'"),
        ({"sheer": 20}, "unknown setting 'sheer'"),
        ({"shear_range": -5}, r"shear_range=-5 is out of range: it is the largest shear angle in DEGREES"),
        ({"shear_range": "20"}, "shear_range='20' is out of range"),
        ({"zoom_range": 1.5}, r"zoom_range=1.5 is out of range"),
        ({"zoom_range": [1.3, 0.8]}, "lower bound above its upper bound"),
        ({"zoom_range": [1.0]}, "must be two numbers"),
        ({"rotation_range": 400}, "rotation_range=400 is out of range"),
        ({"width_shift_range": -0.1}, "width_shift_range=-0.1 is out of range"),
        ({"horizontal_flip": 1}, "horizontal_flip=1 must be True or False"),
        ({"brightness_range": [0, 2]}, "brightness_range=.* out of range"),
        ({"rescale": 0}, "rescale=0 is out of range"),
    ],
)
def test_bad_settings_get_one_clear_message(settings: dict, message: str) -> None:
    with pytest.raises(AugmentationError, match=message):
        check_settings(settings)


def test_good_settings_pass_unchanged() -> None:
    settings = {"shear_range": 20, "zoom_range": [0.9, 1.2], "horizontal_flip": True, "rescale": 1 / 255}
    assert check_settings(settings) == settings
    assert zoom_bounds(0.2) == (0.8, 1.2) and zoom_bounds([1.0, 1.25]) == (1.0, 1.25)


def test_keras3_conversion() -> None:
    layers = keras3_layers(seed=3, shear_range=20, zoom_range=0.2, horizontal_flip=True, rescale=1 / 255)
    names = [type(layer).__name__ for layer in layers]
    assert names == ["RandomShear", "RandomZoom", "RandomFlip", "Rescaling"]
    shear, zoom, flip, _ = layers
    assert shear.x_factor[1] == pytest.approx(math.sin(math.radians(20)))  # the legacy slant, atan(sin s)
    assert zoom.width_factor is not None and flip.mode == "horizontal"
    described = describe_layers(layers).splitlines()
    assert described[0] == "RandomShear(x_factor=(-0.342, 0.342), fill_mode='nearest')"
    assert described[2] == "RandomFlip(mode='horizontal')" and described[3] == "Rescaling(scale=0.0039)"
    assert len(keras3_layers(shear_range=80)) == 1  # sin keeps any legal angle within RandomShear's limit
    with pytest.raises(AugmentationError, match="brightness_range has no exact Keras 3 layer"):
        keras3_layers(brightness_range=[0.5, 1.5])


@pytest.mark.parametrize("engine", ["legacy", "keras3"])
def test_measured_semantics_match_the_legacy_meaning(engine: str) -> None:
    shear = measure_draws(engine, 150, seed=0, shear_range=20)
    assert 15 < shear.largest_shear_degrees <= 21
    zoom = measure_draws(engine, 150, seed=0, zoom_range=0.3)
    assert 0.69 <= zoom.zoom_x[0] < 0.75 and 1.25 < zoom.zoom_x[1] <= 1.31
    assert abs(zoom.zoom_correlation) < 0.25  # independent axes in both engines
    flip = measure_draws(engine, 200, seed=0, horizontal_flip=True)
    assert 0.38 < flip.mirrored_x_rate < 0.62 and flip.mirrored_y_rate == 0


def test_legacy_shear_is_in_degrees_and_restores_numpy_rng() -> None:
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    assert measure_draws("legacy", 50, seed=0, shear_range=0.2).largest_shear_degrees < 0.5
    assert np.random.random() == expected  # the legacy generator's reseeding did not leak out


def test_naive_keras3_layers_differ_from_legacy() -> None:
    keras = quiet_import("keras")
    both = measure_layers([keras.layers.RandomFlip(seed=1)], 200)
    assert both.mirrored_both_rate == both.mirrored_x_rate and 0.35 < both.mirrored_both_rate < 0.65
    tied = measure_layers([keras.layers.RandomZoom(0.2, seed=1)], 100)
    assert tied.zoom_correlation > 0.99
    assert 10 < measure_layers([keras.layers.RandomShear(x_factor=0.2, seed=1)], 200).largest_shear_degrees < 12
    with pytest.raises(AugmentationError, match="draws must be 1 to 2000"):
        measure_layers([], 0)


def test_augment_previews_and_bad_input() -> None:
    cat = photo("chelsea", size=128)
    preview = augment(cat, "legacy", count=3, seed=0, rescale=1 / 255)
    assert [round(high, 3) for _, high in preview.value_ranges] == [round(cat.max() / 255, 3)] * 3
    assert preview.changes == [0.0, 0.0, 0.0] and len(preview.describe().splitlines()) == 3
    again = augment(cat, "keras3", count=2, seed=5, zoom_range=0.3)
    assert np.array_equal(again.images[0], augment(cat, "keras3", count=2, seed=5, zoom_range=0.3).images[0])
    with pytest.raises(AugmentationError, match="engine must be one of"):
        augment(cat, "keras2")
    with pytest.raises(AugmentationError, match="uint8 RGB"):
        augment(cat[..., 0])  # grayscale
    with pytest.raises(AugmentationError, match="uint8 RGB"):
        augment(np.dstack([cat, cat[..., :1]]))  # RGBA
    with pytest.raises(AugmentationError, match="count must be 1 to 64"):
        augment(cat, count=0)
    with pytest.raises(ValueError, match="photo name must be"):
        photo("dog")


def _values(**changes: object) -> dict:
    values = {
        "picture": "measuring card",
        "engine": "legacy",
        "shear_range": 0.0,
        "zoom_range": 0.0,
        "rotation_range": 0.0,
        "width_shift_range": 0.0,
        "height_shift_range": 0.0,
        "brightness": 0.0,
        "horizontal_flip": False,
        "vertical_flip": False,
        "rescale": False,
        "seed": 0,
    }
    return values | changes


def test_explorer_settings_translate_the_controls() -> None:
    assert explorer_settings(_values()) == {}
    assert explorer_settings(_values(brightness=0.5, horizontal_flip=True, rescale=True)) == {
        "brightness_range": [0.5, 1.5],
        "horizontal_flip": True,
        "rescale": 1 / 255,
    }


def test_explorer_output_explains_what_an_engine_cannot_do() -> None:
    png, text = explorer_output(_values(engine="keras3", brightness=0.3))
    assert png.startswith(b"\x89PNG") and text.startswith("cannot preview: brightness_range has no exact Keras 3")


def test_explorer_prints_no_wrong_numbers_when_a_dot_leaves_the_frame() -> None:
    """Keras 3's RandomShear pivots about a corner, so at large slants the card's dots reach the border: a copy is
    either measured as what it is (a pure slant: no zoom, no rotation) or said to be unmeasurable."""
    import re

    _, text = explorer_output(_values(engine="keras3", shear_range=45.0), count=12)
    lines = text.splitlines()[2:]
    assert any("a card dot is not whole in the frame" in line for line in lines)  # this seed pushes dots out
    for line in lines:
        if "not whole in the frame" in line:
            continue
        zoom_x, zoom_y = map(float, re.search(r"zoom x ([\d.]+) y ([\d.]+)", line).groups())
        rotation = float(re.search(r"rotation ([-+\d.]+) deg", line).group(1))
        assert abs(zoom_x - 1) <= 0.02 and abs(zoom_y - 1) <= 0.02 and abs(rotation) <= 0.5, line


def test_explorer_widgets_update_preview_and_numbers() -> None:
    explorer = augmentation_explorer(picture_name="measuring card")
    before_png, before_text = explorer.preview.value, explorer.numbers.value
    assert "no augmentation" in before_text
    explorer.controls["shear_range"].value = 30.0
    after_shear = explorer.preview.value
    assert after_shear != before_png and "shear_range=30.0" in explorer.numbers.value
    explorer.controls["zoom_range"].value = 0.3
    assert explorer.preview.value != after_shear and "zoom_range=0.3" in explorer.numbers.value
    explorer.controls["horizontal_flip"].value = True
    assert "mirrored: left-right" in explorer.numbers.value
    explorer.controls["engine"].value = "keras3"
    assert explorer.numbers.value.startswith("<pre>keras3 engine")
