"""The OpenCV fast path: the legacy generator's pixels, labels, order and last batch, RGB not BGR, named failures."""

from __future__ import annotations

import gc
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import opencv_pipeline
from helpers.batch_arrays import BatchArrays
from helpers.images import ImageFolderError, load_rgb
from helpers.opencv_pipeline import (
    _epochs_of,
    augment,
    load_batch,
    opencv_dataset,
    opencv_sequence,
    random_parameters,
    read_rgb,
)
from helpers.pipeline import list_images
from helpers.run_ahead import RunAhead
from helpers.runtime import quiet_import

SETTINGS = {"shear_range": 20, "zoom_range": 0.2, "horizontal_flip": True}


def test_images_are_read_as_rgb_not_bgr(tmp_path: Path) -> None:
    """cv2.imread's default order is BGR: lesson 05's pitfall. A red image must come out red."""
    for name in ("red.jpg", "red.png"):
        Image.new("RGB", (20, 20), (220, 10, 10)).save(tmp_path / name)
        pixel = read_rgb(tmp_path / name, (20, 20))[10, 10]
        assert pixel[0] > 200 and pixel[1] < 40 and pixel[2] < 40, (name, pixel)


def test_decoding_and_resizing_match_flow_from_directorys_loader(tiny_dataset: Path) -> None:
    for path in sorted((tiny_dataset / "train" / "circle").iterdir())[:3]:
        for size in ((48, 48), (32, 32), (20, 30)):  # stored size, and nearest-neighbour down-sizing
            assert np.array_equal(read_rgb(path, size), load_rgb(path, size)), (path.name, size)


def test_the_transform_matches_the_legacy_generator_to_within_rounding(tiny_dataset: Path) -> None:
    """Legacy computes in floats; OpenCV's bilinear weights are fixed-point and its result whole grey levels.

    Measured here (and stated in lesson 06): at most 0.5 grey levels apart, about 0.25 on average."""
    generator = quiet_import("tensorflow").keras.preprocessing.image.ImageDataGenerator(fill_mode="nearest")
    rng, differences = np.random.default_rng(0), []
    for path in sorted((tiny_dataset / "train" / "square").iterdir()):
        image = read_rgb(path, (48, 48))
        shear, zoom_x, zoom_y, flip = (values[0] for values in random_parameters(rng, 1, SETTINGS))
        ours = augment(image, shear, zoom_x, zoom_y, flip).astype(np.float32)
        legacy = generator.apply_transform(
            image.astype(np.float32), {"shear": shear, "zx": zoom_x, "zy": zoom_y, "flip_horizontal": bool(flip)}
        )
        differences.append(np.abs(ours - legacy))
    difference = np.stack(differences)
    assert difference.max() <= 0.51 and difference.mean() < 0.3, (difference.max(), difference.mean())
    flipped_wrong = np.abs(augment(image, shear, zoom_x, zoom_y, not flip).astype(np.float32) - legacy)
    assert flipped_wrong.max() > 50  # the comparison can fail: a wrong flip is far apart


def test_random_parameters_are_drawn_like_the_legacy_generator() -> None:
    shear, zoom_x, zoom_y, flip = random_parameters(np.random.default_rng(3), 4000, {**SETTINGS, "zoom_range": 0.3})
    assert -20 <= shear.min() < -19 and 19 < shear.max() <= 20  # degrees, uniform over the whole range
    assert 0.7 <= min(zoom_x.min(), zoom_y.min()) and max(zoom_x.max(), zoom_y.max()) <= 1.3
    assert abs(np.corrcoef(zoom_x, zoom_y)[0, 1]) < 0.1  # independent axes; sigma about 0.016
    assert abs(flip.mean() - 0.5) < 0.04  # sigma = 0.5 / sqrt(4000) = 0.008: five sigma
    assert not random_parameters(np.random.default_rng(3), 100, {})[3].any()  # no flip unless asked


