"""steps_for and epoch_plan: the rules, clear errors, and agreement with a real flow_from_directory."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from helpers.runtime import quiet_import
from helpers.steps import epoch_plan, steps_for, validation_steps_for


def test_the_two_rules() -> None:
    assert steps_for(1000, 64) == 16 and steps_for(1000, 64, "floor") == 15
    assert steps_for(1024, 64) == steps_for(1024, 64, "floor") == 16
    assert steps_for(10, 64) == 1 and steps_for(10, 64, "floor") == 0
    assert validation_steps_for(200, 64) == 4


@pytest.mark.parametrize(
    ("samples", "batch_size", "error", "message"),
    [
        (
            1000 / 64,
            64,
            TypeError,
            "got the float 15.625: Keras 3 refuses floats where it counts. Round up with math.ceil",
        ),
        (1000, 64.0, TypeError, "batch_size must be a whole number"),
        (0, 64, ValueError, "samples must be at least 1, got 0"),
        (1000, -8, ValueError, "batch_size must be at least 1, got -8"),
        (True, 64, TypeError, "samples must be a whole number, got bool"),
        ("1000", 64, TypeError, "got str '1000'"),
    ],
)
def test_bad_input_is_named(samples: object, batch_size: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(".", r"\.")):
        steps_for(samples, batch_size)


def test_numpy_integers_are_whole_numbers() -> None:
    import numpy as np

    assert steps_for(np.int64(1000), np.int32(64)) == 16


def test_unknown_rule() -> None:
    with pytest.raises(ValueError, match="rule must be 'ceil' or 'floor', got 'round'"):
        steps_for(10, 3, "round")


def test_epoch_plan_ceil_and_floor() -> None:
    ceil = epoch_plan(1000, 64, epochs=5)
    assert (ceil.steps_per_epoch, ceil.images_per_epoch, ceil.skipped_per_epoch, ceil.last_batch) == (16, 1000, 0, 40)
    assert (ceil.total_steps, ceil.images_per_run) == (80, 5000)
    floor = epoch_plan(1000, 64, epochs=5, rule="floor")
    assert (floor.steps_per_epoch, floor.images_per_epoch, floor.skipped_per_epoch, floor.last_batch) == (
        15,
        960,
        40,
        64,
    )
    assert "960 of 1000 (40 skipped)" in floor.describe()
    assert "is usually a full one: 936 images seen per epoch" in floor.describe()
    assert "epochs alternate 15, 1, 15, 1, ... steps" in floor.describe()
    assert "last batch: 40 images (smaller, and that is fine)" in ceil.describe()


def test_epoch_plan_replicas_use_the_global_batch() -> None:
    plan = epoch_plan(1000, 32, replicas=2)
    assert (plan.global_batch, plan.steps_per_epoch, plan.last_batch) == (64, 16, 40)
    assert "32 per replica x 2 replica(s) = 64" in plan.describe()


def test_floor_with_a_batch_larger_than_the_data() -> None:
    plan = epoch_plan(10, 64, rule="floor")
    assert (plan.steps_per_epoch, plan.images_per_epoch, plan.skipped_per_epoch) == (0, 0, 10)
    assert "nothing would be trained" in plan.describe() and "last batch" not in plan.describe()


@given(samples=st.integers(1, 5000), batch_size=st.integers(1, 600), replicas=st.integers(1, 8))
def test_plan_accounts_for_every_image(samples: int, batch_size: int, replicas: int) -> None:
    ceil = epoch_plan(samples, batch_size, replicas=replicas)
    assert (ceil.steps_per_epoch - 1) * ceil.global_batch + ceil.last_batch == samples == ceil.images_per_epoch
    assert 1 <= ceil.last_batch <= ceil.global_batch
    floor = epoch_plan(samples, batch_size, replicas=replicas, rule="floor")
    assert floor.steps_per_epoch * floor.global_batch == floor.images_per_epoch
    assert floor.images_per_epoch + floor.skipped_per_epoch == samples
    assert floor.skipped_per_epoch == samples % floor.global_batch


MAX_SAMPLES = 60


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Class-folder trees with 2..MAX_SAMPLES tiny images, made on demand and cached."""
    root, made = tmp_path_factory.mktemp("counts"), {}

    def make(samples: int) -> Path:
        if samples not in made:
            folder = root / str(samples)
            for index in range(samples):
                label = "a" if index % 2 else "b"
                (folder / label).mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (4, 4), (index, 0, 0)).save(folder / label / f"{index}.png")
            made[samples] = folder
        return made[samples]

    return make


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(samples=st.integers(2, MAX_SAMPLES), batch_size=st.integers(1, 80))
def test_steps_for_agrees_with_len_of_flow_from_directory(folders, samples: int, batch_size: int) -> None:
    tf = quiet_import("tensorflow")
    iterator = tf.keras.preprocessing.image.ImageDataGenerator().flow_from_directory(
        folders(samples), target_size=(4, 4), batch_size=batch_size, class_mode="binary"
    )
    assert iterator.samples == samples
    assert steps_for(samples, batch_size) == len(iterator) == math.ceil(samples / batch_size)
    last = iterator[len(iterator) - 1][0]
    assert len(last) == epoch_plan(samples, batch_size).last_batch
    assert np.isfinite(last).all()
