"""setup_lesson: a quiet import (nothing on stderr), fixed threads, seeds, and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from helpers.runtime import LessonRuntime, filter_known_warnings, silenced_stderr_fd


def run_python(code: str) -> subprocess.Popen:
    """Start ``code`` in a fresh interpreter (no TF_/KERAS variables inherited); read it with ``finish``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("TF_", "KERAS"))}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=180)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


# Each script needs a fresh process (TensorFlow's start-up is what they test). They start together, once per
# module, and each test reads its own result: five imports of TensorFlow overlap instead of queueing.
SCRIPTS = {
    "silent": """
        from helpers.runtime import setup_lesson
        runtime = setup_lesson(seed=3, threads=2)
        print(runtime)
        import tensorflow as tf
        threading = tf.config.threading
        print(threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
        print(tf.random.uniform([2], seed=1).numpy().round(4).tolist())
        import numpy as np
        print(np.random.rand())
        from helpers.runtime import quiet_import
        print(quiet_import("tf_keras").__version__)
        """,
    "again": """
        from helpers.runtime import setup_lesson
        setup_lesson(seed=3, threads=2)
        import tensorflow as tf, numpy as np
        print(tf.random.uniform([2], seed=1).numpy().round(4).tolist())
        print(np.random.rand())
        """,
    "noisy": "import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'; import tensorflow",
    "settings after start": """
        from helpers.runtime import quiet_import, setup_lesson
        tf = quiet_import("tensorflow")
        tf.config.threading.set_intra_op_parallelism_threads(2)
        tf.config.threading.set_inter_op_parallelism_threads(2)
        tf.constant(1.0) + 1.0  # starts the runtime with one CPU device and 2 threads
        for settings in ({"threads": 1}, {"cpu_devices": 2}):
            try:
                setup_lesson(**settings)
            except Exception as error:
                print(type(error).__name__, error)
        """,
    "legacy keras": """
        import os
        os.environ["TF_USE_LEGACY_KERAS"] = "1"  # as tf-keras's own documentation tells Keras 2 users to set
        from helpers.runtime import setup_lesson
        print(setup_lesson())
        import tensorflow as tf
        generator = tf.keras.preprocessing.image.ImageDataGenerator()
        print(type(generator).__module__, os.environ.get("TF_USE_LEGACY_KERAS"))
        """,
    "legacy keras loaded": """
        import os
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import tensorflow as tf
        tf.keras.layers  # the lazy tf.keras resolves to tf_keras now
        from helpers.runtime import setup_lesson
        try:
            setup_lesson()
        except RuntimeError as error:
            print(error)
        """,
    "legacy keras imported": """
        import os
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import tensorflow  # tf.keras not used yet, but tensorflow.keras already resolves to tf_keras
        from helpers.runtime import setup_lesson
        try:
            setup_lesson()
        except RuntimeError as error:
            print(error)
        """,
    "cpu split": """
        from helpers.runtime import setup_lesson
        print(setup_lesson(cpu_devices=2))
        import tensorflow as tf
        print(len(tf.config.list_logical_devices("CPU")))
        """,
}


@pytest.fixture(scope="module")
def script_results() -> dict[str, subprocess.CompletedProcess]:
    started = {name: run_python(code) for name, code in SCRIPTS.items()}
    return {name: finish(process) for name, process in started.items()}


def test_setup_lesson_is_silent_and_prints_one_line(script_results: dict) -> None:
    result = script_results["silent"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no oneDNN, cudart or absl lines, tf_keras's import included
    lines = result.stdout.splitlines()
    assert lines[0].startswith("fitgen-kit ready: TensorFlow 2.21.0, Keras 3.15.1, ")
    assert lines[0].endswith("seed 3, 2 threads, deterministic ops")
    assert lines[1] == "2 2" and lines[4] == "2.21.0"
    again = script_results["again"]
    assert again.stdout.splitlines() == lines[2:4]  # same seed, same draws


def test_plain_import_is_noisy_which_is_why_the_helper_exists(script_results: dict) -> None:
    result = script_results["noisy"]
    assert result.returncode == 0
    assert "oneDNN" in result.stderr or "absl" in result.stderr or "cuda" in result.stderr


def test_settings_after_the_runtime_started_give_clear_messages(script_results: dict) -> None:
    """Threads and a CPU split can only be set before TensorFlow's first operation: both say so (one process)."""
    result = script_results["settings after start"]
    assert result.returncode == 0 and result.stderr == "", result.stderr
    threads, split = result.stdout.splitlines()
    assert "Restart the kernel and run the setup cell first" in threads
    assert "can no longer be split into logical devices" in split


def test_zero_threads_refused() -> None:
    from helpers.runtime import setup_lesson

    with pytest.raises(ValueError, match="threads must be at least 1, got 0"):
        setup_lesson(threads=0)


def test_silenced_stderr_fd_hides_c_level_writes_and_restores(capfd: pytest.CaptureFixture[str]) -> None:
    with silenced_stderr_fd():
        os.write(2, b"hidden\n")
    os.write(2, b"visible\n")
    assert capfd.readouterr().err == "visible\n"


def test_known_warnings_are_filtered_others_are_not() -> None:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filter_known_warnings()
        warnings.warn(
            "Please use `affine_transform` from the `scipy.ndimage` namespace; the "
            "`scipy.ndimage.interpolation` namespace is deprecated",
            DeprecationWarning,
            stacklevel=1,
        )
        warnings.warn("something new", DeprecationWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["something new"]


def test_runtime_line() -> None:
    line = str(LessonRuntime("2.21.0", "3.15.1", "CPU only", 42, 2))
    assert line == "fitgen-kit ready: TensorFlow 2.21.0, Keras 3.15.1, CPU only, seed 42, 2 threads, deterministic ops"


def test_cpu_can_be_split_for_tf_distribute(script_results: dict) -> None:
    result = script_results["cpu split"]
    assert result.returncode == 0 and result.stderr == ""
    assert "CPU only split into 2 logical CPUs" in result.stdout and result.stdout.splitlines()[-1] == "2"


def test_fitgen_seed_chooses_the_lessons_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.runtime import DEFAULT_SEED, lesson_seed

    monkeypatch.delenv("FITGEN_SEED", raising=False)
    assert lesson_seed() == DEFAULT_SEED == 42
    monkeypatch.setenv("FITGEN_SEED", " 7 ")
    assert lesson_seed() == 7
    for bad in ("-1", "seven", "1.5"):
        monkeypatch.setenv("FITGEN_SEED", bad)
        with pytest.raises(ValueError, match=f"FITGEN_SEED must be a whole number >= 0, got {bad!r}"):
            lesson_seed()


def test_tf_use_legacy_keras_is_switched_off_and_said(script_results: dict) -> None:
    """With TF_USE_LEGACY_KERAS=1, tf.keras would be Keras 2 and lesson 01 would fail ("Unrecognized data type")."""
    result = script_results["legacy keras"]
    assert result.returncode == 0 and result.stderr == "", result.stderr
    ready, note, module = result.stdout.splitlines()
    assert ready.startswith("fitgen-kit ready:") and note.startswith("TF_USE_LEGACY_KERAS=1 is set: switched off")
    assert module.startswith("keras.") and module.endswith(" None")  # Keras 3's legacy class; the variable is gone
    for name in ("legacy keras loaded", "legacy keras imported"):
        result = script_results[name]
        assert "tf.keras may already be Keras 2 (tf-keras)" in result.stdout, (name, result.stdout, result.stderr)
        assert "Restart the kernel" in result.stdout
