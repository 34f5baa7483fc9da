"""fitgen-check rules that follow data through the code: augmented validation data, shuffled predictions,
an image predicted without the training's rescale, OpenCV's BGR order (see :mod:`helpers.code_rules`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from helpers.code_analysis import Code, Place, keyword, number
from helpers.code_problems import Problem, argument, generators, problem

AUGMENTING = (
    "shear_range",
    "zoom_range",
    "rotation_range",
    "width_shift_range",
    "height_shift_range",
    "horizontal_flip",
    "vertical_flip",
    "brightness_range",
    "channel_shift_range",
)
TRAINING_CALLS = ("fit", "fit_generator", "evaluate", "evaluate_generator", "predict", "predict_generator")
LOADERS = ("load_img", "img_to_array", "imread", "open", "decode_jpeg", "decode_image", "decode_png")


def _augmenting(code: Code, place: Place) -> bool:
    return any(
        number(argument(code, place, name)) not in (None, 0.0)
        or isinstance(argument(code, place, name), ast.Tuple | ast.List)
        or (isinstance(v := argument(code, place, name), ast.Constant) and v.value is True)
        for name in AUGMENTING
    )


def _flow_source(
    code: Code, expression: ast.expr | None, before: tuple[int, int, int]
) -> tuple[ast.Call, ast.expr] | None:
    """For a flow (``gen.flow_from_directory(...)``, directly or through a name): the call and its generator."""
    resolved = code.resolve(expression, before)
    if isinstance(resolved, ast.Call) and isinstance(resolved.func, ast.Attribute):
        if resolved.func.attr.startswith("flow"):
            return resolved, resolved.func.value
    return None


def augmented_validation(code: Code) -> Iterator[Problem]:
    augmenting = [place for place in generators(code) if _augmenting(code, place)]

    def augments(generator: ast.expr, before: tuple[int, int, int]) -> bool:
        resolved = code.resolve(generator, before)
        return any(place.node is resolved for place in augmenting)

    for place in code.calls():
        call = place.node
        subset = code.resolve(keyword(call, "subset"), place.order)
        if (
            isinstance(call.func, ast.Attribute)
            and call.func.attr.startswith("flow")
            and isinstance(subset, ast.Constant)
        ):
            if subset.value == "validation" and augments(call.func.value, place.order):
                yield problem(
                    "FG010",
                    place,
                    'subset="validation" of an augmenting generator: the validation '
                    "images are sheared, zoomed and flipped too; split with a second, plain "
                    "ImageDataGenerator(rescale=..., validation_split=...)",
                    subset,
                )
        validation = keyword(call, "validation_data")
        source = _flow_source(code, validation, place.order) if validation is not None else None
        if source is not None and augments(source[1], place.order):
            yield problem(
                "FG010",
                place,
                "validation_data comes from an augmenting generator: the score is measured "
                "on altered images; use a plain ImageDataGenerator(rescale=...) for validation",
                validation,
            )


def shuffled_predict(code: Code) -> Iterator[Problem]:
    read_classes = {
        code.dotted(place.node.value)
        for place in code.walk()
        if isinstance(place.node, ast.Attribute) and place.node.attr == "classes"
    }
    for place in code.calls():
        call = place.node
        data = keyword(call, "x", 0) if isinstance(call.func, ast.Attribute) else None
        if data is not None and call.func.attr in ("predict", "predict_generator"):
            source = _flow_source(code, data, place.order)
            shuffle = code.resolve(keyword(source[0], "shuffle"), place.order) if source else None
            shuffled = source is not None and not (isinstance(shuffle, ast.Constant) and shuffle.value is False)
            if shuffled and code.dotted(data) in read_classes:
                yield problem(
                    "FG011",
                    place,
                    "predict on a generator with shuffle=True (the default) returns the "
                    "predictions in shuffled order, and .classes is in file order: pass shuffle=False",
                )


def _is_scaling(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.Mult):
        return any(number(side) in (255.0, 127.5, 1 / 255, 1 / 127.5) for side in (node.left, node.right))
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        return name in ("preprocess_input", "Rescaling", "rescale", "standardize") or "normaliz" in name.lower()
    return isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Div | ast.Mult)


def predict_without_rescale(code: Code) -> Iterator[Problem]:
    if not any(number(argument(code, place, "rescale")) not in (None, 1.0) for place in generators(code)):
        return
    scaled_in_place = {
        node.target.id
        for place in code.walk()
        if isinstance(node := place.node, ast.AugAssign) and isinstance(node.target, ast.Name) and _is_scaling(node)
    }
    for place in code.calls():
        call = place.node
        if isinstance(call.func, ast.Attribute) and call.func.attr == "predict" and call.args:
            reachable = code.reachable(call.args[0], place.order)
            names = {node.id for node in reachable if isinstance(node, ast.Name)}
            loaded = any(isinstance(node, ast.Call) and code.called(node) in LOADERS for node in reachable)
            if loaded and not names & scaled_in_place and not any(_is_scaling(node) for node in reachable):
                yield problem(
                    "FG013",
                    place,
                    "this image goes to predict without the rescale the training used "
                    "(ImageDataGenerator(rescale=...)): divide it by 255 first, or put Rescaling inside "
                    "the model",
                    call.args[0],
                )


def _converted(node: ast.AST, code: Code) -> bool:
    """True for ``cvtColor(x, COLOR_BGR2RGB)`` and for ``x[..., ::-1]`` (channels reversed)."""
    if isinstance(node, ast.Call) and code.called(node) == "cvtColor" and len(node.args) > 1:
        return "BGR2RGB" in code.dotted(node.args[1]) or "BGR2GRAY" in code.dotted(node.args[1])
    if isinstance(node, ast.Subscript):
        last = node.slice.elts[-1] if isinstance(node.slice, ast.Tuple) else node.slice
        return isinstance(last, ast.Slice) and number(last.step) == -1.0
    return False


def opencv_bgr(code: Code) -> Iterator[Problem]:
    if not any(isinstance(p.node.func, ast.Attribute) and p.node.func.attr in TRAINING_CALLS for p in code.calls()):
        return
    parents = {child: place for place in code.walk() for child in ast.iter_child_nodes(place.node)}
    converted_names = set()
    for place in code.walk():
        if _converted(place.node, code):
            converted_names |= {node.id for node in ast.walk(place.node) if isinstance(node, ast.Name)}
    for place in code.calls():
        call = place.node
        if code.dotted(call.func) != "cv2.imread" or keyword(call, "flags", 1) is not None:
            continue
        parent = parents.get(call)
        if parent is not None and _converted(parent.node, code):
            continue
        target = parent.node.targets[0] if parent and isinstance(parent.node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id in converted_names:
            continue
        yield problem(
            "FG014",
            place,
            "cv2.imread returns BGR; a model trained on RGB (flow_from_directory, load_img and Pillow read RGB) "
            "then sees red and blue swapped: convert with cv2.cvtColor(image, cv2.COLOR_BGR2RGB) or image[..., ::-1]",
        )
