"""The fast pipeline: exact legacy geometry, matching distributions, flow_from_directory's bookkeeping, bad input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import stats

from helpers.geometry import measure_card, measuring_card
from helpers.health import check_image_tree
from helpers.images import ImageFolderError
from helpers.pipeline import augment_batch, fast_dataset, legacy_matrices, separable_bilinear
from helpers.runtime import quiet_import
from tests.fakes import encoded

DRAWS = 300
SETTINGS = {"shear_range": 20, "zoom_range": 0.3, "horizontal_flip": True}


def _legacy_generator(**settings: object):
    return quiet_import("tensorflow").keras.preprocessing.image.ImageDataGenerator(**settings)


def test_same_parameters_give_the_legacy_pixels() -> None:
    """With the legacy generator's own random parameters, the projective transform reproduces its output."""
    tf = quiet_import("tensorflow")
    card = measuring_card().astype("float32")
    generator = _legacy_generator(**SETTINGS)
    for seed in range(10):
        params = generator.get_random_transform(card.shape, seed=seed)
        legacy = generator.apply_transform(card, params)
        transforms = legacy_matrices(
            *(tf.constant([float(params[key])]) for key in ("shear", "zx", "zy")),
            tf.constant([params["flip_horizontal"]]),
            128,
            128,
        )
        fast = tf.raw_ops.ImageProjectiveTransformV3(
            images=card[None],
            transforms=transforms,
            output_shape=[128, 128],
            fill_value=0.0,
            interpolation="BILINEAR",
            fill_mode="NEAREST",
        ).numpy()[0]
        assert np.abs(fast - legacy).max() < 0.01, f"seed {seed}: {params}"


def _measured(images: list[np.ndarray]) -> dict[str, np.ndarray]:
    geometries = [measure_card(image) for image in images]
    return {
        "shear": np.array([g.shear_degrees for g in geometries]),
        "zoom_x": np.array([g.zoom_x for g in geometries]),
        "zoom_y": np.array([g.zoom_y for g in geometries]),
        "mirrored": np.array([g.mirrored_x for g in geometries]),
    }


def test_two_passes_equal_one_projective_transform() -> None:
    """The separable version gives TensorFlow's own bilinear projective transform, edges included."""
    tf = quiet_import("tensorflow")
    count = 16
    images = tf.random.stateless_uniform([count, 40, 40, 3], [1, 2], 0, 255)
    shear = tf.random.stateless_uniform([count], [3, 4], -45, 45)
    zoom_x, zoom_y = (tf.random.stateless_uniform([count], [5, n], 0.5, 1.6) for n in (6, 7))
    flip = tf.random.stateless_uniform([count], [8, 9]) < 0.5
    transforms = legacy_matrices(shear, zoom_x, zoom_y, flip, 40, 40)
    reference = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=[40, 40],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="NEAREST",
    )
    assert float(tf.reduce_max(tf.abs(separable_bilinear(images, transforms) - reference))) < 0.01
    seed = tf.constant([5, 6], tf.int64)
    one, two = (augment_batch(images, seed, SETTINGS, two_passes=flag) for flag in (False, True))
    assert float(tf.reduce_max(tf.abs(one - two))) < 0.01


def test_distributions_match_the_legacy_generator() -> None:
    """Two-sample Kolmogorov-Smirnov on 300 measured draws each; flip rates within 0.1.

    Both sides are seeded, so the test is deterministic. The threshold p > 0.001 would catch, at this
    sample size, a CDF gap of about 0.16: a shear in radians, a zoom range of [0.8, 1.2] instead of
    [0.7, 1.3], tied zoom axes or a flip probability of 0.25 all fail it (checked below).
    """
    tf = quiet_import("tensorflow")
    card = measuring_card().astype("float32")
    generator = _legacy_generator(**SETTINGS)
    legacy = []
    for seed in range(DRAWS):
        legacy.append(generator.apply_transform(card, generator.get_random_transform(card.shape, seed=seed)))
    cards = tf.constant(np.repeat(card[None], DRAWS, axis=0))
    fast = list(augment_batch(cards, tf.constant([3, 4], tf.int64), SETTINGS).numpy())
    legacy_measured, fast_measured = _measured(legacy), _measured(fast)
    for key in ("shear", "zoom_x", "zoom_y"):
        assert stats.ks_2samp(legacy_measured[key], fast_measured[key]).pvalue > 0.001, key
    assert abs(legacy_measured["mirrored"].mean() - fast_measured["mirrored"].mean()) < 0.1
    assert abs(np.corrcoef(fast_measured["zoom_x"], fast_measured["zoom_y"])[0, 1]) < 0.2  # independent axes
    narrower = list(augment_batch(cards, tf.constant([3, 4], tf.int64), {"zoom_range": 0.2}).numpy())
    assert stats.ks_2samp(legacy_measured["zoom_x"], _measured(narrower)["zoom_x"]).pvalue < 0.001  # it can fail


