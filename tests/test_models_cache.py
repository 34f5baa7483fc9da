"""shapes_model: trains once, caches with a sidecar, reloads the same model, retrains when the recipe changes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import helpers.models as models


@pytest.fixture
def one_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Train for one epoch on every 8th image: these tests are about caching, not accuracy."""
    real = models.quick_train
    monkeypatch.setattr(
        models,
        "quick_train",
        lambda train, val: real((train[0][::8], train[1][::8]), (val[0][::8], val[1][::8]), epochs=1),
    )


def test_train_cache_reload_and_retrain(tmp_path: Path, one_epoch: None) -> None:
    first = models.shapes_model(tmp_path)
    assert not first.from_cache and len(first.val_accuracy) == 1
    sidecar = json.loads((tmp_path / "shapes_small_cnn.json").read_text())
    assert sidecar["preprocessing"] == {
        "target_size": [64, 64],
        "interpolation": "nearest",
        "scale": "1/255",
        "class_names": ["circle", "square"],
    }
    again = models.shapes_model(tmp_path)
    assert again.from_cache and again.val_accuracy == first.val_accuracy
    probe = np.random.default_rng(0).random((4, 64, 64, 3)).astype("float32")
    assert np.array_equal(first.model.predict(probe, verbose=0), again.model.predict(probe, verbose=0))
    sidecar["recipe"] = "another recipe"
    (tmp_path / "shapes_small_cnn.json").write_text(json.dumps(sidecar))
    assert not models.shapes_model(tmp_path).from_cache


def test_a_damaged_cache_is_retrained(tmp_path: Path, one_epoch: None) -> None:
    models.shapes_model(tmp_path)
    (tmp_path / "shapes_small_cnn.keras").write_bytes(b"not a model")
    assert not models.shapes_model(tmp_path).from_cache


def test_quick_train_refuses_an_augmenter_that_rescales() -> None:
    from helpers.models import quick_train
    from helpers.runtime import quiet_import

    tf = quiet_import("tensorflow")
    images = np.zeros((4, 16, 16, 3), np.uint8)
    labels = np.array([0, 1, 0, 1], np.float32)
    augmenter = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1 / 255)
    with pytest.raises(ValueError, match="the augmenter must not rescale"):
        quick_train((images, labels), (images, labels), epochs=1, augmenter=augmenter)
