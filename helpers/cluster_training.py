"""Training on the lesson-07 cluster: a tiny CNN, BackupAndRestore, a worker that dies, saving from the chief.

The data is the fix lesson 07 teaches (file names sharded per worker with ``distribute_datasets_from_function``),
shuffled ONCE with a fixed seed rather than every epoch, so a resumed run sees exactly the batches the
uninterrupted run saw and the two final models can be compared weight by weight.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from helpers.runtime import lesson_seed
from helpers.steps import steps_for

LEARNING_RATE = 0.003


def tiny_model(keras: ModuleType, size: int, model_class: type | None = None):
    """Two small convolutions, global max pooling and a sigmoid: about a second per epoch on a CPU worker."""
    model = (model_class or keras.Sequential)(
        [
            keras.Input((size, size, 3)),
            keras.layers.Conv2D(8, 3, activation="relu", kernel_initializer="he_normal"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, activation="relu", kernel_initializer="he_normal"),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(keras.optimizers.Adam(LEARNING_RATE), "binary_crossentropy", metrics=["accuracy"])
    return model


def step_counter(keras: ModuleType, crash_at: tuple[int, int] | None = None, on_crash=None):
    """A callback of this Keras that counts steps, records each epoch, and calls ``on_crash`` at ``crash_at``."""

    class Counter(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.steps: list[int] = []
            self.epochs: list[int] = []  # 1-based epochs this run trained (a resumed run starts later)
            self.losses: list[float] = []
            self.accuracies: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epochs.append(epoch + 1)
            self.steps.append(0)

        def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
            if crash_at == (self.epochs[-1], batch + 1):
                on_crash(self)

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self.steps[-1] += 1

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            self.losses.append(float(logs.get("loss", float("nan"))))
            self.accuracies.append(float(logs.get("accuracy", float("nan"))))

    return Counter()


def _crash(report_put, counter, how: str) -> None:
    """Stop at once: ``kill`` dies like an out-of-memory kill (SIGKILL: no clean-up, the system closes its
    connections); ``freeze`` stops answering like a machine that lost power or its network (SIGSTOP)."""
    report_put("crash", {"epochs": counter.epochs, "steps": counter.steps, "time": time.time(), "how": how})
    os.kill(os.getpid(), signal.SIGKILL if how == "kill" else signal.SIGSTOP)


def save_from_cluster(model, final: Path, index: int) -> dict:
    """Every worker saves (saving may need them all); only the chief (worker 0) keeps its file at ``final``.

    The others write to a temporary path of their own and delete it, as TensorFlow's multi-worker tutorial does.
    """
    path = final if index == 0 else final.with_name(f"{final.stem}.worker-{index}.tmp{final.suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    written = path.stat().st_size
    if index != 0:
        path.unlink()
    return {"path": str(path), "bytes": written, "kept": path.exists()}


def train(context) -> dict:
    """Train the tiny CNN for ``--epochs`` on this worker's shard; optional backup, crash and save."""
    from helpers.cluster_experiments import loader

    tf, keras, arguments, strategy = context.tf, context.tf_keras, context.arguments, context.strategy
    paths, labels = context.files
    seed = lesson_seed()  # the same start whatever ran before in this process: runs compare
    order = np.random.default_rng(seed).permutation(len(paths))  # mixed classes in every batch
    paths, labels = [paths[i] for i in order], [labels[i] for i in order]
    load = loader(context)

    def dataset_for(input_context):
        data = tf.data.Dataset.from_tensor_slices((paths, labels))
        data = data.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        data = data.map(lambda path, label: (load(path), label))
        return data.batch(input_context.get_per_replica_batch_size(context.global_batch)).repeat()

    keras.utils.set_random_seed(seed)
    with strategy.scope():
        model = tiny_model(keras, arguments.image_size)
    report = context.report
    crash_at = arguments.crash_at if context.index == arguments.crash_worker else None
    counter = step_counter(keras, crash_at, lambda c: _crash(report.put, c, arguments.crash))
    callbacks = [counter]
    if arguments.backup:
        callbacks.insert(0, keras.callbacks.BackupAndRestore(str(arguments.backup)))
    outcome: dict = {
        "epochs": counter.epochs,
        "steps": counter.steps,
        "losses": counter.losses,
        "accuracies": counter.accuracies,
    }
    try:
        model.fit(
            strategy.distribute_datasets_from_function(dataset_for),
            epochs=arguments.epochs,
            steps_per_epoch=steps_for(len(paths), context.global_batch),  # .repeat(): one epoch = this many steps
            verbose=0,
            callbacks=callbacks,
        )
    except Exception as error:  # noqa: BLE001 - a peer died: record what this worker saw, then fail
        from helpers.cluster_experiments import error_line

        return outcome | {"failed": True, "error": error_line(error), "error_time": time.time()}
    if arguments.backup:
        outcome["backup_left"] = sorted(p.name for p in Path(arguments.backup).glob("*"))
    if context.index == 0:
        np.savez(Path(arguments.report) / "final-weights.npz", *model.get_weights())
    if arguments.save:
        outcome["saved"] = save_from_cluster(model, Path(arguments.save), context.index)
    return outcome