def test_labels_class_order_and_last_batch_follow_flow_from_directory(tmp_path: Path, tiny_dataset: Path) -> None:
    tree = tmp_path / "tree"
    for name, source in (("Dog", "circle"), ("cat", "square")):
        shutil.copytree(tiny_dataset / "train" / source, tree / name)
    dataset, names = fast_dataset(tree, (32, 32), batch_size=5, shuffle=False, rescale=1 / 255)
    batches = [(x.numpy(), y.numpy()) for x, y in dataset]
    flow = _legacy_generator(rescale=1 / 255).flow_from_directory(
        tree, target_size=(32, 32), batch_size=5, class_mode="binary", shuffle=False
    )
    assert names == sorted(flow.class_indices, key=flow.class_indices.get) == ["Dog", "cat"]
    assert [len(y) for _, y in batches] == [len(flow[i][1]) for i in range(len(flow))] == [5, 5, 2]
    assert np.array_equal(np.concatenate([y for _, y in batches]), flow.classes.astype("float32"))
    assert 0.0 <= min(x.min() for x, _ in batches) and max(x.max() for x, _ in batches) <= 1.0
    assert int(dataset.cardinality()) == len(flow)


def test_augmentation_is_random_across_epochs_and_repeatable_across_runs(tiny_dataset: Path) -> None:
    def first_batch(dataset) -> np.ndarray:
        return next(iter(dataset))[0].numpy()

    dataset, _ = fast_dataset(tiny_dataset / "train", (32, 32), 4, shuffle=False, seed=1, **SETTINGS)
    epoch_one, epoch_two = first_batch(dataset), first_batch(dataset)
    assert not np.array_equal(epoch_one, epoch_two)
    again, _ = fast_dataset(tiny_dataset / "train", (32, 32), 4, shuffle=False, seed=1, **SETTINGS)
    assert np.array_equal(first_batch(again), epoch_one)


@pytest.mark.parametrize("variant", [{"cache": True}, {"parallel": False}, {"prefetch": False}, {"batch_first": False}])
def test_every_speed_variant_yields_the_same_images(tiny_dataset: Path, variant: dict) -> None:
    baseline, _ = fast_dataset(tiny_dataset / "train", (32, 32), 4, shuffle=False, rescale=1 / 255)
    other, _ = fast_dataset(tiny_dataset / "train", (32, 32), 4, shuffle=False, rescale=1 / 255, **variant)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(baseline, other, strict=True))


def _copy_train(tiny_dataset: Path, tmp_path: Path) -> Path:
    tree = tmp_path / "train"
    shutil.copytree(tiny_dataset / "train", tree)
    return tree


def test_bad_files_are_named_before_training(tmp_path: Path, tiny_dataset: Path) -> None:
    tree = _copy_train(tiny_dataset, tmp_path)
    note = tree / "circle" / "notes.jpg"
    note.write_text("not a picture")
    with pytest.raises(ImageFolderError, match=r"notes\.jpg: not an image, text .*check_images\.py --quarantine"):
        fast_dataset(tree, (32, 32))
    note.unlink()
    victim = tree / "square" / "square_0000.jpg"
    victim.write_bytes(victim.read_bytes()[:300])
    with pytest.raises(ImageFolderError, match=r"square_0000\.jpg: truncated, image data stops after 300 bytes"):
        fast_dataset(tree, (32, 32))
    assert len(victim.read_bytes()) == 300  # reported, not modified or deleted


def test_one_definition_of_healthy_with_the_health_check(tmp_path: Path, tiny_dataset: Path) -> None:
    """A JPEG with bytes after its end (a phone's motion photo) is healthy for both; a truncated PNG for neither;
    a TIFF, which flow_from_directory loads with Pillow, is named because TensorFlow cannot decode it."""
    tree = _copy_train(tiny_dataset, tmp_path)
    motion = tree / "circle" / "circle_0000.jpg"
    motion.write_bytes(motion.read_bytes() + b"\x00ftypmp42" + bytes(4000))
    assert not check_image_tree(tree).errors
    dataset, _ = fast_dataset(tree, (32, 32), batch_size=64, shuffle=False)
    assert sum(len(labels) for _, labels in dataset) == 12
    cut_png = tree / "square" / "cut.png"
    cut_png.write_bytes(encoded(Image.new("RGB", (40, 40), (200, 10, 10)), "PNG")[:60])
    assert [f.path.name for f in check_image_tree(tree).errors] == ["cut.png"]
    with pytest.raises(ImageFolderError, match=r"cut\.png: (truncated|unreadable)"):
        fast_dataset(tree, (32, 32))
    cut_png.unlink()
    (tree / "square" / "scan.tif").write_bytes(encoded(Image.new("RGB", (40, 40), (9, 9, 9)), "TIFF"))
    assert not check_image_tree(tree).errors
    with pytest.raises(ImageFolderError, match=r"scan\.tif is an image TensorFlow cannot decode .*convert it"):
        fast_dataset(tree, (32, 32))


