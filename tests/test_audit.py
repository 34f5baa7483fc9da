"""StepAudit on Keras 3 and tf-keras: served batches, steps, images seen, smallest batch, peeks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.audit import StepAudit
from helpers.capture import captured_warnings
from helpers.runtime import quiet_import, set_seeds

SAMPLES, BATCH = 100, 32


def tiny_model(keras, audit: StepAudit, shape: tuple[int, ...] = (4,)):
    layers = [keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")]
    model = keras.Sequential(layers)
    model.compile("sgd", "binary_crossentropy", metrics=audit.metrics(keras))
    return model


def legacy_iterator(keras_with_preprocessing):
    """A shuffled legacy NumpyArrayIterator of the given family (tf.keras = Keras 3's legacy copy, or tf_keras)."""
    x = np.random.default_rng(0).random((SAMPLES, 2, 2, 1)).astype("float32")
    y = (np.arange(SAMPLES) % 2).astype("float32")
    return keras_with_preprocessing.preprocessing.image.ImageDataGenerator().flow(
        x, y, batch_size=BATCH, shuffle=True, seed=1
    )


@pytest.mark.parametrize("family", ["keras", "tf_keras"])
def test_full_epochs_see_every_image_once(family: str) -> None:
    keras = quiet_import(family)
    tf = quiet_import("tensorflow")
    set_seeds(0)
    audit = StepAudit()
    data = audit.wrap(legacy_iterator(tf.keras if family == "keras" else keras))
    tiny_model(keras, audit, (2, 2, 1)).fit(data, epochs=2, verbose=0, callbacks=[audit.callback(keras)])
    assert audit.samples == SAMPLES
    assert [record.steps for record in audit.epochs] == [math.ceil(SAMPLES / BATCH)] * 2
    assert [record.images for record in audit.epochs] == [SAMPLES, SAMPLES]
    assert [record.smallest_batch for record in audit.epochs] == [SAMPLES % BATCH] * 2
    assert [record.distinct_images for record in audit.epochs] == [SAMPLES, SAMPLES]
    assert len(audit.peeks) == (2 if family == "keras" else 1)
    assert all(batch.phase in ("peek", "epoch") for batch in audit.served)
    assert (audit.sample_counts() == 2).all()
    assert audit.describe().splitlines()[1] == (
        "epoch 1: 4 steps, 100 of 100 images, smallest batch 4; served 4 batches (100 distinct images)"
    )


@pytest.mark.parametrize("family", ["keras", "tf_keras"])
def test_a_generator_is_recorded_without_sample_ids(family: str) -> None:
    keras = quiet_import(family)

    def batches():
        for _ in range(6):
            yield np.zeros((5, 4), "float32"), np.zeros((5,), "float32")

    audit = StepAudit()
    with captured_warnings():  # Keras 3: "shuffle=True ... ignored" and "ran out of data" (the generator ends)
        tiny_model(keras, audit).fit(audit.wrap(batches()), epochs=1, verbose=0, callbacks=[audit.callback(keras)])
    record = audit.epochs[0]
    assert (record.steps, record.images, record.distinct_images) == (6, 30, None)
    assert len(audit.served) == 6  # peeked batches are kept and trained on: nothing is read twice


def test_validation_images_are_counted() -> None:
    keras = quiet_import("keras")
    audit = StepAudit()
    x, y = np.zeros((50, 4), "float32"), np.zeros((50,), "float32")
    tiny_model(keras, audit).fit(
        x, y, batch_size=16, epochs=1, validation_data=(x[:30], y[:30]), verbose=0, callbacks=[audit.callback(keras)]
    )
    record = audit.epochs[0]
    assert (record.steps, record.images, record.smallest_batch, record.val_images) == (4, 50, 2, 30)
    assert "served" not in audit.describe()  # nothing was wrapped


def test_wrap_refuses_what_it_cannot_audit() -> None:
    with pytest.raises(TypeError, match="needs a keras PyDataset / Sequence .* got list"):
        StepAudit().wrap([1, 2, 3])


def test_sample_counts_need_a_known_size() -> None:
    with pytest.raises(ValueError, match="did not say how many samples"):
        StepAudit().sample_counts()
