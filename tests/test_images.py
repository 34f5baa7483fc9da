"""Loading class folders: flow_from_directory's order and resizing, and a clear message for bad input."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.images import ImageFolderError, class_folders, load_image_folder, load_rgb


def make_folder(root: Path, classes: dict[str, int], size: int = 20) -> Path:
    for name, count in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            Image.new("RGB", (size, size), (index * 40, 10, 200)).save(root / name / f"{index}.png")
    return root


def test_loads_in_plain_string_order(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {"cat": 2, "Dog": 3, "10": 1, "2": 1})
    x, y, names = load_image_folder(folder, target_size=(8, 12))
    assert names == ["10", "2", "Dog", "cat"]  # digits < capitals < lower case; '10' < '2'
    assert x.shape == (7, 8, 12, 3) and x.dtype == np.uint8
    assert y.tolist() == [0, 1, 2, 2, 2, 3, 3] and y.dtype == np.float32


def test_matches_the_real_dataset(tiny_dataset: Path) -> None:
    x, y, names = load_image_folder(tiny_dataset / "train", target_size=(24, 24))
    assert names == ["circle", "square"] and x.shape == (12, 24, 24, 3) and int(y.sum()) == 6


def test_nearest_resize_keeps_original_pixel_values(tmp_path: Path) -> None:
    pixels = np.arange(16 * 16 * 3, dtype=np.uint8).reshape(16, 16, 3)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    small = load_rgb(tmp_path / "a.png", (8, 8))
    assert set(np.unique(small)) <= set(np.unique(pixels))  # nearest neighbour invents no values


@pytest.mark.parametrize(
    ("mode", "value"),
    [("L", 128), ("RGBA", (10, 20, 30, 0)), ("I;16", 65535), ("P", 3), ("CMYK", (0, 0, 0, 0))],
)
def test_grayscale_rgba_16bit_palette_cmyk_become_rgb(tmp_path: Path, mode: str, value: object) -> None:
    path = tmp_path / ("image.jpg" if mode == "CMYK" else "image.png")
    Image.new(mode, (10, 10), value).save(path)
    pixels = load_rgb(path, (5, 5))
    assert pixels.shape == (5, 5, 3) and pixels.dtype == np.uint8
    if mode == "I;16":
        assert pixels.max() == 255  # 16-bit white stays white instead of clipping garbage


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageFolderError, match=r"is not a folder.*one sub-folder per class"):
        load_image_folder(tmp_path / "nope")


def test_folder_without_class_subfolders(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "loose.png")
    with pytest.raises(ImageFolderError, match=r"at least two class sub-folders \(found: none\)"):
        class_folders(tmp_path)


def test_one_class_only(tmp_path: Path) -> None:
    make_folder(tmp_path, {"cat": 2})
    with pytest.raises(ImageFolderError, match=r"found: cat"):
        load_image_folder(tmp_path)


def test_empty_class(tmp_path: Path) -> None:
    make_folder(tmp_path, {"cat": 2})
    (tmp_path / "dog").mkdir()
    with pytest.raises(ImageFolderError, match=r"dog has no images"):
        load_image_folder(tmp_path)


def test_text_file_named_jpg(tmp_path: Path) -> None:
    make_folder(tmp_path, {"cat": 1, "dog": 1})
    (tmp_path / "dog" / "notes.jpg").write_text("not an image")
    with pytest.raises(ImageFolderError, match=r"notes\.jpg is not an image"):
        load_image_folder(tmp_path)


def test_truncated_jpeg_is_named_and_left_alone(tmp_path: Path, tiny_dataset: Path) -> None:
    make_folder(tmp_path, {"cat": 1, "dog": 1})
    source = next((tiny_dataset / "train" / "circle").glob("*.jpg")).read_bytes()
    broken = tmp_path / "dog" / "broken.jpg"
    broken.write_bytes(source[: len(source) // 2])
    before = hashlib.sha256(broken.read_bytes()).hexdigest()
    with pytest.raises(ImageFolderError, match=r"broken\.jpg is damaged or truncated"):
        load_image_folder(tmp_path)
    assert hashlib.sha256(broken.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("size", [(0, 64), (64, -1)])
def test_wrong_target_size(tmp_path: Path, size: tuple[int, int]) -> None:
    make_folder(tmp_path, {"a": 1, "b": 1})
    with pytest.raises(ImageFolderError, match=r"target_size must be two positive whole numbers \(height, width\)"):
        load_image_folder(tmp_path, target_size=size)


def test_hidden_folders_and_other_files_are_ignored(tmp_path: Path) -> None:
    make_folder(tmp_path, {"a": 1, "b": 1})
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / "a" / "README.txt").write_text("about class a")
    shutil.copy(tmp_path / "a" / "0.png", tmp_path / "a" / "1.PNG")
    x, _, names = load_image_folder(tmp_path, (4, 4))
    assert names == ["a", "b"] and len(x) == 3


@pytest.mark.parametrize("size", [64, (64, 64, 3), (64.0, 64), None, "64x64"])
def test_malformed_target_size_shows_the_right_form(tmp_path: Path, size: object) -> None:
    make_folder(tmp_path, {"a": 1, "b": 1})
    with pytest.raises(ImageFolderError, match=r"e\.g\. \(64, 64\); got"):
        load_image_folder(tmp_path, target_size=size)


def test_hidden_appledouble_files_are_skipped(tmp_path: Path) -> None:
    make_folder(tmp_path, {"a": 1, "b": 1})
    (tmp_path / "a" / "._0.png").write_bytes(b"\x00\x05\x16\x07 resource fork")
    x, _, _ = load_image_folder(tmp_path, (4, 4))
    assert len(x) == 2


def test_32_bit_image_with_8_bit_values_is_not_darkened(tmp_path: Path) -> None:
    Image.fromarray(np.full((4, 4), 200, dtype=np.int32)).save(tmp_path / "i.tif")
    assert load_rgb(tmp_path / "i.tif", (4, 4)).max() == 200


def test_float_image_is_refused_by_name(tmp_path: Path) -> None:
    Image.fromarray(np.full((4, 4), 0.5, dtype=np.float32)).save(tmp_path / "f.tif")
    with pytest.raises(ImageFolderError, match=r"f\.tif: floating-point images are not supported"):
        load_rgb(tmp_path / "f.tif", (4, 4))


def test_huge_image_is_refused_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (64, 64)).save(tmp_path / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 4,096 pixels is then over twice the limit
    with pytest.raises(ImageFolderError, match=r"huge\.png is too large to load safely"):
        load_rgb(tmp_path / "huge.png", (8, 8))


def test_interpolations_and_a_wrong_one(tmp_path: Path) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (32, 32, 3)).astype("uint8")
    Image.fromarray(pixels).save(tmp_path / "a.png")
    nearest = load_rgb(tmp_path / "a.png", (8, 8), "nearest")
    bilinear = load_rgb(tmp_path / "a.png", (8, 8), "bilinear")
    assert not np.array_equal(nearest, bilinear)
    with pytest.raises(
        ImageFolderError, match=r"interpolation must be one of \['bicubic', 'bilinear', 'nearest'\], got 'area'"
    ):
        load_rgb(tmp_path / "a.png", (8, 8), "area")