def test_a_decompression_bomb_is_refused_like_the_health_check_does(tmp_path: Path, tiny_dataset: Path) -> None:
    tree = _copy_train(tiny_dataset, tmp_path)
    huge = Image.new("1", (20_000, 20_000))  # 400 megapixels, 50 MB as a 1-bit PNG of zeros: a few KB on disk
    huge.save(tree / "circle" / "huge.png")
    assert [f.problem for f in check_image_tree(tree).errors] == ["huge"]
    with pytest.raises(ImageFolderError, match=r"huge\.png: huge, Pillow refuses to open it"):
        fast_dataset(tree, (32, 32))


def test_class_folders_with_names_that_are_not_utf8(tmp_path: Path, tiny_dataset: Path) -> None:
    tree = _copy_train(tiny_dataset, tmp_path)
    odd = os.fsdecode(b"caf\xe9")  # Latin-1 bytes, as an old archive or camera writes them
    (tree / "circle").rename(tree / odd)
    dataset, names = fast_dataset(tree, (32, 32), batch_size=64, shuffle=False)
    assert names == [odd, "square"] and sum(len(labels) for _, labels in dataset) == 12


def test_folder_problems_and_bad_arguments(tmp_path: Path, tiny_dataset: Path) -> None:
    with pytest.raises(ImageFolderError, match="is not a folder"):
        fast_dataset(tmp_path / "missing")
    tree = _copy_train(tiny_dataset, tmp_path)
    for path in (tree / "square").iterdir():
        path.unlink()
    with pytest.raises(ImageFolderError, match="class folder .*square has no images"):
        fast_dataset(tree)
    shutil.rmtree(tree / "square")
    with pytest.raises(ImageFolderError, match="needs at least two class sub-folders"):
        fast_dataset(tree)
    with pytest.raises(ValueError, match="fast_dataset does rescale, shear_range, zoom_range, horizontal_flip; not "):
        fast_dataset(tiny_dataset / "train", rotation_range=10)
    with pytest.raises(ValueError, match="unknown setting 'zoom'"):
        fast_dataset(tiny_dataset / "train", zoom=0.2)
    with pytest.raises(ValueError, match="batch_size must be a positive whole number"):
        fast_dataset(tiny_dataset / "train", batch_size=0)
    with pytest.raises(ImageFolderError, match="target_size must be two positive whole numbers"):
        fast_dataset(tiny_dataset / "train", target_size=(0, 32))


def test_a_file_cut_short_after_the_check_is_named_when_the_epoch_reaches_it(
    tmp_path: Path, tiny_dataset: Path
) -> None:
    tf = quiet_import("tensorflow")
    tree = _copy_train(tiny_dataset, tmp_path)
    dataset, _ = fast_dataset(tree, (32, 32), batch_size=4, shuffle=False)
    victim = tree / "square" / "square_0002.jpg"
    victim.write_bytes(victim.read_bytes()[:300])  # a copy still running, a disk that filled up ...
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        for _ in dataset:
            pass
    assert "this file changed after it was checked" in str(error.value) and "square_0002.jpg" in str(error.value)


def test_a_file_changed_in_place_at_the_same_size_is_named(tmp_path: Path, tiny_dataset: Path) -> None:
    tf = quiet_import("tensorflow")
    tree = _copy_train(tiny_dataset, tmp_path)
    dataset, _ = fast_dataset(tree, (32, 32), batch_size=4, shuffle=False)
    victim = tree / "square" / "square_0001.jpg"
    data = victim.read_bytes()
    victim.write_bytes(data[:200] + bytes(len(data) - 200))  # same size, the image data zeroed: undecodable
    with pytest.raises(tf.errors.InvalidArgumentError, match="this file changed after it was checked"):
        for _ in dataset:
            pass


@pytest.mark.parametrize("mode", ["1", "P"])
def test_bmps_tensorflow_cannot_read_are_named_before_training(tmp_path: Path, tiny_dataset: Path, mode: str) -> None:
    """A 1-bit BMP stops TensorFlow's decoder mid-epoch; an 8-bit palette BMP is read as grey palette indices."""
    tree = _copy_train(tiny_dataset, tmp_path)
    Image.new(mode, (40, 40)).save(tree / "circle" / "odd.bmp")
    bits = {"1": 1, "P": 8}[mode]
    with pytest.raises(ImageFolderError, match=rf"odd\.bmp is a {bits}-bit BMP; TensorFlow's decoder reads only 24"):
        fast_dataset(tree, (32, 32))
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tree / "circle" / "odd.bmp")  # 24-bit: fine
    dataset, _ = fast_dataset(tree, (32, 32), batch_size=64, shuffle=False)
    assert sum(len(labels) for _, labels in dataset) == 13
