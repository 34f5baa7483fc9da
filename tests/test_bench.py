"""make bench's measuring code, on the tiny dataset (throughput numbers themselves are not asserted here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import pipelines_compared
from helpers.bench import (
    PIPELINES,
    SETTINGS,
    TECHNIQUES,
    Measurement,
    epoch_seconds,
    fastest,
    images_per_second,
    in_memory_batches,
    main,
    measure,
    pipeline_batches,
    profile,
    ratios,
    throughput_table,
    training_epoch_seconds,
)
from helpers.pipeline import fast_dataset
from helpers.pipelines_compared import keras_input, restore_malloc_thresholds


def test_every_pipeline_yields_one_epoch_of_the_same_images(tiny_dataset: Path) -> None:
    for name in PIPELINES:
        batches = list(pipeline_batches(name, tiny_dataset / "train", 32, 5)())
        assert [len(batch[1]) for batch in batches] == [5, 5, 2], name
        assert batches[0][0].shape[1:] == (32, 32, 3), name


def test_measure_ratios_and_table(tiny_dataset: Path) -> None:
    measurements = measure(PIPELINES, tiny_dataset / "train", 32, 4, repeats=2)
    assert [m.name for m in measurements] == list(PIPELINES)
    assert all(len(m.runs) == 2 and m.median > 0 for m in measurements)
    table = throughput_table(measurements)
    assert table.splitlines()[-1].startswith("decode only") and table.splitlines()[-1].endswith("100%")
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        measure(PIPELINES, tiny_dataset / "train", 32, 4, repeats=0)
    with pytest.raises(ValueError, match="unknown pipeline 'turbo'"):
        pipeline_batches("turbo", tiny_dataset / "train", 32, 4)


def test_ratios_are_the_median_of_each_repeats_ratio() -> None:
    made_up = [
        Measurement("legacy", [100, 90, 400]),
        Measurement("TensorFlow only", [300, 250, 350]),
        Measurement("OpenCV, tf.data", [450, 400, 500]),
        Measurement("OpenCV, PyDataset", [800, 100, 850]),
        Measurement("decode only", [900, 1000, 800]),
    ]
    assert fastest(made_up) == "OpenCV, PyDataset"  # the faster median, whatever one run did
    # within each repeat: 800/100, 100/90, 850/400 -> median 2.125 (the ratio of the medians would be 8.0)
    assert ratios(made_up) == {
        "fast / legacy": 850 / 400,
        "fast / ceiling": 800 / 900,
        "TensorFlow only / ceiling": 300 / 900,
    }
    drifting = [Measurement(name, [1000, 500, 250]) for name in ("legacy", "TensorFlow only", "decode only")]
    drifting += [Measurement("OpenCV, tf.data", [800, 400, 200]), Measurement("OpenCV, PyDataset", [1, 1, 1])]
    assert ratios(drifting)["fast / ceiling"] == 0.8  # each repeat 80 %, whatever the machine did between them
    assert made_up[0].spread == (90, 400)


def test_main_prints_the_table_and_writes_json(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    assert (
        main(
            [
                "--folder",
                str(tiny_dataset / "train"),
                "--size",
                "32",
                "--batch-size",
                "4",
                "--repeats",
                "1",
                "--no-training",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "/ legacy = " in printed and "fast / ceiling = " in printed and "(goal 10x)" in printed
    figures = json.loads(out.read_text())
    assert set(figures["ratios"]) == {"fast / legacy", "fast / ceiling", "TensorFlow only / ceiling"}
    assert len(figures["throughput"]) == len(PIPELINES) == 7
    assert figures["profile"].startswith("profile: ") and figures["profile"] in printed  # the line quoted in README


def test_epoch_seconds_adds_the_model_time_and_takes_the_fastest_epoch() -> None:
    batches = [0, 1, 2, 3]
    assert epoch_seconds(batches, 0.0, repeats=2) < 0.01
    assert 0.04 <= epoch_seconds(batches, 0.01, repeats=1) < 0.2  # 4 batches x 10 ms
    passes = []

    class Counted:
        def __iter__(self):
            passes.append(1)
            return iter(batches)

    epoch_seconds(Counted(), repeats=2, warm_up=False)
    assert len(passes) == 2  # no warm-up pass
    epoch_seconds(Counted(), repeats=2)
    assert len(passes) == 5  # a warm-up pass, then two timed ones
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        epoch_seconds(batches, repeats=0)


def test_techniques_switch_on_one_more_speed_up_each(tiny_dataset: Path) -> None:
    switched_off = [sum(value is False for value in switches.values()) for switches in TECHNIQUES.values()]
    assert switched_off == [3, 2, 1, 0, 0] and TECHNIQUES["+ cache"] == {"cache": True}
    for switches in TECHNIQUES.values():
        dataset, _ = fast_dataset(tiny_dataset / "train", (32, 32), 4, **switches, **SETTINGS)
        assert sum(len(y) for _, y in dataset) == 12


@pytest.mark.parametrize(
    "name", ["in memory", "legacy + threads", "OpenCV, PyDataset", "OpenCV, tf.data", "layers in model"]
)
def test_training_epoch_seconds_times_each_epoch_after_a_warm_up(tiny_dataset: Path, name: str) -> None:
    seconds = training_epoch_seconds(name, tiny_dataset / "train", 32, 4, repeats=2)
    assert len(seconds) == 2 and all(0 < value < 60 for value in seconds)


def test_the_references_run_without_tf_datas_autotuning(tiny_dataset: Path) -> None:
    """Decode-only (the ceiling) and the in-memory epochs are references: without the autotuner's stalls (README)."""
    assert keras_input("decode only", tiny_dataset / "train", 32, 4).options().autotune.enabled is False
    in_memory = in_memory_batches(tiny_dataset / "train", 32, 5)
    assert in_memory.options().autotune.enabled is False
    epochs = [[(x.numpy(), y.numpy()) for x, y in in_memory] for _ in range(2)]
    assert [len(y) for _, y in epochs[0]] == [5, 5, 2] and epochs[0][0][0].shape == (5, 32, 32, 3)
    pixels = [np.sort(np.concatenate([x.reshape(len(x), -1).sum(1) for x, _ in epoch])) for epoch in epochs]
    assert np.array_equal(pixels[0], pixels[1]) and 0 < epochs[0][0][0].max() <= 1  # all 12 images, rescaled
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(*epochs, strict=True))  # in a new order each epoch
    assert keras_input("TensorFlow only", tiny_dataset / "train", 32, 4).options().autotune.enabled is not False