@pytest.mark.parametrize("feeder", ["dataset", "sequence"])
def test_labels_order_last_batch_and_rescale(tiny_dataset: Path, feeder: str) -> None:
    folder = tiny_dataset / "train"
    build = opencv_dataset if feeder == "dataset" else opencv_sequence
    batches, names = build(folder, (32, 32), 5, shuffle=False, rescale=1 / 255, **SETTINGS)
    epoch = list(batches) if feeder == "dataset" else [batches[index] for index in range(len(batches))]
    labels = np.concatenate([np.asarray(y) for _, y in epoch])
    assert names == ["circle", "square"] and labels.tolist() == list_images(folder)[1]
    assert [len(y) for _, y in epoch] == [5, 5, 2] == [len(y) for _, y in list(batches)[: len(batches)]]
    assert len(batches) == 3  # known to Keras, which then runs whole epochs
    images = np.concatenate([np.asarray(x) for x, _ in epoch])
    assert images.dtype == np.float32 and images.shape == (12, 32, 32, 3) and 0.9 < images.max() <= 1.0


def test_each_epoch_draws_new_transforms_and_a_new_order(tiny_dataset: Path) -> None:
    sequence, _ = opencv_sequence(tiny_dataset / "train", (32, 32), 12, seed=4, **SETTINGS)
    first_images, first_labels = sequence[0]
    sequence.on_epoch_end()
    second_images, second_labels = sequence[0]
    assert not np.array_equal(first_images, second_images) and sorted(first_labels) == sorted(second_labels)
    dataset, _ = opencv_dataset(tiny_dataset / "train", (32, 32), 12, seed=4, **SETTINGS)
    one, two = (next(iter(dataset))[0].numpy() for _ in range(2))
    assert not np.array_equal(one, two)


