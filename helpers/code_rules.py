"""The pitfalls the lessons demonstrate, as rules that find them in a learner's own code (fitgen-check).

Each rule (:data:`helpers.code_problems.RULES`) has a stable id, a name and the lesson that measures the
problem; a check function returns :class:`~helpers.code_problems.Problem` records for one
:class:`~helpers.code_analysis.Code`. Rules flag what the lessons prove goes wrong, and stay quiet for the
correct forms (``math.ceil(n / bs)``, ``len(gen)``, ``shear_range=20``, ``RandomFlip("horizontal")``...).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from helpers.code_analysis import Code, keyword, number
from helpers.code_flow_rules import (
    TRAINING_CALLS,
    augmented_validation,
    opencv_bgr,
    predict_without_rescale,
    shuffled_predict,
)
from helpers.code_problems import KERAS3_ONLY, Problem, argument, generators, layer_calls, problem

STEP_ARGUMENTS = ("steps_per_epoch", "validation_steps", "steps")
LEGACY_IMAGE_NAMES = (
    "ImageDataGenerator",
    "DirectoryIterator",
    "NumpyArrayIterator",
    "DataFrameIterator",
    "Iterator",
    "apply_affine_transform",
    "apply_brightness_shift",
    "apply_channel_shift",
    "random_rotation",
    "random_shift",
    "random_shear",
    "random_zoom",
    "random_channel_shift",
    "random_brightness",
)
KERAS2_ONLY_ARGUMENTS = {
    "generator",
    "samples_per_epoch",
    "nb_epoch",
    "nb_val_samples",
    "nb_worker",
    "pickle_safe",
    "val_samples",
}  # Keras 1 and 2 names fit() does not take
KERAS3_IMAGE_NAMES = ("array_to_img", "img_to_array", "load_img", "save_img", "smart_resize")  # keras 3.15


def legacy_import(code: Code) -> Iterator[Problem]:
    for place in code.walk():
        node = place.node
        if isinstance(node, ast.ImportFrom) and node.module == "keras.preprocessing.image":
            gone = [alias.name for alias in node.names if alias.name not in KERAS3_IMAGE_NAMES]
            if gone:
                yield problem(
                    "FG001",
                    place,
                    f"keras.preprocessing.image has no {', '.join(gone)} on Keras 3 "
                    "(ImportError, also with tf_keras installed); the legacy class lives on as "
                    f"tensorflow.keras.preprocessing.image.{gone[0]}",
                    fix="module",
                )
        elif isinstance(node, ast.Attribute) and node.attr in LEGACY_IMAGE_NAMES and isinstance(node.ctx, ast.Load):
            if code.dotted(node.value) == "keras.preprocessing.image":
                yield problem(
                    "FG001",
                    place,
                    f"keras.preprocessing.image.{node.attr} is gone in Keras 3 "
                    "(AttributeError); use tf.keras.preprocessing.image." + node.attr,
                )


def fit_generator(code: Code) -> Iterator[Problem]:
    defined = {node.name for place in code.walk() if isinstance(node := place.node, ast.FunctionDef)}
    for place in code.calls():
        call = place.node
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr.endswith("_generator") and func.attr not in defined:
            method = func.attr.removesuffix("_generator")
            if method not in ("fit", "evaluate", "predict"):
                continue
            renamed = {item.arg for item in call.keywords} & KERAS2_ONLY_ARGUMENTS
            if len(call.args) > 1 or renamed:  # fit's second positional argument is y, predict's is batch_size
                given = ", ".join(sorted(renamed)) or "the positional steps"
                yield problem(
                    "FG002",
                    place,
                    f"{func.attr} is gone in Keras 3 (AttributeError; deprecated since "
                    f"TF 2.1): call {method}, and rewrite {given} by hand (steps_per_epoch=, epochs=, "
                    "validation_steps= ...); renaming alone would pass them to other parameters",
                )
            else:
                yield problem(
                    "FG002",
                    place,
                    f"{func.attr} is gone in Keras 3 (AttributeError; deprecated since "
                    f"TF 2.1): call {method}, which takes the generator",
                    fix="rename",
                )


def _division_kind(code: Code, value: ast.expr, before: tuple[int, int, int]) -> tuple[str, ast.expr] | None:
    """('float', node) for a true division or a NumPy rounding (a float64), ('floor', node) for a floor
    (``//``, ``int(a / b)``, ``math.floor``), ('floor plus one', node) for ``a // b + 1``."""
    resolved = code.resolve(value, before)
    if isinstance(resolved, ast.BinOp) and isinstance(resolved.op, ast.Div):
        return "float", resolved
    if isinstance(resolved, ast.BinOp) and isinstance(resolved.op, ast.FloorDiv):
        return "floor", resolved
    if isinstance(resolved, ast.BinOp) and isinstance(resolved.op, ast.Add) and number(resolved.right) == 1.0:
        inner = code.resolve(resolved.left, before)
        if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.FloorDiv):
            return "floor plus one", resolved
    if isinstance(resolved, ast.Call) and resolved.args:
        name, inner = code.dotted(resolved.func), code.resolve(resolved.args[0], before)
        divided = isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Div | ast.FloorDiv)
        if name.startswith(("numpy.", "np.")) and name.rsplit(".", 1)[-1] in ("ceil", "floor", "round", "rint"):
            return "float", resolved
        if divided and code.called(resolved) in ("int", "floor"):
            return "floor", resolved
    return None


def _step_arguments(call: ast.Call) -> Iterator[tuple[str, ast.expr]]:
    """The step counts a call passes: by keyword, and positionally to the Keras 2 *_generator methods."""
    for item in call.keywords:
        if item.arg in STEP_ARGUMENTS:
            yield item.arg, item.value
    if isinstance(call.func, ast.Attribute) and call.func.attr.endswith("_generator") and len(call.args) > 1:
        yield ("steps_per_epoch" if call.func.attr == "fit_generator" else "steps"), call.args[1]


