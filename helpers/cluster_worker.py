"""One worker of a ``MultiWorkerMirroredStrategy`` cluster: join it, run the asked steps, report what it measured.

It reads ``TF_CONFIG`` like any TensorFlow worker, so the same command trains on two real machines (run it on
each, with both addresses and that machine's index)::

    TF_CONFIG='{"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]}, "task": {"type": "worker", "index": 0}}' \\
        python -m helpers.cluster_worker --data data/shapes/train --steps train --report runs/first

Lesson 07 starts the workers on 127.0.0.1 with :func:`helpers.cluster.run_cluster`. Each worker writes
``REPORT/worker-N.json`` after every step, so what it measured survives a crash later on.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from helpers.cluster import whole_count
from helpers.command_line import OneLineParser, positive_int
from helpers.images import image_files

STEPS = ("sharding", "train", "keras3", "fewer-files")  # what a worker can run, in the order asked
CRASHES = ("kill", "freeze")
PARENT_VARIABLE = "FITGEN_CLUSTER_PARENT"  # set by helpers.cluster.run_cluster: the process to outlive never


def class_folders(data: Path) -> list[str]:
    """The class folders of ``data`` that hold at least one image (flow_from_directory's white list)."""
    return sorted(entry.name for entry in data.iterdir() if entry.is_dir() and image_files(entry))


def worker_arguments(
    data: Path | str,
    steps: Sequence[str],
    per_replica_batch: int = 32,
    epochs: int = 4,
    backup: Path | str | None = None,
    save: Path | str | None = None,
    crash_at: tuple[int, int] | None = None,
    crash: str = "kill",
) -> list[str]:
    """The command-line arguments of ``python -m helpers.cluster_worker``, checked before any process starts.

    ``crash_at=(epoch, step)`` makes worker 1 stop there: ``crash="kill"`` (SIGKILL: the process dies, its
    system closes its connections) or ``"freeze"`` (SIGSTOP: it stops answering, like a machine that lost
    power or its network).
    """
    data = Path(data)
    if not data.is_dir():
        raise ValueError(f"data must be a folder of class folders; {data} is not a folder.")
    if len(class_folders(data)) < 2:
        raise ValueError(f"data must hold at least two class folders with images; {data} has {class_folders(data)}.")
    if isinstance(steps, str) or not steps or any(step not in STEPS for step in steps):
        raise ValueError(f"steps must be a list of some of {STEPS}, e.g. ['train'], got {steps!r}.")
    arguments = ["--data", str(data), "--steps", ",".join(steps)]
    arguments += ["--per-replica-batch", str(whole_count("per_replica_batch", per_replica_batch))]
    arguments += ["--epochs", str(whole_count("epochs", epochs))]
    if backup is not None:
        arguments += ["--backup", str(backup)]
    if save is not None:
        arguments += ["--save", str(save)]
    if crash_at is not None:
        if isinstance(crash_at, str) or len(crash_at) != 2:
            raise ValueError(f"crash_at must be (epoch, step), e.g. (3, 6), got {crash_at!r}.")
        epoch, step = (whole_count("crash_at's epoch", crash_at[0]), whole_count("crash_at's step", crash_at[1]))
        if "train" not in steps or epoch > int(epochs):
            raise ValueError(f"crash_at={crash_at!r} is never reached: it needs the train step and epoch <= {epochs}.")
        if crash not in CRASHES:
            raise ValueError(f"crash must be one of {CRASHES}, got {crash!r}.")
        arguments += ["--crash-at", f"{epoch}:{step}", "--crash", crash]
    return arguments


class Report:
    """The worker's JSON report, rewritten whole (write, then rename) after every step."""

    def __init__(self, folder: Path, index: int) -> None:
        self.path = folder / f"worker-{index}.json"
        self.data: dict = {}

    def put(self, key: str, value: object) -> None:
        self.data[key] = value
        partial = self.path.with_suffix(".json.partial")
        partial.write_text(json.dumps(self.data))
        os.replace(partial, self.path)


def read_tf_config(text: str | None) -> tuple[list[str], int]:
    """The cluster's worker addresses and this worker's index, from ``TF_CONFIG``, or one clear error."""
    example = '{"cluster": {"worker": ["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 0}}'
    if not text:
        raise ValueError(f"TF_CONFIG is not set: every worker needs it, e.g. TF_CONFIG='{example}'.")
    try:
        config = json.loads(text)
        addresses = list(config["cluster"]["worker"])
        task_type, index = config["task"]["type"], config["task"]["index"]
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"TF_CONFIG is not valid: {text!r}. It should look like '{example}'.") from None
    if task_type != "worker" or not isinstance(index, int) or not 0 <= index < len(addresses):
        raise ValueError(
            f"TF_CONFIG's task must be a worker with an index from 0 to {len(addresses) - 1}, got {config['task']!r}."
        )
    return addresses, index


