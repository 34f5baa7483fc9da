"""What each worker of the lesson-07 cluster is fed: sharding policies, a generator, the fix, Keras 3.

Every experiment builds the dataset the way a user would, hands it to the strategy exactly as ``fit`` does
(``experimental_distribute_dataset``, or ``distribute_datasets_from_function``) and records, for one epoch,
the sample ids this worker's replica received, how many images this worker decoded, its smallest batch, and
the steps ``fit`` then took on the same data. All workers run the same experiments in the same order, so
their collective operations stay paired.
"""

from __future__ import annotations

import argparse
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from helpers.images import class_folders, image_files
from helpers.steps import steps_for


@dataclass
class Context:
    """What every step needs: TensorFlow, tf-keras, the strategy, the arguments and who this worker is."""

    tf: ModuleType
    tf_keras: ModuleType
    strategy: object
    arguments: argparse.Namespace
    index: int
    workers: int
    report: object  # the worker's Report: steps that may die record before dying
    decoded: list[int] = field(default_factory=lambda: [0])  # images this worker decoded (a mutable counter)

    @property
    def global_batch(self) -> int:
        return self.arguments.per_replica_batch * self.strategy.num_replicas_in_sync

    @functools.cached_property
    def files(self) -> tuple[list[str], list[float]]:
        """Image paths and float labels in ``flow_from_directory``'s order: sorted classes, sorted names."""
        paths, labels = [], []
        for number, folder in enumerate(class_folders(Path(self.arguments.data))):
            for path in image_files(folder):
                paths.append(str(path))
                labels.append(float(number))
        return paths, labels


def decoder(context: Context):
    """``encoded JPEG bytes -> image`` in 0-1 at the model's size, counting every decode this worker does."""
    tf, size = context.tf, context.arguments.image_size

    def count(flag):
        context.decoded[0] += 1
        return flag

    def decode(encoded):
        tick = tf.numpy_function(count, [tf.constant(True)], tf.bool, stateful=True)
        with tf.control_dependencies([tick]):
            image = tf.io.decode_jpeg(encoded, channels=3)
        return tf.image.resize(image, (size, size)) / 255.0

    return decode


def loader(context: Context):
    """``path -> image``: read the file, then :func:`decoder`."""
    decode = decoder(context)
    return lambda path: decode(context.tf.io.read_file(path))


def with_policy(context: Context, dataset, policy: str):
    options = context.tf.data.Options()
    options.experimental_distribute.auto_shard_policy = getattr(context.tf.data.experimental.AutoShardPolicy, policy)
    return dataset.with_options(options)


def file_dataset(context: Context, policy: str):
    """The usual pipeline: file names -> decode -> global batches of ``(image, label, id)``, one shard policy."""
    tf = context.tf
    paths, labels = context.files
    load = loader(context)
    data = tf.data.Dataset.from_tensor_slices((tf.range(len(paths)), paths, labels))
    data = data.map(lambda i, path, label: (load(path), label, i))
    return with_policy(context, data.batch(context.global_batch), policy)


def counting_model(context: Context):
    """The tiny CNN, whose ``train_step`` also counts, on THIS worker, every sample id it trains on.

    Batches are ``(image, label, id)``; the counters are plain variables made outside the strategy's scope,
    so each worker keeps its own (a metric would be summed over the whole cluster).
    """
    from helpers.cluster_training import tiny_model

    tf, keras = context.tf, context.tf_keras
    samples = len(context.files[0])
    trained = tf.Variable(tf.zeros([samples], tf.int32), trainable=False)
    smallest = tf.Variable(2**31 - 1, dtype=tf.int32, trainable=False)

    class CountingModel(keras.Sequential):
        def train_step(self, data):
            images, labels, ids = data
            trained.assign_add(tf.math.bincount(ids, minlength=samples, maxlength=samples, dtype=tf.int32))
            smallest.assign(tf.minimum(smallest, tf.shape(ids)[0]))
            return super().train_step((images, labels))

    with context.strategy.scope():
        model = tiny_model(keras, context.arguments.image_size, CountingModel)
    return model, trained, smallest


def fit_audit(context: Context, data, steps_per_epoch: int | None = None) -> dict:
    """One epoch of ``fit`` on ``data``: steps, the ids this worker trained on, its smallest batch, its decodes.

    An error from ``fit`` is the measurement too (every worker meets it at the same point).
    """
    from helpers.cluster_training import step_counter

    model, trained, smallest = counting_model(context)
    counter = step_counter(context.tf_keras)
    context.decoded[0] = 0
    try:
        model.fit(data, epochs=1, steps_per_epoch=steps_per_epoch, verbose=0, callbacks=[counter])
    except Exception as error:  # noqa: BLE001 - recorded, as the lesson shows it
        return {"error": error_line(error)}
    counts = trained.numpy()
    return {
        "steps": counter.steps[0],
        "trained_ids": [int(i) for i in counts.nonzero()[0] for _ in range(counts[i])],
        "smallest_batch": int(smallest.numpy()),
        "decoded": context.decoded[0],
    }


NOT_THE_MESSAGE = (
    "Graph execution error",
    "in user code",
    "Detected at node",
    "<stack traces",
    "Additional GRPC",
    "File ",
    "name:",
    "op:",
)


def error_line(error: BaseException) -> str:
    """An error as one line: its type and first sentence, without TensorFlow's node names, stacks and dumps."""
    text = re.sub(r"\{\{.*?\}\}|\[\[.*?\]\]", "", str(error), flags=re.DOTALL)
    text = re.sub(r"\(PerReplica:\{.*?\}\)", "(PerReplica:{...})", text, flags=re.DOTALL)
    text = re.sub(r":?\s*goo\.gle/\S+", "", text)
    lines = [line.strip() for line in text.splitlines()]
    message = next((line for line in lines if line and not line.startswith(NOT_THE_MESSAGE)), "")
    return f"{type(error).__name__}: {message.split('. ')[0].rstrip('.')}"


