"""The kit's small CNN, its quick training run, and the cached trained model later lessons load."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from helpers.datasets import cache_root, ensure_dataset, read_manifest
from helpers.images import load_image_folder
from helpers.runtime import lesson_seed, preserved_random_state, quiet_import, set_seeds

MODEL_NAME = "shapes_small_cnn"
SIDECAR_FIELDS = ("train_accuracy", "val_accuracy", "seconds", "preprocessing")  # saved beside the model

INPUT_SIZE = 64
LEARNING_RATE = 2e-3
BATCH_SIZE = 16
EPOCHS = 6


def small_cnn(input_size: int | tuple[int, int] = INPUT_SIZE):
    """Three ReLU conv blocks, global max pooling and one sigmoid output, compiled for binary labels.

    Global max pooling answers "is this feature anywhere in the image?", which suits a shape at a random
    position; He initialisation (made for ReLU) makes runs that sit at chance for several epochs rarer
    (with Keras's default Glorot initialisation and augmentation, 3 of 6 seeds did; with He, none of 6).
    Expects inputs in 0-1.
    ``input_size`` is a side in pixels or a (height, width) pair.
    """
    height, width = (input_size, input_size) if isinstance(input_size, int) else input_size
    keras = quiet_import("keras")
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((height, width, 3)),
            layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
            layers.MaxPooling2D(),
            layers.GlobalMaxPooling2D(),
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
    preprocessing: dict = field(default_factory=dict)
    from_cache: bool = False

    @property
    def final_val_accuracy(self) -> float:
        return self.val_accuracy[-1]


def quick_train(
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    build=None,
    augmenter=None,
) -> QuickTraining:
    """Train :func:`small_cnn` on in-memory uint8 images (rescaled by 1/255 here) and time it.

    Refuses float images (they may be scaled already: dividing again is the double-rescale mistake)
    and labels other than 0/1 (the model has one sigmoid output). ``build`` makes another compiled
    model to train the same way (default: :func:`small_cnn`). ``augmenter``, a legacy
    ``ImageDataGenerator`` without ``rescale``, augments the training images through its ``flow``;
    seeds are reset first, so runs that differ only in the augmenter start from the same weights.
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
    if augmenter is not None:
        if getattr(augmenter, "rescale", None):
            raise ValueError(
                "the augmenter must not rescale: quick_train divides by 255 itself (twice would be wrong)."
            )
        set_seeds()
    model = build() if build else small_cnn(x_train.shape[1:3])
    started = time.perf_counter()
    x_scaled = x_train.astype("float32") / 255.0
    if augmenter is None:
        training = {"x": x_scaled, "y": y_train, "batch_size": batch_size}
    else:
        training = {"x": augmenter.flow(x_scaled, y_train, batch_size=batch_size, seed=1)}
    history = model.fit(
        **training,
        validation_data=(x_val.astype("float32") / 255.0, y_val),
        epochs=epochs,
        verbose=0,
    )
    seconds = time.perf_counter() - started
    return QuickTraining(model, history.history["accuracy"], history.history["val_accuracy"], seconds)


def _recipe_digest(manifest: dict) -> str:
    """What the cached model depends on: this module's code, the dataset's bytes and the Keras version."""
    keras = quiet_import("keras")
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(f"{manifest['sha256']} {keras.__version__} seed {lesson_seed()}".encode())
    return digest.hexdigest()[:16]


def shapes_model(cache_dir: Path | None = None) -> QuickTraining:
    """The kit's CNN trained on the shapes dataset: loaded from the cache, or trained (seconds) and cached.

    Training is seeded and deterministic, so a lesson that trains it and one that loads it print the same
    numbers. The sidecar JSON records how images must be prepared for it (size, interpolation, scale,
    class names) and its training history.
    """
    keras = quiet_import("keras")
    cache_dir = Path(cache_dir) if cache_dir is not None else cache_root() / "models"
    dataset = ensure_dataset("shapes")
    recipe = _recipe_digest(read_manifest(dataset))
    model_path, sidecar_path = cache_dir / f"{MODEL_NAME}.keras", cache_dir / f"{MODEL_NAME}.json"
    try:
        sidecar = json.loads(sidecar_path.read_text())
        if sidecar["recipe"] == recipe:
            model = keras.saving.load_model(model_path)
            fields = {key: sidecar[key] for key in SIDECAR_FIELDS}
            return QuickTraining(model, **fields, from_cache=True)
    except (OSError, ValueError, KeyError):
        pass  # no cache, an unreadable one, or one from another recipe: train afresh
    with preserved_random_state():  # a lesson prints the same numbers whether the model was cached or trained
        result = _train_and_save(dataset, model_path, sidecar_path, recipe)
    return result


def _train_and_save(dataset: Path, model_path: Path, sidecar_path: Path, recipe: str) -> QuickTraining:
    set_seeds()
    x_train, y_train, class_names = load_image_folder(dataset / "train", (INPUT_SIZE, INPUT_SIZE))
    x_val, y_val, _ = load_image_folder(dataset / "val", (INPUT_SIZE, INPUT_SIZE))
    result = quick_train((x_train, y_train), (x_val, y_val))
    preprocessing = {
        "target_size": [INPUT_SIZE, INPUT_SIZE],
        "interpolation": "nearest",
        "scale": "1/255",
        "class_names": class_names,
    }
    model_path.parent.mkdir(parents=True, exist_ok=True)
    result.model.save(model_path)
    result = replace(result, preprocessing=preprocessing)
    record = {"recipe": recipe, **{key: getattr(result, key) for key in SIDECAR_FIELDS}}
    sidecar_path.write_text(json.dumps(record, indent=1) + "\n")
    return result
