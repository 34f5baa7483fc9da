"""The kit's small CNN and the quick training run that proves a dataset is learnable."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from helpers.runtime import quiet_import

INPUT_SIZE = 64
LEARNING_RATE = 2e-3


def small_cnn(input_size: int | tuple[int, int] = INPUT_SIZE):
    """Three ReLU conv blocks and a dense head with one sigmoid output, compiled for binary labels.

    Small enough to train to high accuracy in seconds on two CPU cores. Expects inputs scaled to 0-1.
    ``input_size`` is a side in pixels or a (height, width) pair.
    """
    height, width = (input_size, input_size) if isinstance(input_size, int) else input_size
    keras = quiet_import("keras")
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((height, width, 3)),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="small_cnn",
    )
    model.compile(keras.optimizers.Adam(LEARNING_RATE), loss="binary_crossentropy", metrics=["accuracy"])
    return model


@dataclass(frozen=True)
class QuickTraining:
    """Outcome of :func:`quick_train`: the model, its accuracy per epoch and the wall time."""

    model: object
    train_accuracy: list[float]
    val_accuracy: list[float]
    seconds: float

    @property
    def final_val_accuracy(self) -> float:
        return self.val_accuracy[-1]


def quick_train(
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    epochs: int = 12,
    batch_size: int = 32,
) -> QuickTraining:
    """Train :func:`small_cnn` on in-memory uint8 images (rescaled by 1/255 here) and time it.

    Refuses float images (they may be scaled already: dividing again is the double-rescale mistake)
    and labels other than 0/1 (the model has one sigmoid output).
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, got {epochs} and {batch_size}.")
    (x_train, y_train), (x_val, y_val) = train, val
    for name, images, labels in (("train", x_train, y_train), ("val", x_val, y_val)):
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(
                f"{name} images must be uint8 RGB pixels 0-255 shaped (n, height, width, 3), got "
                f"{images.dtype} {images.shape}; quick_train rescales them itself."
            )
        if not set(np.unique(labels).tolist()) <= {0.0, 1.0}:
            raise ValueError(f"{name} labels must be 0 or 1 (one sigmoid output), got {np.unique(labels)[:5]}.")
    model = small_cnn(x_train.shape[1:3])
    started = time.perf_counter()
    history = model.fit(
        x_train.astype("float32") / 255.0,
        y_train,
        validation_data=(x_val.astype("float32") / 255.0, y_val),
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
    )
    seconds = time.perf_counter() - started
    return QuickTraining(model, history.history["accuracy"], history.history["val_accuracy"], seconds)