def test_profile_compares_decoding_with_both_transforms(tiny_dataset: Path) -> None:
    line = profile([Measurement("decode only", [2000.0])], tiny_dataset / "train", 32, 4)
    assert line.startswith("profile: TensorFlow's transform ") and " in two 1-D passes " in line
    assert "OpenCV, one thread: decode " in line and "images/s in one thread, " in line
    assert line.endswith("TensorFlow's decode only, in its pipeline: 2,000 images/s")


@pytest.mark.parametrize("warm_up, passes", [(True, 2), (False, 1)])
def test_images_per_second_counts_the_labels_of_one_timed_pass(warm_up: bool, passes: int) -> None:
    calls = []

    def epoch() -> list:
        calls.append(1)
        return [(None, [0] * 4), (None, [0] * 3)]

    assert images_per_second(epoch, warm_up=warm_up) > 0 and len(calls) == passes


def test_images_per_second_times_whole_passes_for_at_least_min_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short passes are timed together and all their images count: on a clock where a pass of 4 images takes
    20 ms, 0.1 s takes 5 passes, 20 images, 200 images/s. The allocator is set back after the warm-up pass."""
    clock, events = [0.0], []
    monkeypatch.setattr(pipelines_compared.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(pipelines_compared, "restore_malloc_thresholds", lambda: events.append("restore"))

    def epoch() -> list:
        events.append("pass")
        clock[0] += 0.02
        return [(None, [0] * 3), (None, [0])]

    assert images_per_second(epoch, warm_up=True, min_seconds=0.1) == pytest.approx(200)
    assert events == ["pass", "restore"] + ["pass"] * 5


@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--repeats", "0"], "--repeats: expected a whole number >= 1, got '0'"),
        (["--size", "-3"], "--size: expected a whole number >= 1, got '-3'"),
        (["--batch-size", "many"], "--batch-size: expected a whole number >= 1, got 'many'"),
        (["--min-seconds", "nan"], "--min-seconds: expected a number of seconds >= 0, got 'nan'"),
        (["--min-seconds", "-1"], "--min-seconds: expected a number of seconds >= 0, got '-1'"),
        (["--min-seconds", "inf"], "--min-seconds: expected a number of seconds >= 0, got 'inf'"),
        (["--min-seconds", "half"], "--min-seconds: expected a number of seconds >= 0, got 'half'"),
    ],
)
def test_main_refuses_bad_numbers_in_one_line(
    arguments: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    error = capsys.readouterr().err
    assert stopped.value.code == 2 and words in error and len(error.strip().splitlines()) == 1


def test_main_names_a_missing_folder_or_a_bad_file(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["--folder", str(tmp_path / "nowhere")])
    assert "nowhere" in capsys.readouterr().err
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dataset / "train", broken)
    bad = next((broken / sorted(p.name for p in broken.iterdir())[0]).iterdir())
    bad.write_bytes(b"not an image at all")
    with pytest.raises(SystemExit) as stopped:
        main(["--folder", str(broken)])
    error = capsys.readouterr().err
    assert stopped.value.code == 2 and bad.name in error and "not an image" in error


FAULTS_AFTER_FROM_GENERATOR = """
import resource
from helpers.runtime import setup_lesson
setup_lesson()
import tensorflow as tf
from helpers.pipelines_compared import restore_malloc_thresholds
images = tf.data.Dataset.range(400).map(lambda i: tf.fill([128, 128, 3], tf.cast(i, tf.float32)), num_parallel_calls=2)
def faults_per_image():
    for _ in images:
        pass
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in images:
        pass
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 400
list(tf.data.Dataset.from_generator(lambda: iter([1]), output_signature=tf.TensorSpec([], tf.int32)))
print(faults_per_image(), restore_malloc_thresholds(), faults_per_image())
"""


def test_restoring_the_malloc_thresholds_undoes_from_generators_patch() -> None:
    """In a fresh process, once a from_generator dataset has run, every 196 KB image TensorFlow makes is mapped and
    zeroed afresh (48 pages); make bench restores glibc's thresholds before each measurement. Page faults are
    counts, not timings: the same on a busy machine. Without glibc there is nothing to restore."""
    if not sys.platform.startswith("linux"):
        assert restore_malloc_thresholds() is False
        return
    repository = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", FAULTS_AFTER_FROM_GENERATOR], capture_output=True, text=True, cwd=repository
    )
    assert done.returncode == 0, done.stderr[-2000:]
    patched, restored, after = done.stdout.split()
    assert float(patched) >= 40 and restored == "True" and float(after) <= 10, done.stdout
