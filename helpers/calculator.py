"""The interactive steps_per_epoch calculator: widgets in the lesson, logic here and unit-tested."""

from __future__ import annotations

import ipywidgets as widgets

from helpers.steps import epoch_plan


def calculator_text(samples: int, batch_size: int, epochs: int, replicas: int, rule: str) -> str:
    """The calculator's answer for one setting, or a one-line explanation of what is wrong with it."""
    try:
        return epoch_plan(samples, batch_size, epochs, replicas, rule).describe()
    except (TypeError, ValueError) as error:
        return f"cannot compute: {error}"


def steps_calculator(samples: int = 1000, batch_size: int = 64, epochs: int = 5) -> widgets.VBox:
    """Sliders for samples, batch size, epochs and replicas, a ceil/floor toggle, and the live answer."""
    controls = {
        "samples": widgets.BoundedIntText(value=samples, min=1, max=10_000_000, description="samples"),
        "batch_size": widgets.IntSlider(value=batch_size, min=1, max=512, description="batch size"),
        "epochs": widgets.IntSlider(value=epochs, min=1, max=100, description="epochs"),
        "replicas": widgets.IntSlider(value=1, min=1, max=8, description="replicas"),
        "rule": widgets.ToggleButtons(options=["ceil", "floor"], value="ceil", description="rounding"),
    }
    answer = widgets.HTML()

    def update(_change: object = None) -> None:
        values = {name: control.value for name, control in controls.items()}
        answer.value = f"<pre>{calculator_text(**values)}</pre>"

    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = widgets.VBox([*controls.values(), answer])
    box.controls, box.answer = controls, answer  # handles for tests and for the browser test
    box.add_class("fitgen-steps-calculator")
    return box
