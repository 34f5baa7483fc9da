"""Start-up for every lesson: a quiet TensorFlow import, fixed threads, seeds and determinism.

TensorFlow 2.21 writes oneDNN, cudart and absl lines straight to file descriptor 2 even with
``TF_CPP_MIN_LOG_LEVEL=3``; the only reliable silencer is pointing fd 2 at /dev/null while the
C++ libraries load. Thread counts must be fixed before the first TensorFlow op, so this runs first.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import random
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

DEFAULT_SEED = 42
DEFAULT_THREADS = 2

# Known, harmless deprecation spam, filtered by message so that anything new still shows: the legacy
# ImageDataGenerator calls SciPy's deprecated `scipy.ndimage.interpolation` namespace once per image.
NOISY_WARNING_MESSAGES = (
    r".*scipy\.ndimage\.interpolation.*",
    # Keras 3.15 converting tensors with NumPy 2 (when saving a model, e.g. in ModelCheckpoint); harmless.
    r".*__array__ implementation doesn't accept a copy keyword.*",
)

_QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # C++ INFO/WARNING/ERROR lines
    "TF_ENABLE_ONEDNN_OPTS": "1",  # keep oneDNN on (faster); its banner is silenced below
    "ABSL_MIN_LOG_LEVEL": "3",
    "GRPC_VERBOSITY": "ERROR",
    "KERAS_BACKEND": "tensorflow",
}


@dataclass(frozen=True)
class LessonRuntime:
    """What :func:`setup_lesson` configured; its ``str`` is the one line a lesson prints."""

    tensorflow_version: str
    keras_version: str
    device: str
    seed: int
    threads: int
    legacy_keras: str | None = None  # the TF_USE_LEGACY_KERAS value this lesson switched off, if any

    def __str__(self) -> str:
        line = (
            f"fitgen-kit ready: TensorFlow {self.tensorflow_version}, Keras {self.keras_version}, "
            f"{self.device}, seed {self.seed}, {self.threads} threads, deterministic ops"
        )
        if self.legacy_keras:
            line += (
                f"\nTF_USE_LEGACY_KERAS={self.legacy_keras} is set: switched off in this kernel, because the lessons "
                "run Keras 3 and name Keras 2 as tf_keras where they compare the two (lesson 04)."
            )
        return line


@contextlib.contextmanager
def silenced_stderr_fd() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null inside the block (C++ log lines bypass ``sys.stderr``)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_import(name: str) -> ModuleType:
    """Import a TensorFlow-family module (``tensorflow``, ``keras``, ``tf_keras``) without log noise."""
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    if name in sys.modules:
        return sys.modules[name]
    with silenced_stderr_fd():
        module = importlib.import_module(name)
    if name in ("tensorflow", "tf_keras"):
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
        module_tf = sys.modules["tensorflow"]
        module_tf.get_logger().setLevel("ERROR")
    return module


def filter_known_warnings() -> None:
    """Hide the deprecation messages every legacy-generator lesson would otherwise print per image."""
    for message in NOISY_WARNING_MESSAGES:
        warnings.filterwarnings("ignore", message=message)


SEED_ENVIRONMENT_VARIABLE = "FITGEN_SEED"


def lesson_seed() -> int:
    """The seed lessons use: ``$FITGEN_SEED`` if set (to check that no lesson depends on one lucky seed), else 42."""
    text = os.environ.get(SEED_ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_SEED
    if not text.isdigit():
        raise ValueError(f"{SEED_ENVIRONMENT_VARIABLE} must be a whole number >= 0, got {text!r}.")
    return int(text)


def set_seeds(seed: int | None = None) -> None:
    """Seed Python, NumPy and TensorFlow/Keras so that a rerun draws the same numbers (default: lesson_seed())."""
    import numpy as np

    seed = lesson_seed() if seed is None else seed

    random.seed(seed)
    np.random.seed(seed)
    keras = quiet_import("keras")
    keras.utils.set_random_seed(seed)


@contextlib.contextmanager
def preserved_random_state() -> Iterator[None]:
    """Run the block, then put Python's, NumPy's, Keras's and TensorFlow's global random state back as it was.

    Used around work that reseeds and draws (training the kit's cached model), so that the cells after it
    draw the same numbers whether that work ran or was skipped (loaded from the cache).
    """
    import numpy as np

    python_state, numpy_state = random.getstate(), np.random.get_state()
    keras_state = _keras_random_state()
    tensorflow_state = _tensorflow_random_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        _restore_keras_random_state(keras_state)
        _restore_tensorflow_random_state(tensorflow_state)


def _keras_random_state() -> tuple | None:
    """Keras 3's global seed and global SeedGenerator (with its counter), if Keras is loaded."""
    if "keras" not in sys.modules:
        return None
    from keras.src.backend.common import global_state

    generator = global_state.get_global_attribute("global_seed_generator")
    counter = None if generator is None else generator.state.numpy().copy()
    return global_state.get_global_attribute("global_random_seed"), generator, counter


def _restore_keras_random_state(state: tuple | None) -> None:
    if state is None:
        return
    from keras.src.backend.common import global_state

    seed, generator, counter = state
    global_state.set_global_attribute("global_random_seed", seed)
    global_state.set_global_attribute("global_seed_generator", generator)
    if generator is not None:
        generator.state.assign(counter)


def _tensorflow_random_state() -> tuple | None:
    """TensorFlow's global seed and the generator of its per-op seeds (eager context), if TensorFlow is loaded."""
    if "tensorflow" not in sys.modules:
        return None
    from tensorflow.python.eager import context

    eager = context.context()
    generator = getattr(eager, "_rng", None)
    return getattr(eager, "_seed", None), None if generator is None else generator.getstate()


def _restore_tensorflow_random_state(state: tuple | None) -> None:
    if state is None:
        return
    from tensorflow.python.eager import context

    eager = context.context()
    seed, generator_state = state
    eager._seed = seed  # private, like TensorFlow's own tf.random.set_seed does: no public way to restore
    if generator_state is None:
        eager._rng = None
    else:
        eager._rng = random.Random()
        eager._rng.setstate(generator_state)


def _split_cpu(tf: ModuleType, count: int) -> None:
    """Make ``count`` logical CPU devices out of the one physical CPU (before TensorFlow initializes)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise RuntimeError(
                "TensorFlow has already started, so the CPU can no longer be split into logical devices. "
                "Restart the kernel and run the setup cell first."
            ) from None


def setup_lesson(seed: int | None = None, threads: int = DEFAULT_THREADS, cpu_devices: int = 1) -> LessonRuntime:
    """Prepare a lesson kernel: quiet imports, fixed threads, seeds, op determinism, warning filters.

    Call it once, in the first code cell, before anything touches TensorFlow. ``seed`` defaults to
    :func:`lesson_seed` (42, or ``$FITGEN_SEED``). ``cpu_devices > 1``
    splits the CPU into that many logical devices, so ``tf.distribute`` can be shown without a GPU.
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}.")
    if cpu_devices < 1:
        raise ValueError(f"cpu_devices must be at least 1, got {cpu_devices}.")
    filter_known_warnings()
    tensorflow_was_loaded = "tensorflow" in sys.modules
    legacy = _without_legacy_keras()
    tf = quiet_import("tensorflow")
    keras = quiet_import("keras")
    # TensorFlow reads the variable when it is imported (tensorflow/__init__.py puts tf_keras on its module path)
    # and again when tf.keras is first used: once either happened, only a new kernel undoes it.
    if legacy and tensorflow_was_loaded or getattr(tf.keras, "__name__", "").startswith("tf_keras"):
        raise RuntimeError(
            f"tf.keras may already be Keras 2 (tf-keras) in this kernel, because {LEGACY_KERAS}=1 was set when "
            "TensorFlow was loaded; these lessons use Keras 3 (lesson 04 uses tf-keras by its own name). "
            "Restart the kernel and run the setup cell first."
        )
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        current = tf.config.threading.get_intra_op_parallelism_threads()
        if current != threads:
            running = f"{current} threads" if current else "an automatic number of threads"
            raise RuntimeError(
                f"TensorFlow already runs with {running}; thread counts can only be set "
                "before the first TensorFlow operation. Restart the kernel and run the setup cell first."
            ) from None
    if cpu_devices > 1:
        _split_cpu(tf, cpu_devices)
    seed = lesson_seed() if seed is None else seed
    set_seeds(seed)
    tf.config.experimental.enable_op_determinism()
    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU" if gpus else "CPU only"
    if cpu_devices > 1:
        device += f" split into {cpu_devices} logical CPUs"
    return LessonRuntime(tf.__version__, keras.__version__, device, seed, threads, legacy)


LEGACY_KERAS = "TF_USE_LEGACY_KERAS"


def _without_legacy_keras() -> str | None:
    """Remove ``TF_USE_LEGACY_KERAS`` from this process's environment (it would make ``tf.keras`` Keras 2, which
    the lessons do not expect: "Unrecognized data type" in lesson 01); returns the value it had, if it was on."""
    value = os.environ.get(LEGACY_KERAS)
    if value in ("1", "true", "True"):  # the values TensorFlow's lazy loader honours
        del os.environ[LEGACY_KERAS]
        return value
    return None
