"""Images per second of each input pipeline, and one training epoch fed by each: ``make bench`` and lesson 06.

Every pipeline reads the same class-folder tree at the same size and batch size, and augments with
the same settings (shear 20 degrees, zoom 0.2, horizontal flip, rescale 1/255), except the
decode-only ceiling, which only decodes and resizes.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers.augmentation import keras3_layers, legacy_generator
from helpers.datasets import REPO_ROOT, data_root, display_path
from helpers.images import ImageFolderError
from helpers.pipeline import fast_dataset, list_images
from helpers.runtime import quiet_import

SETTINGS = {"shear_range": 20, "zoom_range": 0.2, "horizontal_flip": True, "rescale": 1 / 255}
PIPELINES = {
    "legacy": "ImageDataGenerator.flow_from_directory, one thread",
    "legacy + threads": "the same, batches fetched by 2 worker threads",
    "layers in map": "image_dataset_from_directory + Keras 3 layers in Dataset.map",
    "fast": "helpers.pipeline.fast_dataset (one affine transform per image, batched)",
    "decode only": "decode + resize + batch, no augmentation (the ceiling)",
}


def legacy_flow(folder: Path, size: int, batch_size: int, seed: int = 0):
    """The classic recipe: an augmenting ``ImageDataGenerator`` flowing from the folder."""
    return legacy_generator(**SETTINGS).flow_from_directory(
        folder, target_size=(size, size), batch_size=batch_size, class_mode="binary", seed=seed
    )


def pipeline_batches(name: str, folder: Path, size: int, batch_size: int, seed: int = 0) -> Callable[[], Iterable]:
    """A function that returns one epoch of ``(x, y)`` batches from the named pipeline."""
    target = (size, size)
    if name in ("legacy", "legacy + threads"):
        flow = legacy_flow(folder, size, batch_size, seed)
        if name == "legacy":
            return lambda: (flow[index] for index in range(len(flow)))

        def threaded() -> Iterable:
            with ThreadPoolExecutor(max_workers=2) as pool:
                yield from pool.map(flow.__getitem__, range(len(flow)))

        return threaded
    if name == "layers in map":
        tf, keras = quiet_import("tensorflow"), quiet_import("keras")
        augmentation = keras.Sequential(keras3_layers(seed=seed, **SETTINGS))
        dataset = keras.utils.image_dataset_from_directory(
            folder, image_size=target, batch_size=batch_size, interpolation="nearest", seed=seed, verbose=False
        )
        augment = tf.autograph.experimental.do_not_convert(lambda x, y: (augmentation(x, training=True), y))
        dataset = dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
        return lambda: dataset.prefetch(tf.data.AUTOTUNE)
    if name == "fast":  # built once, like the legacy flow: each pass is a new epoch of the same dataset
        fast, _ = fast_dataset(folder, target, batch_size, seed=seed, **SETTINGS)
        return lambda: fast
    if name == "decode only":
        decoded, _ = fast_dataset(folder, target, batch_size, shuffle=False)
        return lambda: decoded
    raise ValueError(f"unknown pipeline {name!r}; choose from {', '.join(PIPELINES)}.")


def images_per_second(epoch: Callable[[], Iterable], warm_up: bool = True) -> float:
    """Time one full pass over ``epoch()`` (after one warm-up pass, unless told) and return images per second."""
    if warm_up:  # graph tracing, file cache, thread pools
        for _ in epoch():
            pass
    started, images = time.perf_counter(), 0
    for batch in epoch():
        images += len(batch[1])
    return images / (time.perf_counter() - started)


# Lesson 06 adds the speed-ups of fast_dataset one at a time, in this order.
TECHNIQUES = {
    "plain": {"parallel": False, "prefetch": False, "batch_first": False},
    "+ prefetch": {"parallel": False, "batch_first": False},
    "+ parallel map": {"batch_first": False},
    "+ batch before map": {},
    "+ cache": {"cache": True},
}


def epoch_seconds(
    batches: Iterable, model_seconds_per_batch: float = 0.0, repeats: int = 3, warm_up: bool = True
) -> float:
    """Seconds of the fastest of ``repeats`` epochs (after a warm-up epoch, unless told) over ``batches``.

    A simulated model "trains" ``model_seconds_per_batch`` on each batch, leaving the CPU free as an
    accelerator would. The fastest epoch, not the median, because a shared machine's stalls only add time.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}.")
    times = []
    for _ in range(repeats + warm_up):
        started = time.perf_counter()
        for _batch in batches:
            time.sleep(model_seconds_per_batch)
        times.append(time.perf_counter() - started)
    return min(times[1:] if warm_up else times)