def start_tensorflow(threads: int):
    """TensorFlow and tf-keras, quiet, with fixed threads, seeds and deterministic ops (before the strategy)."""
    import numpy as np

    from helpers.runtime import filter_known_warnings, lesson_seed, quiet_import

    filter_known_warnings()
    tf = quiet_import("tensorflow")
    tf_keras = quiet_import("tf_keras")
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    seed = lesson_seed()
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return tf, tf_keras


def crash_point(text: str) -> tuple[int, int]:
    """argparse type for ``--crash-at EPOCH:STEP`` (both counted from 1)."""
    try:
        epoch, step = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected EPOCH:STEP such as 3:6, got {text!r}") from None
    if epoch < 1 or step < 1:
        raise argparse.ArgumentTypeError(f"epoch and step count from 1, got {text!r}")
    return epoch, step


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(prog="python -m helpers.cluster_worker", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="class-folder tree of images (as flow_from_directory)")
    parser.add_argument("--report", type=Path, required=True, help="folder for worker-N.json")
    parser.add_argument("--steps", default="train", help=f"comma-separated, in order, from: {', '.join(STEPS)}")
    parser.add_argument("--per-replica-batch", type=positive_int, default=32, help="images per replica per step")
    parser.add_argument("--image-size", type=positive_int, default=32, help="side of the model's input, pixels")
    parser.add_argument("--epochs", type=positive_int, default=4, help="epochs for the train step")
    parser.add_argument("--backup", type=Path, help="BackupAndRestore folder (resume from it after a crash)")
    parser.add_argument("--save", type=Path, help="where the chief saves the trained model (.keras)")
    parser.add_argument("--crash-at", type=crash_point, help="EPOCH:STEP at which --crash-worker stops")
    parser.add_argument("--crash-worker", type=int, default=1, help="index of the worker that --crash-at stops")
    parser.add_argument("--crash", choices=CRASHES, default="kill", help="how: kill (SIGKILL) or freeze (SIGSTOP)")
    parser.add_argument("--threads", type=positive_int, default=1, help="TensorFlow threads per worker")
    arguments = parser.parse_args(argv)
    steps = [step.strip() for step in arguments.steps.split(",") if step.strip()]
    unknown = [step for step in steps if step not in STEPS]
    if unknown or not steps:
        parser.error(f"--steps: unknown step {unknown[0]!r}; choose from {', '.join(STEPS)}" if unknown else "no step")
    arguments.steps = steps
    if not arguments.data.is_dir():
        parser.error(f"--data: {arguments.data} is not a folder of class folders")
    return arguments


def watch_parent() -> None:
    """Die with the process that started the cluster (a kernel killed outright cannot stop its workers)."""
    parent = os.environ.get(PARENT_VARIABLE)
    if not parent or not parent.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    watch_parent()
    try:
        addresses, index = read_tf_config(os.environ.get("TF_CONFIG"))
    except ValueError as error:
        print(f"cluster_worker: {error}", file=sys.stderr)
        return 2
    arguments.report.mkdir(parents=True, exist_ok=True)
    report = Report(arguments.report, index)
    tf, tf_keras = start_tensorflow(arguments.threads)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    report.put(
        "cluster",
        {
            "index": index,
            "workers": len(addresses),
            "replicas": int(strategy.num_replicas_in_sync),
            "chief": index == 0,
            "tensorflow": tf.__version__,
            "tf_keras": tf_keras.__version__,
        },
    )
    from helpers import cluster_experiments, cluster_training

    context = cluster_experiments.Context(tf, tf_keras, strategy, arguments, index, len(addresses), report)
    runners = {
        "sharding": cluster_experiments.sharding,
        "keras3": cluster_experiments.keras3_fit,
        "fewer-files": cluster_experiments.fewer_files_than_workers,
        "train": cluster_training.train,
    }
    status = 0
    for step in arguments.steps:
        started = time.time()
        outcome = runners[step](context)
        outcome["seconds"] = time.time() - started
        report.put(step, outcome)
        if outcome.get("failed"):
            status = 1
            break
    print(f"worker {index}: {'failed' if status else 'finished'}; what it measured is in {report.path}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