def _tf_data_experiment(context: Context, policy: str) -> dict:
    """A ``tf.data`` pipeline given to ``fit`` as users do: tf-keras distributes it with this policy."""
    return fit_audit(context, file_dataset(context, policy))


def _record_dataset(context: Context, shards: int):
    """The images written into ``shards`` TFRecord files (this worker's own copy), read back with FILE sharding."""
    tf = context.tf
    paths, labels = context.files
    folder = Path(context.arguments.report) / f"records-worker-{context.index}"
    folder.mkdir(exist_ok=True)
    files = [str(folder / f"shard-{number}-of-{shards}.tfrecord") for number in range(shards)]
    for number, name in enumerate(files):
        with tf.io.TFRecordWriter(name) as writer:
            for i in range(number, len(paths), shards):
                feature = {
                    "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[Path(paths[i]).read_bytes()])),
                    "label": tf.train.Feature(float_list=tf.train.FloatList(value=[labels[i]])),
                    "id": tf.train.Feature(int64_list=tf.train.Int64List(value=[i])),
                }
                writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    spec = {
        "image": tf.io.FixedLenFeature([], tf.string),
        "label": tf.io.FixedLenFeature([], tf.float32),
        "id": tf.io.FixedLenFeature([], tf.int64),
    }
    decode = decoder(context)

    def parse(record):
        example = tf.io.parse_single_example(record, spec)
        return decode(example["image"]), example["label"], tf.cast(example["id"], tf.int32)

    data = tf.data.TFRecordDataset(files).map(parse).batch(context.global_batch)
    return with_policy(context, data, "FILE")


def _generator_experiment(context: Context, seed: int) -> dict:
    """The legacy ``flow_from_directory`` iterator, wrapped as ``fit`` wraps a generator (``from_generator``)."""
    keras = context.tf_keras
    root, size = str(context.arguments.data), context.arguments.image_size
    make = keras.preprocessing.image.ImageDataGenerator(rescale=1 / 255).flow_from_directory
    iterator = make(root, (size, size), batch_size=context.global_batch, class_mode="binary", seed=seed)

    # The epoch's order is drawn at the first batch, from NumPy's global generator reseeded with `seed`.

    class WithIds(keras.utils.Sequence):
        """The iterator's batches with their sample ids (``index_array``) as a third element."""

        def __len__(self) -> int:
            return len(iterator)

        def __getitem__(self, number: int):
            images, labels = iterator[number]
            start = number * iterator.batch_size
            served.append(len(labels))
            return images, labels, iterator.index_array[start : start + len(labels)].astype("int32")

        def on_epoch_end(self) -> None:
            iterator.on_epoch_end()

    served: list[int] = []
    audit = fit_audit(context, WithIds())
    return audit | {"decoded": sum(served)}  # the iterator loads every image of every batch it serves


def _per_worker_files(context: Context) -> dict:
    """The fix: ``distribute_datasets_from_function`` shards the FILE NAMES first, so each worker decodes its own."""
    tf = context.tf
    paths, labels = context.files
    load = loader(context)

    def dataset_for(input_context):
        data = tf.data.Dataset.from_tensor_slices((tf.range(len(paths)), paths, labels))
        data = data.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        data = data.map(lambda i, path, label: (load(path), label, i))
        return data.batch(input_context.get_per_replica_batch_size(context.global_batch))

    data = context.strategy.distribute_datasets_from_function(dataset_for)
    without_steps = fit_audit(context, data)  # tf-keras cannot know how long a distributed dataset is
    steps = steps_for(len(paths), context.global_batch)
    return fit_audit(context, data, steps) | {"steps_per_epoch": steps, "without_steps": without_steps}


def sharding(context: Context) -> dict:
    """Every way of feeding the cluster the lesson compares, in one fixed order (the same on every worker)."""
    return {
        "global_batch": context.global_batch,
        "samples": len(context.files[0]),
        "experiments": {
            "tf.data, AUTO (the default)": _tf_data_experiment(context, "AUTO"),
            "tf.data, DATA": _tf_data_experiment(context, "DATA"),
            "tf.data, OFF": _tf_data_experiment(context, "OFF"),
            "tf.data from file names, FILE": _tf_data_experiment(context, "FILE"),
            "2 TFRecord files, FILE": fit_audit(context, _record_dataset(context, 2)),
            "flow_from_directory, one seed": _generator_experiment(context, seed=7),
            "flow_from_directory, seed per worker": _generator_experiment(context, seed=100 + context.index),
            "distribute_datasets_from_function": _per_worker_files(context),
        },
    }


def keras3_fit(context: Context) -> dict:
    """Keras 3's ``fit`` under the same strategy: records its error (keras-team/keras#20585) or its steps."""
    from helpers.runtime import quiet_import

    keras = quiet_import("keras")
    tf = context.tf
    images = tf.zeros((64, 8))
    data = tf.data.Dataset.from_tensor_slices((images, tf.zeros((64,)))).batch(context.global_batch)
    with context.strategy.scope():
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile("sgd", "binary_crossentropy")
    try:
        history = model.fit(data, epochs=1, verbose=0)
    except Exception as error:  # noqa: BLE001 - recorded: this is what the lesson shows
        return {"keras": keras.__version__, "error": error_line(error)}
    return {"keras": keras.__version__, "loss": history.history["loss"]}


def fewer_files_than_workers(context: Context) -> dict:
    """FILE sharding of ONE TFRecord file across the workers: what each worker gets. Run it last: after it the
    workers' collective operations no longer pair up."""
    return fit_audit(context, _record_dataset(context, 1))
