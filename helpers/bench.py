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
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from helpers.augmentation import keras3_layers
from helpers.datasets import cache_root, data_root, display_path
from helpers.images import ImageFolderError, load_image_folder
from helpers.pipeline import list_images, without_autotuning
from helpers.pipelines_compared import (
    FAST_CANDIDATES,
    PIPELINES,
    SETTINGS,
    images_per_second,
    keras_input,
    pipeline_batches,
    restore_malloc_thresholds,
)
from helpers.runtime import quiet_import

__all__ = ["PIPELINES", "SETTINGS", "images_per_second", "pipeline_batches"]  # lesson 06 imports them from here

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


def measure(
    names: Iterable[str], folder: Path, size: int, batch_size: int, repeats: int, min_seconds: float = 0.0
) -> list[Measurement]:
    """Images per second of each pipeline, ``repeats`` times, interleaved so that drift hits all alike.

    Each time, whole passes for at least ``min_seconds`` right after an untimed pass of the same pipeline, as
    ``fit``'s epochs follow each other: a pipeline that prepares its next epoch's first batches early has them
    ready, as in ``fit``, but cannot have prepared more while the other pipelines were being timed.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}.")
    epochs = {name: pipeline_batches(name, folder, size, batch_size) for name in names}
    runs: dict[str, list[float]] = {name: [] for name in epochs}
    for _ in range(repeats):
        for name, epoch in epochs.items():
            runs[name].append(images_per_second(epoch, warm_up=True, min_seconds=min_seconds))
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


def opencv_images_per_second(folder: Path, size: int, count: int = 128) -> tuple[float, float]:
    """OpenCV alone, one image at a time in one thread: (decodes per second, warps per second) on real files."""
    import numpy as np

    from helpers.opencv_pipeline import augment, random_parameters, read_rgb

    paths = list_images(folder, check=False)[0][:count]
    started = time.perf_counter()
    images = [read_rgb(path, (size, size)) for path in paths]
    decoded = time.perf_counter()
    parameters = random_parameters(np.random.default_rng(2), len(images), SETTINGS)
    for index, image in enumerate(images):
        augment(image, *(values[index] for values in parameters))
    return len(images) / (decoded - started), len(images) / (time.perf_counter() - decoded)


def opencv_threads_images_per_second(folder: Path, size: int, batch_size: int, threads: int) -> float:
    """OpenCV's decoding and augmenting fetched by ``threads`` threads of our own, no Keras: the work itself.

    The fastest of three passes: right after the pipelines, a pass can be slowed by what they left behind (the
    memory allocator returning and re-faulting pages: four times the system time, measured once with os.times),
    which is not OpenCV's work.
    """
    from helpers.opencv_pipeline import opencv_sequence
    from helpers.pipelines_compared import by_index_in_threads

    sequence, _ = opencv_sequence(folder, (size, size), batch_size, **SETTINGS)
    epoch = by_index_in_threads(sequence, threads)
    return max(images_per_second(epoch, warm_up=attempt == 0) for attempt in range(3))


def profile(measurements: list[Measurement], folder: Path, size: int, batch_size: int) -> str:
    """Where the time goes: one thread's cost per image of decoding and of the transform in each library, what
    OpenCV's own work reaches in one thread and in two (outside Keras), and what TensorFlow's decode-only does."""
    two, one = (1000 / transform_images_per_second(size, batch_size, two_passes=flag) for flag in (True, False))
    opencv_decode, opencv_warp = (1000 / rate for rate in opencv_images_per_second(folder, size))
    alone = [opencv_threads_images_per_second(folder, size, batch_size, threads) for threads in (1, 2)]
    return (
        f"profile: TensorFlow's transform {one:.2f} ms/image in one 2-D pass, {two:.2f} in two 1-D passes (a batch, "
        f"on the kernel's own threads); OpenCV, one thread: decode {opencv_decode:.2f} ms/image, transform "
        f"{opencv_warp:.2f}; OpenCV's decode + augment without Keras: {alone[0]:,.0f} images/s in one thread, "
        f"{alone[1]:,.0f} in two ({alone[1] / alone[0]:.1f}x); TensorFlow's decode only, in its pipeline: "
        f"{medians(measurements)['decode only']:,.0f} images/s"
    )


def medians(measurements: list[Measurement]) -> dict[str, float]:
    """Each pipeline's median, by name."""
    return {m.name: m.median for m in measurements}


def fastest(measurements: list[Measurement]) -> str:
    """Which of the two ways to feed OpenCV's augmentation to Keras was faster here (the kit's "fast" pipeline)."""
    median = medians(measurements)
    return max(FAST_CANDIDATES, key=median.__getitem__)


def ratios(measurements: list[Measurement]) -> dict[str, float]:
    """The goals of ``make bench``: fast vs legacy, fast vs the decode-only ceiling, TensorFlow's own.

    Each the median of the ratios within one repeat: ``measure`` times the pipelines in turn, so a repeat's two
    passes met the same state of a shared machine, which a ratio of two medians from different repeats does not.
    """
    runs = {m.name: m.runs for m in measurements}
    fast = runs[fastest(measurements)]

    def paired(over: list[float], under: list[float]) -> float:
        return statistics.median(a / b for a, b in zip(over, under, strict=True))

    return {
        "fast / legacy": paired(fast, runs["legacy"]),
        "fast / ceiling": paired(fast, runs["decode only"]),
        "TensorFlow only / ceiling": paired(runs["TensorFlow only"], runs["decode only"]),
    }


