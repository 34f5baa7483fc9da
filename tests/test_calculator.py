"""The steps calculator, driven through its widgets as a student would, without a browser."""

from __future__ import annotations

from helpers.calculator import calculator_text, steps_calculator


def test_default_answer() -> None:
    box = steps_calculator()
    assert "steps per epoch (ceil): 16" in box.answer.value
    assert "last batch: 40 images" in box.answer.value


def test_moving_the_controls_updates_the_answer() -> None:
    box = steps_calculator()
    box.controls["batch_size"].value = 100
    assert "steps per epoch (ceil): 10" in box.answer.value
    box.controls["rule"].value = "floor"
    box.controls["samples"].value = 1050
    assert "steps per epoch (floor): 10" in box.answer.value and "(50 skipped)" in box.answer.value
    box.controls["replicas"].value = 2
    assert "100 per replica x 2 replica(s) = 200" in box.answer.value
    box.controls["epochs"].value = 3
    assert "whole run: 15 steps, 3000 images over 3 epoch(s)" in box.answer.value


def test_bad_values_explain_themselves() -> None:
    assert calculator_text(0, 64, 1, 1, "ceil") == "cannot compute: samples must be at least 1, got 0."
    assert calculator_text(10, 64, 1, 1, "round").startswith("cannot compute: rule must be")
