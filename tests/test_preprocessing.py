"""predict_image, check_preprocessing, export_with_preprocessing and the pitfall scoring helpers."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.images import ImageFolderError
from helpers.pitfalls import MYSTERY_MISTAKES, MYSTERY_SIGNS, Mystery, gist, outcome_table, score, try_preparation
from helpers.preprocessing import (
    PreprocessingUnknownError,
    check_preprocessing,
    export_with_preprocessing,
    predict_image,
    preprocessing_layers,
)
from helpers.runtime import quiet_import

RECIPE = {"target_size": [8, 8], "interpolation": "nearest", "scale": "1/255", "class_names": ["dark", "light"]}


@pytest.fixture(scope="module")
def brightness_model():
    """A fixed model: probability of 'light' rises with mean brightness (inputs 0-1, 8x8)."""
    keras = quiet_import("keras")
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.layers[-1].set_weights([np.full((3, 1), 10.0, "float32"), np.array([-15.0], "float32")])
    return model


def save(tmp_path: Path, name: str, image: Image.Image) -> Path:
    path = tmp_path / name
    image.save(path)
    return path


def test_predict_image_applies_the_recipe(tmp_path: Path, brightness_model) -> None:
    light = save(tmp_path, "light.png", Image.new("RGB", (40, 30), (240, 240, 240)))
    dark = save(tmp_path, "dark.jpg", Image.new("RGB", (40, 30), (10, 10, 10)))
    assert predict_image(brightness_model, light, RECIPE)[0] == "light"
    label, probability = predict_image(brightness_model, dark, RECIPE)
    assert label == "dark" and probability > 0.99


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16"])
def test_predict_image_accepts_grayscale_rgba_16_bit(tmp_path: Path, brightness_model, mode: str) -> None:
    value = {"L": 250, "RGBA": (250, 250, 250, 0), "I;16": 65000}[mode]
    path = save(tmp_path, "x.png", Image.new(mode, (20, 20), value))
    assert predict_image(brightness_model, path, RECIPE)[0] == "light"


def test_predict_image_refuses_an_unknown_recipe(tmp_path: Path, brightness_model) -> None:
    path = save(tmp_path, "x.png", Image.new("RGB", (8, 8)))
    with pytest.raises(PreprocessingUnknownError, match="needs the training-time preprocessing"):
        predict_image(brightness_model, path)
    with pytest.raises(PreprocessingUnknownError, match=r"missing \['target_size', 'interpolation'\]"):
        predict_image(brightness_model, path, {"scale": "1/255", "class_names": ["a", "b"]})
    with pytest.raises(PreprocessingUnknownError, match="unknown scale '1/127'"):
        predict_image(brightness_model, path, {**RECIPE, "scale": "1/127"})


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not an image at all", "is not an image"), (None, "damaged or truncated")],
)
def test_predict_image_bad_files_are_named(
    tmp_path: Path, brightness_model, content: bytes | None, message: str
) -> None:
    path = tmp_path / "bad.jpg"
    if content is None:
        save(tmp_path, "good.jpg", Image.new("RGB", (64, 64), (1, 2, 3)))
        content = (tmp_path / "good.jpg").read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(ImageFolderError, match=rf"bad\.jpg.*{message}|bad\.jpg {message}"):
        predict_image(brightness_model, path, RECIPE)


def test_predict_image_huge_image(tmp_path: Path, brightness_model, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(tmp_path, "huge.png", Image.new("RGB", (100, 100)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageFolderError, match="too large to load safely"):
        predict_image(brightness_model, path, RECIPE)


def test_check_preprocessing_flags_each_pixel_mistake(brightness_model) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3)).astype("uint8")
    right = pixels.astype("float32") / 255
    assert check_preprocessing(brightness_model, right) == []
    assert "divide by 255" in check_preprocessing(brightness_model, pixels.astype("float32"))[0]
    assert any("dtype uint8" in warning for warning in check_preprocessing(brightness_model, pixels))
    assert "scaled twice" in check_preprocessing(brightness_model, right / 255)[0]
    negatives = check_preprocessing(brightness_model, (pixels / 127.5 - 1) / 255)
    assert negatives == [
        f"negative values ({negatives[0].split('(')[1].split(')')[0]}): this model expects 0-1 pixels; "
        "preprocess_input (-1..1) was used and shrunk by /255 on top?"
    ]
    assert "was used?" in check_preprocessing(brightness_model, pixels / 127.5 - 1)[0]
    assert "no batch axis" in check_preprocessing(brightness_model, right[0])[0]
    assert "image size (16, 16, 3) differs" in check_preprocessing(brightness_model, np.zeros((1, 16, 16, 3)))[0]
    assert "cannot be a batch" in check_preprocessing(brightness_model, np.zeros(5))[0]


def test_check_preprocessing_channel_order() -> None:
    keras = quiet_import("keras")
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
    reddish = np.zeros((2, 4, 4, 3), "float32")
    reddish[..., 0] = 0.9
    assert check_preprocessing(model, reddish, channel_means=[0.9, 0.0, 0.0]) == []
    assert "BGR" in check_preprocessing(model, reddish[..., ::-1], channel_means=[0.9, 0.0, 0.0])[0]


def test_exported_model_takes_raw_pixels_of_any_size(tmp_path: Path, brightness_model) -> None:
    exported = export_with_preprocessing(brightness_model, RECIPE)
    assert (
        preprocessing_layers(exported) == {"Rescaling", "Resizing"} and preprocessing_layers(brightness_model) == set()
    )
    raw = np.full((2, 30, 20, 3), 240.0, "float32")
    assert np.allclose(
        exported.predict(raw, verbose=0), brightness_model.predict(np.full((2, 8, 8, 3), 240 / 255), verbose=0)
    )
    assert "pass raw 0-255 pixels" in check_preprocessing(exported, raw / 255)[0]
    assert check_preprocessing(exported, raw.astype("uint8"))[0] == "dtype uint8: integer pixels; convert to float32."
    with pytest.raises(ValueError, match=r"already contains \['Rescaling', 'Resizing'\]"):
        export_with_preprocessing(exported, RECIPE)
    with pytest.raises(PreprocessingUnknownError, match=r"cannot export without the training-time \['interpolation'\]"):
        export_with_preprocessing(brightness_model, {"target_size": [8, 8], "scale": "1/255"})
    path = save(tmp_path, "light.png", Image.new("RGB", (50, 50), (240, 240, 240)))
    assert predict_image(exported, path, {"class_names": ["dark", "light"]})[0] == "light"


def test_score_and_table() -> None:
    accuracy, confidence, saturated = score(np.array([0.9, 0.2, 0.9999, 0.0001]), np.array([1, 0, 0, 0]))
    assert (accuracy, round(confidence, 4), saturated) == (0.75, round((0.9 + 0.8 + 0.9999 + 0.9999) / 4, 4), 0.5)
    ok = try_preparation("fine", "as trained", lambda: np.array([0.9]), np.array([1]), np.array([0.0, 1.0]))
    broken = try_preparation(
        "broken", "no batch axis", lambda: (_ for _ in ()).throw(ValueError("boom")), np.array([1]), None
    )
    assert (ok.accuracy, ok.pixel_range, broken.error) == (1.0, "0..1", "ValueError: boom")
    table = outcome_table([ok, broken]).splitlines()
    assert table[1].split()[:4] == ["fine", "1.000", "0.900", "0%"] and table[2].endswith("ValueError: boom")


def test_gist_keeps_the_reason_of_a_wrapped_keras_error() -> None:
    wrapped = ValueError(
        "Exception encountered when calling Sequential.call().\n\n\x1b[1mInvalid input shape. Expected shape "
        "(None, 64, 64, 3), but input has incompatible shape (32, 64, 3)\x1b[0m\n\nArguments received by x:\n  • a"
    )
    assert gist(wrapped) == "Expected shape (None, 64, 64, 3), but input has incompatible shape (32, 64, 3)"
    assert (
        gist(ValueError("Exception encountered when calling X.\n\nCannot take the length")) == "Cannot take the length"
    )


@pytest.mark.parametrize("seed", range(6))
def test_mystery_accepts_only_its_mistake(seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    from helpers.checks import NotYetError

    mystery = Mystery(np.full((2, 4, 4, 3), 128, "uint8"), seed)
    answers = [
        name
        for name in MYSTERY_MISTAKES
        if np.allclose(MYSTERY_MISTAKES[name](np.full((2, 4, 4, 3), 128, "uint8")), mystery.batch)
    ]
    assert len(answers) == 1
    mystery.check(answers[0])
    assert "correct" in capsys.readouterr().out
    for wrong in set(MYSTERY_MISTAKES) - {answers[0]}:
        with pytest.raises(NotYetError, match="is not right yet") as refused:
            mystery.check(wrong)
        assert MYSTERY_SIGNS[wrong] in str(refused.value)  # what that mistake would do, not what the answer is
    with pytest.raises(NotYetError, match="not one of the possible answers; choose from"):
        mystery.check(answers[0].upper())


def test_predict_image_refuses_half_preprocessed_and_multi_output_models(tmp_path: Path, brightness_model) -> None:
    keras = quiet_import("keras")
    path = save(tmp_path, "x.png", Image.new("RGB", (8, 8)))
    rescaling_only = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Rescaling(1 / 255), brightness_model])
    with pytest.raises(PreprocessingUnknownError, match=r"contains \['Rescaling'\] but not both"):
        predict_image(rescaling_only, path, RECIPE)
    softmax = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
    )
    with pytest.raises(ValueError, match="one sigmoid output"):
        predict_image(softmax, path, RECIPE)


def test_score_refuses_mismatched_lengths_and_mystery_needs_raw_pixels() -> None:
    import re

    broken = try_preparation("one image", "", lambda: np.array([0.9]), np.zeros(200), None)
    assert broken.error == "ValueError: 1 predictions for 200 labels"
    assert not re.search(r"\b[Ee]xpected\b", "unexpected keyword") and gist(
        ValueError("got an unexpected keyword")
    ) == ("got an unexpected keyword")
    with pytest.raises(ValueError, match="needs raw uint8 pixels"):
        Mystery(np.zeros((2, 4, 4, 3), "float32"), seed=0)


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose header says ``width`` x ``height``: Pillow reads the size without decoding."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 200, 200)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    frame = data.index(b"\xff\xc0")  # start of frame: marker, length (2), precision (1), height (2), width (2)
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty\.jpg is empty \(0 bytes\)"),
        (jpeg_claiming(12_000, 12_000), r"12,000x12,000 px \(144 megapixels\), more than 40: too large to hold"),
        (jpeg_claiming(20_000, 20_000), r"too large to load safely"),
    ],
)
def test_a_self_contained_model_refuses_empty_and_huge_files_in_one_line(
    tmp_path: Path, brightness_model, content: bytes, message: str
) -> None:
    """Such a model gets the whole image: a 144-megapixel photo would need gigabytes, so it is refused up front."""
    exported = export_with_preprocessing(brightness_model, RECIPE)
    path = tmp_path / ("empty.jpg" if not content else "photo.jpg")
    path.write_bytes(content)
    with pytest.raises(ImageFolderError, match=message) as error:
        predict_image(exported, path, {"class_names": ["dark", "light"]})
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)


def test_a_large_phone_photo_still_works_with_a_training_recipe(tmp_path: Path, brightness_model) -> None:
    """The recipe resizes to the training size, as flow_from_directory did: no whole image reaches the model."""
    path = tmp_path / "phone.jpg"
    Image.new("RGB", (8000, 6000), (240, 240, 240)).save(path, quality=50)  # 48 megapixels
    assert predict_image(brightness_model, path, RECIPE)[0] == "light"


@pytest.mark.parametrize(("make", "words"), [("missing", "does not exist"), ("folder", "is a folder, not an image")])
def test_a_missing_path_or_a_folder_is_named_truthfully(
    tmp_path: Path, brightness_model, make: str, words: str
) -> None:
    path = tmp_path / "x.jpg"
    if make == "folder":
        path.mkdir()
    with pytest.raises(ImageFolderError, match=words):
        predict_image(brightness_model, path, RECIPE)