def step_divisions(code: Code) -> Iterator[Problem]:
    for place in code.calls():
        for name, value in _step_arguments(place.node):
            found = _division_kind(code, value, place.order)
            if found is None:
                continue
            kind, node = found
            if kind == "float":
                fixable = "ceil" if node is value and isinstance(node, ast.BinOp) else None
                yield problem(
                    "FG003",
                    place,
                    f"{name} is a float here: Keras 3 raises TypeError ('float' object "
                    "cannot be interpreted as an integer), tf-keras rounds up; use math.ceil(samples / "
                    "batch_size), or leave it out (len(generator) is used)",
                    value,
                    fixable,
                )
            elif kind == "floor plus one":
                yield problem(
                    "FG004",
                    place,
                    f"{name} = floor + 1 is one step too many whenever the count "
                    "divides evenly; use math.ceil(samples / batch_size)",
                    value,
                )
            elif name == "steps_per_epoch":
                yield problem(
                    "FG004",
                    place,
                    "steps_per_epoch is a floor: tf-keras leaves one batch out of every "
                    "epoch, and Keras 3, which keeps one iterator across epochs, ends every second epoch "
                    "after 1 step; use math.ceil(samples / batch_size), or leave it out",
                    value,
                )
            else:
                yield problem(
                    "FG004",
                    place,
                    f"{name} is a floor: the last samples % batch_size images are never "
                    "evaluated; use math.ceil(samples / batch_size), or leave it out",
                    value,
                )


def shear_degrees(code: Code) -> Iterator[Problem]:
    for place in generators(code):
        value = number(argument(code, place, "shear_range"))
        if isinstance(value, float) and 0 < abs(value) < 1:
            yield problem(
                "FG005",
                place,
                f"shear_range={value:g} is {value:g} DEGREES (since Keras 2.1.3): "
                "practically no shear; write the angle you mean in degrees, e.g. shear_range=20",
                keyword(place.node, "shear_range"),
            )


def random_flip(code: Code) -> Iterator[Problem]:
    for place in layer_calls(code, "RandomFlip"):
        if keyword(place.node, "mode", 0) is None and not any(item.arg is None for item in place.node.keywords):
            yield problem(
                "FG006",
                place,
                'RandomFlip() flips horizontally AND vertically; horizontal_flip=True is RandomFlip("horizontal")',
            )


def random_rotation(code: Code) -> Iterator[Problem]:
    for place in layer_calls(code, "RandomRotation"):
        value = number(argument(code, place, "factor", 0))
        largest = max(map(abs, value)) if isinstance(value, tuple) else abs(value) if value is not None else 0.0
        if largest > 0.125:
            yield problem(
                "FG007",
                place,
                f"RandomRotation({largest:g}) rotates up to +-{largest * 360:,.0f} degrees: "
                "its factor is a fraction of a full turn, not degrees; for up to +-N degrees write "
                "RandomRotation(N / 360)",
            )


def zoom_mixed(code: Code) -> Iterator[Problem]:
    if not any(keyword(place.node, "zoom_range") is not None for place in generators(code)):
        return
    for place in layer_calls(code, "RandomZoom"):
        if keyword(place.node, "width_factor", 1) is None:
            yield problem(
                "FG008",
                place,
                "zoom_range=z draws the x and y factors independently; RandomZoom(z) "
                "zooms both axes by one factor unless width_factor is given: RandomZoom(z, width_factor=z)",
            )


def preprocess_twice(code: Code) -> Iterator[Problem]:
    for place in generators(code):
        function = keyword(place.node, "preprocessing_function")
        rescale = number(argument(code, place, "rescale"))
        if function is not None and code.dotted(function).endswith("preprocess_input") and rescale not in (None, 1.0):
            yield problem(
                "FG009",
                place,
                "preprocessing_function runs BEFORE rescale: preprocess_input already prepares the pixels "
                "(scales them to -1..1, or subtracts the ImageNet means), and rescale then shrinks them; drop rescale",
            )


def worker_arguments(code: Code) -> Iterator[Problem]:
    for place in code.calls():
        call = place.node
        if isinstance(call.func, ast.Attribute) and call.func.attr in TRAINING_CALLS:
            for item in call.keywords:
                if item.arg in ("workers", "use_multiprocessing", "max_queue_size"):
                    yield problem(
                        "FG012",
                        place,
                        f"{call.func.attr}({item.arg}=...) raises TypeError on Keras 3: "
                        "pass it to the PyDataset instead (flow.workers = 2, or super().__init__("
                        f"{item.arg}=...) in your own PyDataset)",
                        item.value,
                    )


CHECKS: tuple[Callable[[Code], Iterator[Problem]], ...] = (
    legacy_import,
    fit_generator,
    step_divisions,
    shear_degrees,
    random_flip,
    random_rotation,
    zoom_mixed,
    preprocess_twice,
    augmented_validation,
    shuffled_predict,
    worker_arguments,
    predict_without_rescale,
    opencv_bgr,
)


def find_problems(code: Code) -> list[Problem]:
    """Every problem every rule finds, in reading order (cell, line, column), one per rule and place."""
    found = {}
    for check in CHECKS:
        for found_here in check(code):
            if code.legacy_keras and found_here.rule.id in KERAS3_ONLY:
                continue
            found.setdefault((found_here.rule.id, found_here.cell, found_here.line, found_here.column), found_here)
    return sorted(found.values(), key=lambda p: (p.cell, p.line, p.column, p.rule.id))