def throughput_table(measurements: list[Measurement]) -> str:
    """One row per pipeline: median images/s, spread, and the share of the ceiling."""
    ceiling = medians(measurements).get("decode only")
    lines = [f"{'pipeline':20} {'images/s':>9} {'spread':>15} {'of ceiling':>10}"]
    for m in measurements:
        share = f"{m.median / ceiling:10.0%}" if ceiling else ""
        lines.append(f"{m.name:20} {m.median:9.0f} {m.spread[0]:7.0f}-{m.spread[1]:<7.0f} {share}")
    return "\n".join(lines)


def in_memory_batches(folder: Path, size: int, batch_size: int):
    """The images preloaded as one tensor, batches gathered by shuffled index each epoch, autotuning off: the model's
    own speed. Given NumPy arrays, Keras builds the same kind of pipeline with autotuning on, and its epochs
    stalled like the others' (README)."""
    tf = quiet_import("tensorflow")
    x, y, _ = load_image_folder(folder, (size, size))
    images, labels = tf.constant(x / np.float32(255)), tf.constant(y, tf.float32)
    order = tf.data.Dataset.range(len(y)).shuffle(len(y), seed=0, reshuffle_each_iteration=True).batch(batch_size)
    return without_autotuning(order.map(lambda indices: (tf.gather(images, indices), tf.gather(labels, indices))))


def training_epoch_seconds(name: str, folder: Path, size: int, batch_size: int, repeats: int = 3) -> list[float]:
    """Seconds of each of ``repeats`` training epochs of the kit's CNN fed by a pipeline, after a warm-up epoch.

    ``name`` is one of PIPELINES, "in memory" (the images preloaded as tensors: the model's own speed), or
    "layers in model" (decode-only input; the Keras 3 augmentation layers run inside the model, where an
    accelerator would run them).
    """
    from helpers.models import small_cnn
    from helpers.runtime import set_seeds

    keras = quiet_import("keras")
    set_seeds()
    model = small_cnn(size)
    if name == "in memory":
        feed = {"x": in_memory_batches(folder, size, batch_size)}
    elif name == "layers in model":  # decoded outside, augmented and rescaled by Keras layers inside the model
        layers = keras3_layers(seed=0, **SETTINGS)
        model = keras.Sequential([keras.Input((size, size, 3)), *layers, model], name="augmenting_model")
        model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy", metrics=["accuracy"])
        feed = {"x": keras_input("decode only", folder, size, batch_size)}
    else:
        feed = {"x": keras_input(name, folder, size, batch_size)}
    begun: list[float] = []
    ended: list[float] = []
    timer = keras.callbacks.LambdaCallback(  # each epoch from glibc's thresholds, as images_per_second
        on_epoch_begin=lambda *_: (restore_malloc_thresholds(), begun.append(time.perf_counter())),
        on_epoch_end=lambda *_: ended.append(time.perf_counter()),
    )
    model.fit(**feed, epochs=repeats + 1, verbose=0, callbacks=[timer], shuffle=False)  # datasets shuffle themselves
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
    from helpers.command_line import OneLineParser, positive_int, printable_output, seconds
    from helpers.fitgen_check import time_checker

    printable_output()
    parser = OneLineParser(description="Images/s of each input pipeline on this machine (make bench).")
    parser.add_argument("--folder", type=Path, default=None, help="class-folder tree (default: shapes/train)")
    parser.add_argument("--size", type=positive_int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="batch size (default 64)")
    parser.add_argument("--repeats", type=positive_int, default=5, help="measurements per pipeline (default 5)")
    parser.add_argument(
        "--min-seconds", type=seconds, default=0.5, help="time whole passes for at least this long (default 0.5)"
    )
    parser.add_argument("--no-training", action="store_true", help="skip the training epochs")
    parser.add_argument("--json", type=Path, default=cache_root() / "bench.json", help="where to write figures")
    args = parser.parse_args(argv)
    folder = args.folder or data_root() / "shapes" / "train"
    try:  # every pipeline reads these files: name a bad one before the first of them fails halfway
        list_images(folder)
    except ImageFolderError as error:
        parser.error(f"--folder: {error}")
    this_machine = machine()
    print(f"machine: {this_machine}\nimages: {display_path(folder)}, {args.size} px, batch {args.batch_size}")
    measurements = measure(PIPELINES, folder, args.size, args.batch_size, args.repeats, args.min_seconds)
    print(throughput_table(measurements))
    where_the_time_goes = profile(measurements, folder, args.size, args.batch_size)
    print(where_the_time_goes)
    targets = ratios(measurements)
    print(
        f"fast ({fastest(measurements)}) / legacy = {targets['fast / legacy']:.1f}x (goal 10x); fast / ceiling = "
        f"{targets['fast / ceiling']:.0%} (goal 80 %); "
        f"TensorFlow only / ceiling = {targets['TensorFlow only / ceiling']:.0%}"
    )
    figures = {
        "machine": this_machine,
        "size": args.size,
        "batch_size": args.batch_size,
        "ratios": targets,
        "throughput": [asdict(m) | {"median": m.median} for m in measurements],
        "profile": where_the_time_goes,
    }
    if not args.no_training:
        epochs = {
            name: Measurement(name, training_epoch_seconds(name, folder, args.size, args.batch_size, args.repeats))
            for name in ["in memory", *PIPELINES, "layers in model"]
        }
        print(f"one training epoch of the kit's CNN, seconds (median of {args.repeats}, spread; / in memory):")
        for m in epochs.values():
            relative = m.median / epochs["in memory"].median
            print(f"  fed by {m.name:20} {m.median:5.1f} s  {m.spread[0]:5.1f}-{m.spread[1]:<5.1f}  {relative:4.2f}x")
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