@dataclass(frozen=True)
class Measurement:
    """Repeated measurements of one pipeline: the median and the spread."""

    name: str
    runs: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.runs), max(self.runs)


def measure(names: Iterable[str], folder: Path, size: int, batch_size: int, repeats: int) -> list[Measurement]:
    """Images per second of each pipeline, ``repeats`` times after one warm-up pass, interleaved so that drift
    hits all alike."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}.")
    epochs = {name: pipeline_batches(name, folder, size, batch_size) for name in names}
    runs: dict[str, list[float]] = {name: [] for name in epochs}
    for repeat in range(repeats):
        for name, epoch in epochs.items():
            runs[name].append(images_per_second(epoch, warm_up=repeat == 0))
    return [Measurement(name, values) for name, values in runs.items()]


def transform_images_per_second(size: int, batch_size: int, repeats: int = 10, two_passes: bool = True) -> float:
    """The fast pipeline's augmentation alone, on one batch already in memory: its share of the cost.

    ``two_passes=False`` times TensorFlow's one 2-D transform instead of the pipeline's two 1-D passes.
    """
    tf = quiet_import("tensorflow")
    from helpers.pipeline import augment_batch

    batch = tf.random.stateless_uniform([batch_size, size, size, 3], [1, 2], 0, 255)
    augment = tf.autograph.experimental.do_not_convert(
        lambda images, number: augment_batch(images, tf.stack([number, number]), SETTINGS, two_passes)
    )
    step = tf.function(augment)
    step(batch, tf.constant(0, tf.int64))
    started = time.perf_counter()
    for number in range(repeats):
        step(batch, tf.constant(number, tf.int64))
    return repeats * batch_size / (time.perf_counter() - started)


def profile(measurements: list[Measurement], size: int, batch_size: int) -> str:
    """Where the fast pipeline's time goes: decoding vs its transform (two 1-D passes, or TF's one 2-D op)."""
    ceiling = medians(measurements)["decode only"]
    two, one = (transform_images_per_second(size, batch_size, two_passes=flag) for flag in (True, False))
    decode_ms, transform_ms = 1000 / ceiling, 1000 / two
    return (
        f"profile: decode+resize {decode_ms:.2f} ms/image; the fast transform alone {transform_ms:.2f} ms/image "
        f"(TensorFlow's one-pass transform: {1000 / one:.2f}); sharing the same cores, fast can reach at most "
        f"{decode_ms / (decode_ms + transform_ms):.0%} of the ceiling"
    )


def medians(measurements: list[Measurement]) -> dict[str, float]:
    """Each pipeline's median, by name."""
    return {m.name: m.median for m in measurements}


def ratios(measurements: list[Measurement]) -> dict[str, float]:
    """The issue's two targets: fast vs legacy, and fast vs the decode-only ceiling (medians)."""
    median = medians(measurements)
    return {
        "fast / legacy": median["fast"] / median["legacy"],
        "fast / ceiling": median["fast"] / median["decode only"],
    }


def throughput_table(measurements: list[Measurement]) -> str:
    """One row per pipeline: median images/s, spread, and the share of the ceiling."""
    ceiling = medians(measurements).get("decode only")
    lines = [f"{'pipeline':20} {'images/s':>9} {'spread':>15} {'of ceiling':>10}"]
    for m in measurements:
        share = f"{m.median / ceiling:10.0%}" if ceiling else ""
        lines.append(f"{m.name:20} {m.median:9.0f} {m.spread[0]:7.0f}-{m.spread[1]:<7.0f} {share}")
    return "\n".join(lines)


