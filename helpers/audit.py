"""Count what a model really sees: batches served by the data, steps taken and images per epoch.

``StepAudit`` gives three instruments, usable on Keras 3 and on tf-keras (Keras 2):

* ``audit.wrap(data)`` wraps a ``PyDataset``/``Sequence`` (including ``flow_from_directory``
  iterators) or a plain Python generator and records every batch it hands out, with the sample
  indices when the data knows them (legacy iterators do: ``index_array``);
* ``audit.metrics(keras)`` are two metrics computed INSIDE the model: images seen this epoch and
  the size of the smallest batch, i.e. the partial one (their ``val_`` twins count validation);
* ``audit.callback(keras)`` counts the steps of each epoch and collects the metrics' values.

Batches served before the first epoch begins are *peeks*: Keras 3 reads two batches to learn the
data's shapes, tf-keras one. A ``PyDataset`` serves them again during the epoch (they are extra
reads); a generator cannot rewind, so Keras 3 keeps the peeked batches and yields them first each
time it starts a new iterator (every epoch when ``steps_per_epoch`` is not given).
Batches are credited to the epoch during which they were READ; with prefetching a batch read at the
end of an epoch may be trained on in the next one. The model-side counts are exact.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

NO_BATCH_YET = 1e9  # the smallest-batch metric's start value: any real batch is smaller


@dataclass(frozen=True)
class ServedBatch:
    """One batch handed out by wrapped data: its order, batch index, size and sample indices."""

    order: int
    index: int
    size: int
    sample_ids: tuple[int, ...] | None
    epoch: int | None  # the model's epoch (1-based) when it was read; None outside epochs
    phase: str = "epoch"  # "peek" (before the first epoch), "epoch", or "after" (read ahead, never used)


@dataclass
class EpochRecord:
    """What the model did in one epoch, as counted by the callback and the in-model metrics."""

    epoch: int
    steps: int = 0
    images: int | None = None
    smallest_batch: int | None = None
    val_images: int | None = None
    served: list[ServedBatch] = field(default_factory=list)

    @property
    def distinct_images(self) -> int | None:
        if not self.served or any(batch.sample_ids is None for batch in self.served):
            return None
        return len({sample for batch in self.served for sample in batch.sample_ids})


def _batch_size(batch: object) -> int:
    inputs = batch[0] if isinstance(batch, tuple | list) else batch
    return int(len(inputs))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else ("es" if noun.endswith("ch") else "s"))


def _sequence_base(keras: ModuleType) -> type:
    """The indexable-data base class of this Keras: ``PyDataset`` in Keras 3, ``Sequence`` in tf-keras."""
    return keras.utils.PyDataset if keras.__name__ == "keras" else keras.utils.Sequence


def _keras_family(data: object) -> ModuleType | None:
    """The Keras (3, or tf-keras 2) whose Sequence class ``data`` is an instance of."""
    for name in ("keras", "tf_keras"):
        module = sys.modules.get(name)
        if module is not None and isinstance(data, _sequence_base(module)):
            return module
    return None


class StepAudit:
    """Records served batches, steps per epoch and images seen; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.served: list[ServedBatch] = []
        self.epochs: list[EpochRecord] = []
        self.samples: int | None = None
        self._current: EpochRecord | None = None
        self._started = False
        self._wrapped = False

    # ----- the data side -------------------------------------------------------------
    def _record(self, index: int, batch: object, sample_ids: np.ndarray | None) -> None:
        with self._lock:
            epoch = self._current.epoch if self._current else None
            phase = "epoch" if self._current else ("after" if self._started else "peek")
            ids = None if sample_ids is None else tuple(int(i) for i in sample_ids)
            served = ServedBatch(len(self.served), index, _batch_size(batch), ids, epoch, phase)
            self.served.append(served)
            if self._current is not None:
                self._current.served.append(served)

    def wrap(self, data: object) -> object:
        """``data`` with every batch it serves recorded; same length, same batches, same epoch hooks."""
        self.samples = getattr(data, "n", None) or getattr(data, "samples", None)
        self._wrapped = True
        family = _keras_family(data)
        if family is not None:
            return _audited_sequence(family, data, self)
        if hasattr(data, "__next__"):
            return self._audited_generator(data)
        raise TypeError(
            f"StepAudit.wrap needs a keras PyDataset / Sequence (e.g. from flow_from_directory) or a Python "
            f"generator, got {type(data).__name__}."
        )

    def _audited_generator(self, generator: object):
        for number, batch in enumerate(generator):
            self._record(number, batch, None)
            yield batch

    # ----- the model side ------------------------------------------------------------
    def metrics(self, keras: ModuleType) -> list:
        """``[images, smallest_batch]`` metrics for ``model.compile(metrics=...)`` of this Keras."""
        import tensorflow as tf

        base = keras.metrics.Metric

        class ImagesSeen(base):
            """Images in all batches of the epoch so far (reset by Keras every epoch)."""

            def __init__(self, name: str = "images", **kwargs: object) -> None:
                super().__init__(name=name, **kwargs)
                self.total = self.add_weight(name="total", shape=(), initializer="zeros")

            def update_state(self, y_true, y_pred, sample_weight=None) -> None:
                self.total.assign_add(tf.cast(tf.shape(y_pred)[0], self.total.dtype))

            def result(self):
                return tf.identity(self.total)

        class SmallestBatch(base):
            """Size of the smallest batch of the epoch: the partial one, wherever fit's shuffling put it.

            Under tf.distribute Keras sums metric variables over replicas: this is then the sum of each
            replica's smallest slice (the global partial batch when it splits evenly).
            """

            def __init__(self, name: str = "smallest_batch", **kwargs: object) -> None:
                super().__init__(name=name, **kwargs)
                self.size = self.add_weight(name="size", shape=(), initializer="zeros")
                self.reset_state()

            def update_state(self, y_true, y_pred, sample_weight=None) -> None:
                self.size.assign(tf.minimum(self.size, tf.cast(tf.shape(y_pred)[0], self.size.dtype)))

            def result(self):
                return tf.identity(self.size)

            def reset_state(self) -> None:
                self.size.assign(NO_BATCH_YET)

        return [ImagesSeen(), SmallestBatch()]

    def callback(self, keras: ModuleType):
        """A callback for ``model.fit(callbacks=[...])`` of this Keras that counts steps per epoch.

        It counts ``on_train_batch_end`` calls, which are steps as long as ``steps_per_execution`` is 1
        (the default).
        """
        audit = self

        class StepCounter(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
                with audit._lock:
                    audit._started = True
                    audit._current = EpochRecord(epoch + 1)
                    audit.epochs.append(audit._current)

            def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
                audit._current.steps += 1

            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                logs = logs or {}
                record = audit._current
                for key in ("images", "smallest_batch", "val_images"):
                    if key in logs:
                        setattr(record, key, int(round(float(logs[key]))))

            def on_train_end(self, logs: dict | None = None) -> None:
                with audit._lock:
                    audit._current = None

        return StepCounter()

    # ----- the report ------------------------------------------------------------------
    @property
    def peeks(self) -> list[ServedBatch]:
        """Batches served before the first epoch began, read by Keras to learn the data's shapes."""
        return [batch for batch in self.served if batch.phase == "peek"]

    def describe(self) -> str:
        """One line per epoch: steps, images the model saw, last batch, batches and distinct images served."""
        lines = []
        if self.peeks:
            lines.append(f"before training: {_plural(len(self.peeks), 'batch')} read to learn the data's shapes")
        of = f" of {self.samples}" if self.samples else ""
        for record in self.epochs:
            parts = [f"epoch {record.epoch}: {_plural(record.steps, 'step')}"]
            if record.images is not None:
                parts.append(f"{record.images}{of} images")
            if record.smallest_batch is not None:
                parts.append(f"smallest batch {record.smallest_batch}")
            if record.val_images is not None:
                parts.append(f"validated {record.val_images} images")
            line = ", ".join(parts)
            if self._wrapped:
                line += f"; served {_plural(len(record.served), 'batch')}"
                if record.distinct_images is not None:
                    line += f" ({record.distinct_images} distinct images)"
            lines.append(line)
        return "\n".join(lines)

    def sample_counts(self) -> np.ndarray:
        """How many times each sample was served during training epochs (peeks excluded)."""
        if not self.samples:
            raise ValueError("The wrapped data did not say how many samples it has; sample counts are unknown.")
        counts = np.zeros(self.samples, dtype=int)
        for batch in self.served:
            if batch.phase == "epoch" and batch.sample_ids is not None:
                counts[list(batch.sample_ids)] += 1
        return counts


def _audited_sequence(keras: ModuleType, inner: object, audit: StepAudit) -> object:
    """A Sequence of the same Keras family as ``inner`` that forwards everything and records each batch."""
    is_keras3 = keras.__name__ == "keras"  # only Keras 3's PyDataset takes workers & co. in __init__

    class AuditedSequence(_sequence_base(keras)):
        def __init__(self) -> None:
            if is_keras3:
                super().__init__(
                    workers=inner.workers,
                    use_multiprocessing=inner.use_multiprocessing,
                    max_queue_size=inner.max_queue_size,
                )
            self.inner = inner

        def __len__(self) -> int:
            return len(inner)

        def __getitem__(self, index: int):
            # Read the sample order BEFORE the batch: on_epoch_end may reshuffle it while the batch loads.
            index_array = getattr(inner, "index_array", None)
            batch = inner[index]
            if index_array is None:
                index_array = getattr(inner, "index_array", None)
            sample_ids = None
            if index_array is not None:
                sample_ids = index_array[inner.batch_size * index : inner.batch_size * (index + 1)]
            audit._record(index, batch, sample_ids)
            return batch

        def on_epoch_begin(self) -> None:
            if hasattr(inner, "on_epoch_begin"):
                inner.on_epoch_begin()

        def on_epoch_end(self) -> None:
            inner.on_epoch_end()

    return AuditedSequence()