def test_a_file_broken_after_the_check_is_named_mid_epoch(
    tiny_dataset: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "train"
    shutil.copytree(tiny_dataset / "train", tree)
    sequence, _ = opencv_sequence(tree, (32, 32), 4, shuffle=False)
    broken = tree / "circle" / "circle_0001.jpg"
    whole = broken.read_bytes()
    for contents in (b"overwritten", b"", whole[: len(whole) // 2]):  # replaced, emptied, cut short by a copy
        broken.write_bytes(contents)
        with pytest.raises(ImageFolderError, match=r"circle_0001\.jpg cannot be decoded"):
            sequence[0]
    assert capfd.readouterr().err == ""  # one message, ours: no line from the JPEG library


def test_bad_arguments_are_one_clear_message(tiny_dataset: Path) -> None:
    with pytest.raises(ValueError, match="does rescale, shear_range, zoom_range, horizontal_flip; not rotation_range"):
        opencv_sequence(tiny_dataset / "train", rotation_range=10)
    with pytest.raises(ValueError, match="batch_size must be a positive whole number"):
        opencv_dataset(tiny_dataset / "train", batch_size=0)


def keras_load(path: Path, size: tuple[int, int]) -> np.ndarray:
    """What flow_from_directory reads: Keras's own load_img (nearest), as RGB uint8."""
    keras = quiet_import("keras")
    return np.asarray(keras.utils.load_img(path, target_size=size, interpolation="nearest"), np.uint8)


def test_exif_orientation_and_16_bit_pngs_are_read_as_keras_reads_them(tmp_path: Path) -> None:
    """Phone photos carry an EXIF rotation that Keras ignores; 16-bit PNGs Keras clips at 255, not scales."""
    pixels = np.random.default_rng(5).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees to display
    Image.fromarray(pixels).save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    deep = np.arange(60 * 80, dtype=np.uint16).reshape(60, 80) * 13
    Image.fromarray(deep).save(tmp_path / "deep.png")
    for name in ("phone.jpg", "deep.png"):
        assert np.array_equal(read_rgb(tmp_path / name, (60, 80)), keras_load(tmp_path / name, (60, 80))), name


def test_formats_flow_from_directory_reads_and_tensorflow_does_not_are_accepted(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    Image.new("RGB", (30, 30), (200, 20, 20)).save(tmp_path / "a" / "scan.tif")
    Image.new("RGB", (30, 30), (20, 200, 20)).save(tmp_path / "a" / "raw.ppm")
    Image.new("1", (30, 30), 1).save(tmp_path / "b" / "mask.bmp")
    sequence, _ = opencv_sequence(tmp_path, (30, 30), 8, shuffle=False)
    images, labels = sequence[0]
    assert labels.tolist() == [0.0, 0.0, 1.0] and images.shape == (3, 30, 30, 3)
    assert images[0, 5, 5].tolist() == keras_load(tmp_path / "a" / "raw.ppm", (30, 30))[5, 5].tolist()


@pytest.mark.parametrize("size", [(96, 128), (128, 96), (37, 53)])
def test_the_transform_matches_the_legacy_generator_on_non_square_images(tiny_dataset: Path, size: tuple) -> None:
    """A swapped centre (rows for columns) only shows on images that are not square."""
    generator = quiet_import("tensorflow").keras.preprocessing.image.ImageDataGenerator(fill_mode="nearest")
    rng = np.random.default_rng(6)
    for path in sorted((tiny_dataset / "train" / "circle").iterdir())[:3]:
        image = read_rgb(path, size)
        shear, zoom_x, zoom_y, flip = (values[0] for values in random_parameters(rng, 1, SETTINGS))
        legacy = generator.apply_transform(
            image.astype(np.float32), {"shear": shear, "zx": zoom_x, "zy": zoom_y, "flip_horizontal": bool(flip)}
        )
        assert np.abs(augment(image, shear, zoom_x, zoom_y, flip) - legacy).max() <= 0.51


def test_batches_equal_flow_from_directorys_without_augmentation(tiny_dataset: Path) -> None:
    generator = quiet_import("tensorflow").keras.preprocessing.image.ImageDataGenerator(rescale=1 / 255)
    flow = generator.flow_from_directory(
        tiny_dataset / "train", (40, 24), batch_size=5, class_mode="binary", shuffle=False
    )
    sequence, names = opencv_sequence(tiny_dataset / "train", (40, 24), 5, shuffle=False, rescale=1 / 255)
    assert names == list(flow.class_indices) and len(sequence) == len(flow)
    for index in range(len(flow)):
        (theirs, their_labels), (ours, our_labels) = flow[index], sequence[index]
        assert np.array_equal(their_labels, our_labels) and np.allclose(theirs, ours, atol=1e-6)


def sequence_batches(folder: Path, seed: int, first_epoch: int, epochs: int = 1, **settings) -> list:
    """The batches of ``epochs`` epochs from ``first_epoch`` on of an ``opencv_sequence`` (32 px, batches of 5)."""
    sequence, _ = opencv_sequence(folder, (32, 32), 5, seed=seed, **{**SETTINGS, **settings})
    for _ in range(first_epoch):
        sequence.on_epoch_end()
    batches = []
    for _ in range(epochs):
        batches += [sequence[index] for index in range(len(sequence))]
        sequence.on_epoch_end()
    return batches


def assert_same_batches(batches: list, expected: list, note: object = None) -> None:
    """Equal labels and images, batch by batch (both feeders rescale the same way, to the bit)."""
    for (x, y), (their_x, their_y) in zip(batches, expected, strict=True):
        assert np.array_equal(y, their_y) and np.array_equal(x, their_x), note


def test_each_pass_over_the_dataset_is_the_next_epoch_though_its_batches_are_made_ahead(tiny_dataset: Path) -> None:
    """The dataset's threads start the next epoch's first batches before the pass ends; what each pass yields is
    still epoch 0, 1, 2... of the same seed, as the PyDataset feeder (no run-ahead) gives them."""
    folder, settings = tiny_dataset / "train", {**SETTINGS, "rescale": 1 / 255}
    dataset, _ = opencv_dataset(folder, (32, 32), 5, seed=7, **settings)
    passes = [list(dataset.as_numpy_iterator()) for _ in range(3)]
    for epoch, batches in enumerate(passes):
        expected = sequence_batches(folder, 7, epoch, **settings)
        assert len(batches) == len(expected) == 3
        assert_same_batches(batches, expected, epoch)
    assert not np.array_equal(passes[0][0][0], passes[1][0][0])  # the comparison can fail: epochs differ


def test_a_pass_stopped_early_is_followed_by_a_whole_new_epoch(tiny_dataset: Path) -> None:
    folder = tiny_dataset / "train"
    dataset, _ = opencv_dataset(folder, (32, 32), 5, seed=3, **SETTINGS)
    for _ in dataset.take(1):  # the threads had made batches 1 and 2 of epoch 0, and more, ahead
        pass
    second = list(dataset.as_numpy_iterator())
    assert [len(y) for _, y in second] == [5, 5, 2]
    assert_same_batches(second, sequence_batches(folder, 3, 1))


def test_two_passes_at_once_are_refused_with_one_clear_message(tiny_dataset: Path) -> None:
    """The passes' generators themselves (tf.data may have pulled a short pass whole before a second one starts)."""
    epochs, _, _ = _epochs_of(tiny_dataset / "train", (32, 32), 1, True, 0, SETTINGS)
    batches = RunAhead(epochs, workers=2)
    first = batches.one_pass()
    next(first)
    assert len(list(batches.one_pass())) == 12  # a second pass, started while the first is still open, runs whole
    with pytest.raises(RuntimeError, match="two passes over this opencv_dataset ran at once"):
        next(first)
    with pytest.raises(ValueError, match="workers must be a positive whole number, got 0"):
        opencv_dataset(tiny_dataset / "train", workers=0)


def test_the_threads_make_each_batch_once_and_the_next_epochs_first_batch_per_thread(tiny_dataset: Path) -> None:
    """12 batches a pass, more than the 4 kept in the works: every batch is made once, in its own epoch, and at a
    pass's end the next epoch's first batch per thread is already on its way (else the run-ahead did nothing)."""
    epochs, _, _ = _epochs_of(tiny_dataset / "train", (32, 32), 1, True, 5, SETTINGS)
    made: list[tuple[int, int]] = []
    make = epochs.batch
    epochs.batch = lambda epoch, index: made.append((epoch, index)) or make(epoch, index)
    batches = RunAhead(epochs, workers=2)
    for epoch in range(3):
        for index, (x, y) in enumerate(batches.one_pass()):
            their_x, their_y = make(epoch, index)
            assert np.array_equal(x, their_x) and np.array_equal(y, their_y), (epoch, index)
    for *_, future in batches.window:  # the next epoch's batches were handed out at the pass's very end
        future.result()
    everything = [(epoch, index) for epoch in range(3) for index in range(12)] + [(3, 0), (3, 1)]
    assert sorted(made) == everything  # nothing made twice or thrown away, nothing of epoch 3 beyond a batch a thread
    assert [item[:2] for item in batches.window] == [(3, 0), (3, 1)]


def test_a_pass_under_way_keeps_its_batches_when_the_dataset_is_dropped(tiny_dataset: Path) -> None:
    epochs, _, _ = _epochs_of(tiny_dataset / "train", (32, 32), 1, True, 2, SETTINGS)
    batches = RunAhead(epochs, workers=2)
    first = batches.one_pass()
    yielded = [next(first)]
    batches.forget()  # the dataset's finalizer, while a captured pass is still running
    yielded += list(first)
    assert len(yielded) == 12
    for index, (x, y) in enumerate(yielded):
        their_x, their_y = epochs.batch(0, index)
        assert np.array_equal(x, their_x) and np.array_equal(y, their_y), index
    batches.forget()
    assert not batches.window and batches.pool is None  # nothing kept once no pass runs


def test_fit_trains_each_epoch_on_that_epochs_batches(tiny_dataset: Path) -> None:
    """What fit reads, epoch after epoch (a new pass each), is what opencv_sequence gives for epochs 0 and 1."""
    keras = quiet_import("keras")
    folder, seen = tiny_dataset / "train", []

    class Recorder(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(keras.ops.mean(x, axis=(1, 2)))

        def train_step(self, data):
            seen.append(tuple(keras.ops.convert_to_numpy(part) for part in data))
            return {"batches": keras.ops.convert_to_tensor(float(len(seen)))}

    dataset, _ = opencv_dataset(folder, (32, 32), 5, seed=8, **SETTINGS)
    model = Recorder()
    model.compile(run_eagerly=True)
    model.fit(dataset, epochs=2, verbose=0, shuffle=False)
    expected = sequence_batches(folder, 8, 0, epochs=2)
    assert len(seen) == len(expected) == 6
    assert_same_batches(seen, expected)


def recorded_run_aheads(monkeypatch: pytest.MonkeyPatch) -> list[RunAhead]:
    """Every run-ahead that opencv_dataset builds from now on, in the list returned."""
    built: list[RunAhead] = []

    class Recorded(RunAhead):
        def __init__(self, *arguments) -> None:
            super().__init__(*arguments)
            built.append(self)

    monkeypatch.setattr(opencv_pipeline, "RunAhead", Recorded)
    return built


def pool_threads() -> int:
    return sum(thread.name.startswith("opencv_dataset") for thread in threading.enumerate())


def wait_for_pool_threads(at_most: int) -> int:
    """Idle pool threads end once their pool is shut down; give them a moment on a busy machine."""
    deadline = time.monotonic() + 10
    while pool_threads() > at_most and time.monotonic() < deadline:
        time.sleep(0.05)
    return pool_threads()


def test_no_threads_outlive_a_pass_and_a_deleted_dataset_drops_its_early_batches(
    tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TensorFlow keeps from_generator's function, and so the run-ahead, for the life of the process: its
    threads must end with each pass, and the batches made ahead must go with the dataset."""
    built = recorded_run_aheads(monkeypatch)
    gc.collect()
    before = wait_for_pool_threads(0)  # other tests' threads may still be on their way out
    dataset, _ = opencv_dataset(tiny_dataset / "train", (32, 32), 5, seed=1, **SETTINGS)
    (run_ahead,) = built
    for _ in range(3):
        assert len(list(dataset)) == 3
    assert [item[:2] for item in run_ahead.window] == [(3, 0), (3, 1)]
    assert wait_for_pool_threads(before) <= before  # a pool kept alive would keep 2 threads
    del dataset
    gc.collect()
    assert not run_ahead.window and not run_ahead.epochs.arrays.owners  # its batch arrays go too


def test_a_dataset_captured_by_a_traced_function_still_runs_after_its_name_is_rebuilt(tiny_dataset: Path) -> None:
    """A notebook cell re-run builds a new dataset under the same name; a tf.function or flat_map that captured
    the old one still runs it, epoch after epoch, without its early batches."""
    tf = quiet_import("tensorflow")
    folder = tiny_dataset / "train"
    dataset, _ = opencv_dataset(folder, (32, 32), 5, seed=6, **SETTINGS)
    twice = tf.data.Dataset.range(2).flat_map(lambda _: dataset)
    dataset, _ = opencv_dataset(folder, (32, 32), 5, seed=6, **SETTINGS)  # the cell again
    gc.collect()
    batches = list(twice.as_numpy_iterator())
    expected = sequence_batches(folder, 6, 0, epochs=2)
    assert len(batches) == len(expected) == 6
    assert_same_batches(batches, expected)


def test_a_file_gone_after_the_dataset_was_built_is_named(
    tiny_dataset: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "train"
    shutil.copytree(tiny_dataset / "train", tree)
    sequence, _ = opencv_sequence(tree, (32, 32), 4, shuffle=False)
    (tree / "circle" / "circle_0001.jpg").unlink()
    with pytest.raises(ImageFolderError, match=r"circle_0001\.jpg cannot be read .*Build the pipeline again"):
        sequence[0]
    assert "WARN" not in capfd.readouterr().err  # our message only, not OpenCV's log line about the same file


@pytest.mark.skipif(sys.platform != "linux", reason="a file name that is not UTF-8: bytes, as Linux allows")
def test_a_file_name_that_is_not_utf8_is_read_not_a_crash(tiny_dataset: Path, tmp_path: Path) -> None:
    """Linux file names are bytes; the kit lists them as such and reads them back (OpenCV 5.1's cv2.imread would
    crash the whole process on such a name: the kit reads files itself and gives OpenCV the bytes)."""
    source = sorted((tiny_dataset / "train" / "circle").iterdir())[0]
    name = os.path.join(os.fsencode(tmp_path), b"caf\xe9.jpg")  # Latin-1, not UTF-8
    with open(name, "wb") as copy:
        copy.write(source.read_bytes())
    assert np.array_equal(read_rgb(name, (32, 32)), read_rgb(source, (32, 32)))
    assert np.array_equal(read_rgb(name, (20, 30)), load_rgb(source, (20, 30)))


def test_a_batch_is_warped_like_single_images(tiny_dataset: Path) -> None:
    """load_batch computes the batch's matrices at once and warps into the batch: the same pixels as augment."""
    paths = list_images(tiny_dataset / "train")[0][:4]
    batch = load_batch(paths, (40, 30), SETTINGS, [1, 2, 3])
    parameters = random_parameters(np.random.default_rng([1, 2, 3]), 4, SETTINGS)
    for index, path in enumerate(paths):
        single = augment(read_rgb(path, (40, 30)), *(values[index] for values in parameters))
        assert np.array_equal(batch[index], single), index
    assert not np.array_equal(batch[0], read_rgb(paths[0], (40, 30)))  # augmented, not just decoded


def test_rescaled_pixels_equal_tensorflows_cast_and_multiply(tiny_dataset: Path) -> None:
    """The threads convert and rescale each image as they make it: exactly what tf.cast(x, tf.float32) * rescale
    gives, as the pipeline's TensorFlow map did before."""
    tf = quiet_import("tensorflow")
    paths = list_images(tiny_dataset / "train")[0][:4]
    grey_levels = load_batch(paths, (40, 30), SETTINGS, [1, 2, 3])
    assert grey_levels.dtype == np.float32 and np.array_equal(grey_levels, np.round(grey_levels))
    assert grey_levels.max() > 1  # no rescale: whole grey levels
    rescaled = load_batch(paths, (40, 30), {**SETTINGS, "rescale": 1 / 255}, [1, 2, 3])
    expected = tf.cast(grey_levels.astype(np.uint8), tf.float32) * np.float32(1 / 255)
    assert np.array_equal(rescaled, expected.numpy())


def test_batch_arrays_are_filled_again_only_once_nothing_refers_to_them() -> None:
    """A fresh 12 MB array a batch costs page faults, so the arrays are reused; never one still in use."""
    arrays = BatchArrays()
    shape = (2, 4, 4, 3)
    first, second = arrays.take(shape), arrays.take(shape)
    assert first.ctypes.data != second.ctypes.data
    for array in (first, second):  # TensorFlow takes a 64-byte-aligned array without copying it
        assert array.dtype == np.float32 and array.shape == shape and array.ctypes.data % 64 == 0
    memory = first.ctypes.data
    del first
    again = arrays.take(shape)
    assert again.ctypes.data == memory  # nothing referred to it any more
    row = again[0]
    del again
    assert arrays.take(shape).ctypes.data not in (memory, second.ctypes.data)  # a view of each is still alive
    assert row.base is not None and len(arrays.owners) == 3
    del row
    assert arrays.take(shape).ctypes.data == memory
    arrays.clear()
    assert not arrays.owners


@pytest.mark.parametrize("feeder", ["dataset", "sequence"])
def test_batches_kept_from_one_pass_are_not_overwritten_by_the_next(tiny_dataset: Path, feeder: str) -> None:
    """TensorFlow takes the batch arrays without a copy; a caller that keeps a pass's batches keeps them as they
    were, while the passes after it reuse the arrays that nobody holds."""
    folder = tiny_dataset / "train"
    if feeder == "dataset":
        dataset, _ = opencv_dataset(folder, (32, 32), 5, seed=3, **SETTINGS)
        tensors = list(dataset)  # TensorFlow's tensors share our arrays' memory (no copy) and hold a reference
        for _ in range(2):
            for _batch in dataset:  # made in the arrays nobody holds
                pass
        kept = [(x.numpy(), y.numpy()) for x, y in tensors]
    else:
        sequence, _ = opencv_sequence(folder, (32, 32), 5, seed=3, **SETTINGS)
        kept = [sequence[index] for index in range(len(sequence))]
        for _ in range(2):
            sequence.on_epoch_end()
            for index in range(len(sequence)):
                sequence[index]
    assert_same_batches(kept, sequence_batches(folder, 3, 0))


def test_tf_data_autotuning_is_off_for_the_dataset_and_what_follows_it(tiny_dataset: Path) -> None:
    """Its threads do the work, so there is nothing to tune; the autotuner stalled 3 to 4 of 8 training epochs
    1.2 s on two cores (README). Options hold for the whole pipeline: a map added after it is not tuned either."""
    dataset, _ = opencv_dataset(tiny_dataset / "train", (32, 32), 5, **SETTINGS)
    assert dataset.options().autotune.enabled is False
    assert dataset.map(lambda x, y: (x, y)).options().autotune.enabled is False


def test_a_dataset_deleted_mid_pass_lets_go_of_its_batch_arrays(
    tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TensorFlow keeps the run-ahead for the life of the process: its arrays (50 MB at the defaults) must not."""
    built = recorded_run_aheads(monkeypatch)
    dataset, _ = opencv_dataset(tiny_dataset / "train", (32, 32), 5, seed=1, **SETTINGS)
    (run_ahead,) = built
    started = iter(dataset)
    next(started)
    assert run_ahead.epochs.arrays.owners
    del dataset, started
    gc.collect()
    assert wait_for_pool_threads(0) == 0 and not run_ahead.epochs.arrays.owners and not run_ahead.window


def test_files_are_read_whole_whatever_their_size(tmp_path: Path) -> None:
    for size in (0, 1, 4096, 3 * 1024 * 1024 + 7):
        path = tmp_path / f"{size}.bin"
        path.write_bytes(np.random.default_rng(size).integers(0, 256, size, np.uint8).tobytes())
        assert opencv_pipeline._file_bytes(str(path)).tobytes() == path.read_bytes(), size