def training_epoch_seconds(name: str, folder: Path, size: int, batch_size: int, repeats: int = 3) -> list[float]:
    """Seconds of each of ``repeats`` training epochs of the kit's CNN fed by a pipeline, after a warm-up epoch.

    ``name`` is one of PIPELINES or "in memory" (the images preloaded as tensors: the model's own speed).
    """
    from helpers.images import load_image_folder
    from helpers.models import small_cnn
    from helpers.runtime import set_seeds

    keras = quiet_import("keras")
    set_seeds()
    model = small_cnn(size)
    if name == "in memory":
        x, y, _ = load_image_folder(folder, (size, size))
        feed = {"x": x.astype("float32") / 255.0, "y": y, "batch_size": batch_size}
    elif name.startswith("legacy"):
        flow = legacy_flow(folder, size, batch_size)
        flow.workers = 2 if name == "legacy + threads" else 1  # Keras 3: workers live on the PyDataset
        feed = {"x": flow}
    else:
        feed = {"x": pipeline_batches(name, folder, size, batch_size)()}
    begun: list[float] = []
    ended: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda *_: begun.append(time.perf_counter()),
        on_epoch_end=lambda *_: ended.append(time.perf_counter()),
    )
    model.fit(**feed, epochs=repeats + 1, verbose=0, callbacks=[timer], shuffle=name == "in memory")
    return [end - begin for begin, end in zip(begun[1:], ended[1:], strict=True)]


def machine() -> str:
    """CPU model, cores, accelerator and versions, in one line."""
    tf = quiet_import("tensorflow")
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    gpus = [device.name for device in tf.config.list_physical_devices("GPU")]
    return f"{model}, {os.cpu_count()} cores, {', '.join(gpus) or 'no GPU'}, TensorFlow {tf.__version__}"


def main(argv: list[str] | None = None) -> int:
    """``make bench``: print the table and the two ratios, and write the figures to a JSON file."""
    from helpers.command_line import OneLineParser, positive_int, printable_output
    from helpers.fitgen_check import time_checker

    printable_output()
    parser = OneLineParser(description="Images/s of each input pipeline on this machine (make bench).")
    parser.add_argument("--folder", type=Path, default=None, help="class-folder tree (default: shapes/train)")
    parser.add_argument("--size", type=positive_int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="batch size (default 64)")
    parser.add_argument("--repeats", type=positive_int, default=5, help="measurements per pipeline (default 5)")
    parser.add_argument("--no-training", action="store_true", help="skip the training epochs")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / ".cache" / "bench.json", help="where to write figures")
    args = parser.parse_args(argv)
    folder = args.folder or data_root() / "shapes" / "train"
    try:  # every pipeline reads these files: name a bad one before the first of them fails halfway
        list_images(folder)
    except ImageFolderError as error:
        parser.error(f"--folder: {error}")
    this_machine = machine()
    print(f"machine: {this_machine}\nimages: {display_path(folder)}, {args.size} px, batch {args.batch_size}")
    measurements = measure(PIPELINES, folder, args.size, args.batch_size, args.repeats)
    print(throughput_table(measurements))
    print(profile(measurements, args.size, args.batch_size))
    targets = ratios(measurements)
    print(
        f"fast / legacy = {targets['fast / legacy']:.1f}x (target 4x); "
        f"fast / ceiling = {targets['fast / ceiling']:.0%} (target 60 %)"
    )
    figures = {
        "machine": this_machine,
        "size": args.size,
        "batch_size": args.batch_size,
        "ratios": targets,
        "throughput": [asdict(m) | {"median": m.median} for m in measurements],
    }
    if not args.no_training:
        epochs = {
            name: Measurement(name, training_epoch_seconds(name, folder, args.size, args.batch_size, args.repeats))
            for name in ["in memory", *PIPELINES]
        }
        print(f"one training epoch of the kit's CNN, seconds (median of {args.repeats}, spread):")
        for m in epochs.values():
            print(f"  fed by {m.name:20} {m.median:5.1f} s  {m.spread[0]:5.1f}-{m.spread[1]:<5.1f}")
        figures["training_epoch_seconds"] = [asdict(m) | {"median": m.median} for m in epochs.values()]
    figures["fitgen_check_seconds"] = checker = time_checker()
    print(f"fitgen-check: 5,000-line script {checker['script']:.2f} s, 100-cell notebook {checker['notebook']:.2f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=1))
    print(f"figures written to {display_path(args.json)}")
    return 0


if __name__ == "__main__":
    from helpers.runtime import setup_lesson

    print(setup_lesson())  # quiet, seeded, 2 threads: before TensorFlow's first operation
    raise SystemExit(main())
