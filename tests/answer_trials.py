"""Answers written other ways, for every exercise: at least three right ones and three typical wrong ones.

tests/test_student.py runs each lesson's student copy and, after each check cell's "not answered yet", tries every
answer in the lesson's own kernel: each wrong one must fail the check with its specific words AND fail the hidden
tests on their own (so no listed wrong answer equals the expected value); each right one must pass the whole check
cell, hidden tests included; then the lesson's solution runs and passes again (a check can be run again after a
fix). A lesson that gains an exercise must gain an entry here; a test says so.
"""

from __future__ import annotations

import ast
import builtins
import copy
from dataclasses import dataclass

import nbformat

from classroom.make_student import exercise_label, solution_and_check_cells, split_hidden_tests


@dataclass(frozen=True)
class Answers:
    """``right``: code that answers correctly, each written differently from the lesson's solution;
    ``wrong``: (code with a typical mistake, words its check's message must contain)."""

    right: tuple[str, ...]
    wrong: tuple[tuple[str, str], ...]


WHOLE = "expected a whole number (an int)"

ANSWERS: dict[str, dict[str, Answers]] = {
    "00_start_here.ipynb": {
        "Exercise 0": Answers(
            right=(
                'all_images = len(list(shapes.glob("*/*/*.jpg")))',
                'counts = read_manifest(shapes)["counts"]\n'
                "all_images = sum(counts[split][name] for split in counts for name in counts[split])",
                'all_images = 0\nfor split in read_manifest(shapes)["counts"].values():\n'
                "    all_images += sum(split.values())",
            ),
            wrong=(
                ('all_images = sum(read_manifest(shapes)["counts"]["train"].values())', "training split only"),
                (
                    'counts = read_manifest(shapes)["counts"]\n'
                    'all_images = sum(counts["train"].values()) + sum(counts["val"].values())',
                    "One split is missing",
                ),
                (
                    'all_images = sum(classes["circle"] for classes in read_manifest(shapes)["counts"].values())',
                    "one class only",
                ),
                ('all_images = str(len(list(shapes.glob("*/*/*.jpg"))))', WHOLE),
            ),
        ),
    },
    "01_data_generators.ipynb": {
        "Exercise 1": Answers(
            right=(
                "exercise_imagenet_bytes = 1_281_167 * 224 * 224 * 3 * 4",
                "exercise_imagenet_bytes = np.int64(1_281_167) * 224**2 * 3 * np.dtype('float32').itemsize",
                "exercise_imagenet_bytes = float(1_281_167 * 224 * 224 * 12)",
            ),
            wrong=(
                ("exercise_imagenet_bytes = 1_281_167 * 224 * 224 * 3", "one byte a value (uint8)"),
                ("exercise_imagenet_bytes = 1_281_167 * 224 * 224 * 4", "Each pixel has 3 values"),
                ("exercise_imagenet_bytes = 224 * 224 * 3 * 4", "That is one image"),
            ),
        ),
        "Exercise 2": Answers(
            right=(
                'exercise_label_of_7 = sorted(["10", "2", "7"]).index("7")',
                "exercise_label_of_7 = 2",
                'exercise_label_of_7 = {name: index for index, name in enumerate(sorted("2 7 10".split()))}["7"]',
            ),
            wrong=(
                ("exercise_label_of_7 = 1", "That is numeric order"),
                ("exercise_label_of_7 = 7", "That is the folder's name"),
                ('exercise_label_of_7 = "2"', WHOLE),
            ),
        ),
        "Exercise 3": Answers(
            right=(
                "exercise_last_batch = (flow64.samples - 1) % 30 + 1",
                "exercise_last_batch = flow64.samples - 30 * (len(range(0, flow64.samples, 30)) - 1)",
                "last_flow = ImageDataGenerator().flow_from_directory(train_dir, target_size=(8, 8), batch_size=30)\n"
                "exercise_last_batch = len(last_flow[len(last_flow) - 1][0])",
            ),
            wrong=(
                ("exercise_last_batch = 30", "The last batch is not padded"),
                ("exercise_last_batch = 0", "No image is dropped"),
                ("exercise_last_batch = math.ceil(flow64.samples / 30)", "That is the number of batches"),
                ("exercise_last_batch = flow64.samples / 30", WHOLE),
            ),
        ),
    },
    "02_augmentation.ipynb": {
        "Exercise 1": Answers(
            right=(
                "exercise_shear_range = 15.0",
                "exercise_shear_range = 30 / 2",
                "exercise_shear_range = np.int64(15)",
            ),
            wrong=(
                ("exercise_shear_range = 0.15", "shear_range is in degrees, not a fraction"),
                ("exercise_shear_range = 0.26", "15 degrees in radians"),
                ('exercise_shear_range = "15"', "expected a number, got a str"),
            ),
        ),
        "Exercise 2": Answers(
            right=(
                "exercise_shear_factor = math.tan(math.radians(15))",
                "exercise_shear_factor = 0.27",
                "exercise_shear_factor = float(np.tan(np.deg2rad(15)))",
            ),
            wrong=(
                ("exercise_shear_factor = round(math.sin(math.radians(15)), 3)", "That is the sine"),
                ("exercise_shear_factor = 15", "not degrees"),
                ("exercise_shear_factor = round(math.tan(15), 2)", "math.tan took 15 as radians"),
                ("exercise_shear_factor = round(math.radians(15), 3)", "That is the angle in radians"),
            ),
        ),
        "Exercise 3": Answers(
            right=(
                'exercise_safe_for_arrows = ["zoom_range", "vertical_flip", "shear_range"]',
                'exercise_safe_for_arrows = {"vertical_flip", "shear_range", "zoom_range"}',
                'exercise_safe_for_arrows = tuple(name for name in ("horizontal_flip", "vertical_flip", "zoom_range", '
                '"shear_range") if name != "horizontal_flip")',
            ),
            wrong=(
                ('exercise_safe_for_arrows = ("shear_range", "zoom_range")', "An up-down mirror keeps"),
                (
                    'exercise_safe_for_arrows = ["horizontal_flip", "vertical_flip", "zoom_range", "shear_range"]',
                    "A left-right mirror swaps the label",
                ),
                ('exercise_safe_for_arrows = "shear_range, vertical_flip, zoom_range"', "give the names as a tuple"),
            ),
        ),
    },
    "03_steps_per_epoch.ipynb": {
        "Exercise 1": Answers(
            right=(
                "exercise_validation_steps = lambda samples, batch_size: math.ceil(samples / batch_size)",
                "def exercise_validation_steps(samples, batch_size):\n    return (samples + batch_size -"
                " 1) // batch_size",
                "def exercise_validation_steps(samples, batch_size):\n    return int(np.ceil(samples / batch_size))",
            ),
            wrong=(
                (
                    "def exercise_validation_steps(samples, batch_size):\n    return samples // batch_size",
                    "That is floor",
                ),
                (
                    "def exercise_validation_steps(samples, batch_size):\n    return samples // batch_size + 1",
                    "a batch too many whenever the images divide evenly",
                ),
                (
                    "def exercise_validation_steps(samples, batch_size):\n    return samples / batch_size",
                    "not a whole number (an int)",
                ),
                ("exercise_validation_steps = validation_steps_for", "one of the kit's own functions"),
                ("exercise_validation_steps = steps_for", "one of the kit's own functions"),
            ),
        ),
        "Exercise 2": Answers(
            right=(
                "exercise_last_batch = 1050 % 100",
                "exercise_last_batch = 1050 - (math.ceil(1050 / 100) - 1) * 100",
                "exercise_last_batch = np.int64(1050 - 10 * 100)",
            ),
            wrong=(
                ("exercise_last_batch = 100", "The last batch is not padded"),
                ("exercise_last_batch = 0", "No image is dropped"),
                ("exercise_last_batch = math.ceil(1050 / 100)", "That is the number of batches"),
            ),
        ),
        "Exercise 3": Answers(
            right=(
                "exercise_distributed_steps = math.ceil(1000 / (32 * 4))",
                "exercise_distributed_steps = -(-1000 // 128)",
                "exercise_distributed_steps = len(range(0, 1000, 32 * 4))",
            ),
            wrong=(
                ("exercise_distributed_steps = steps_for(1000, 32)", "That counts per-replica batches"),
                ("exercise_distributed_steps = 1000 // (32 * 4)", "That is floor"),
                ("exercise_distributed_steps = 1000 / (32 * 4)", WHOLE),
            ),
        ),
    },
    "04_training.ipynb": {
        "Exercise 1": Answers(
            right=(
                "exercise_classic_steps = classic_audit.epochs[-1].steps",
                "exercise_classic_steps = max(record.steps for record in classic_audit.epochs)",
                "exercise_classic_steps = sum(record.steps for record in classic_audit.epochs) // EPOCHS",
            ),
            wrong=(
                ("exercise_classic_steps = 1000 // BATCH_SIZE", "That is floor, or the progress bar"),
                ("exercise_classic_steps = len(classic_audit.epochs)", "That is the number of epochs"),
                ("exercise_classic_steps = 1000 / BATCH_SIZE", WHOLE),
            ),
        ),
        "Exercise 2": Answers(
            right=(
                "exercise_early_stopping = keras.callbacks.EarlyStopping(\n"
                '    monitor="val_loss", patience=1, restore_best_weights=True, mode="min"\n)',
                "from keras.callbacks import EarlyStopping\n\n"
                "exercise_early_stopping = EarlyStopping(patience=1, restore_best_weights=True)  #"
                " val_loss: the default",
                'exercise_early_stopping = keras.callbacks.EarlyStopping("val_loss", 0, 1, restore_best_weights=True)',
            ),
            wrong=(
                (
                    'exercise_early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)',
                    "Without restore_best_weights",
                ),
                (
                    "exercise_early_stopping = keras.callbacks.EarlyStopping(\n"
                    '    monitor="val_accuracy", patience=1, restore_best_weights=True\n)',
                    "Watch the validation loss",
                ),
                (
                    "exercise_early_stopping = keras.callbacks.EarlyStopping(\n"
                    '    monitor="val_loss", patience=1, restore_best_weights=True, mode="max"\n)',
                    "A loss improves when it goes DOWN",
                ),
                ("exercise_early_stopping = keras.callbacks.EarlyStopping", "an instance, with parentheses"),
                (
                    'exercise_early_stopping = tf_keras.callbacks.EarlyStopping("val_loss", patience=1, '
                    "restore_best_weights=True)",
                    "tf_keras's belongs to Keras 2",
                ),
            ),
        ),
        "Exercise 3": Answers(
            right=(
                "exercise_best_loss = keras.saving.load_model(checkpoint_path).evaluate(test_dataset, verbose=0)[0]",
                "exercise_best_loss = round(\n"
                "    keras.models.load_model(str(checkpoint_path)).evaluate(test_dataset, verbose=0)[0], 3\n)",
                "exercise_best_loss = keras.saving.load_model(checkpoint_path).evaluate(\n"
                '    test_dataset, verbose=0, return_dict=True\n)["loss"]',
            ),
            wrong=(
                ("exercise_best_loss = modern_model.evaluate(test_dataset, verbose=0)[0]", "That is modern_model"),
                (
                    "best = keras.saving.load_model(checkpoint_path)\n"
                    "exercise_best_loss = best.evaluate(test_dataset, verbose=0)[1]",
                    "that is the accuracy",
                ),
                (
                    "best = keras.saving.load_model(checkpoint_path)\n"
                    "exercise_best_loss = best.evaluate(validation_dataset, verbose=0)[0]",
                    "the loss on the validation split",
                ),
            ),
        ),
    },
    "05_inference_pitfalls.ipynb": {
        "Exercise 1": Answers(
            right=(
                "exercise_mistake = min(\n"
                "    MYSTERY_MISTAKES, key=lambda name: abs(MYSTERY_MISTAKES[name](x_nearest[:32]) -"
                " mystery.batch).max()\n)",
                'exercise_mistake = "rescaled twice" if mystery.batch.max() < 0.01 else "no rescale"',
                'exercise_mistake = "Rescaled twice".lower()',
            ),
            wrong=(
                ('exercise_mistake = "no rescale"', "Without rescaling the values would reach 255"),
                ('exercise_mistake = "preprocess_input + rescale"', "some values would be below 0"),
                ('exercise_mistake = "rescale twice"', "not one of the possible answers"),
            ),
        ),
        "Exercise 2": Answers(
            right=(
                'exercise_label = predict_image(model, sorted((test_dir / "circle").glob("*.jpg"))[0], recipe)[0]',
                'circles = sorted(test_dir.joinpath("circle").iterdir())\n'
                "exercise_label, probability = predict_image(\n"
                '    exported, circles[0], {"class_names": recipe["class_names"]}\n)',
                'first = sorted((test_dir / "circle").glob("*.jpg"))[0]\n'
                "exercise_label = str(predict_image(model, first, recipe)[0])",
            ),
            wrong=(
                (
                    'exercise_label = predict_image(model, sorted((test_dir / "circle").glob("*.jpg"))[0], recipe)',
                    "expected a str, got a tuple",
                ),
                (
                    'exercise_label = predict_image(model, sorted((test_dir / "circle").glob("*.jpg"))[0], recipe)[1]',
                    "expected a str, got a number",
                ),
                (
                    'first = sorted((test_dir / "circle").glob("*.jpg"))[0]\n'
                    'exercise_label = predict_image(model, first, {**recipe, "class_names": ["square", "circle"]})[0]',
                    "Not what the model predicts for that file",
                ),
            ),
        ),
    },
    "06_fast_pipelines.ipynb": {
        "Exercise 1": Answers(
            right=(
                "exercise_cache_bytes = 1000 * 128 * 128 * 3 * 4",
                'import numpy as np\n\nexercise_cache_bytes = np.zeros((1000, 128, 128, 3), "float32").nbytes',
                "exercise_cache_bytes = dataset_memory(images=1000, height=128, width=128, channels=3)",
            ),
            wrong=(
                ("exercise_cache_bytes = 1000 * 128 * 128 * 3", "float32 values (4 bytes each)"),
                ("exercise_cache_bytes = 1000 * 64 * 64 * 3 * 4", "float32 values (4 bytes each)"),
                ("exercise_cache_bytes = 1000 * 128 * 128 * 4", "Each pixel has 3 values"),
                ("exercise_cache_bytes = 128 * 128 * 3 * 4", "That is one image"),
            ),
        ),
        "Exercise 2": Answers(
            right=(
                "import math\n\nexercise_batches = math.ceil(1000 / 48)",
                'exercise_batches = len(fast_dataset(shapes / "train", (128, 128), batch_size=48)[0])',
                'exercise_batches = fast_dataset(shapes / "train", (128, 128), batch_size=48)[0].cardinality()',
            ),
            wrong=(
                ("exercise_batches = 1000 // 48", "That is floor"),
                ("exercise_batches = 1000 - 20 * 48", "the number of images in the last batch"),
                ("exercise_batches = 1000 / 48", WHOLE),
            ),
        ),
        "Exercise 3": Answers(
            right=(
                "exercise_arrow_settings = dict(shear_range=20, zoom_range=0.2, rescale=1.0 / 255)",
                'exercise_arrow_settings = {"shear_range": 20.0, "zoom_range": [0.8, 1.2], "rescale": 1 / 255, '
                '"horizontal_flip": False}',
                'exercise_arrow_settings = {"rescale": 1 / 255, "zoom_range": (0.8, 1.2), "shear_range": 20}',
            ),
            wrong=(
                (
                    'exercise_arrow_settings = {"shear_range": 20, "zoom_range": 0.2, "rescale": 1 / 255, '
                    '"horizontal_flip": True}',
                    "horizontal_flip turns left arrows into right ones",
                ),
                (
                    'exercise_arrow_settings = {"shear_range": 0.2, "zoom_range": 0.2, "rescale": 1 / 255}',
                    "shear_range is in degrees",
                ),
                ('exercise_arrow_settings = {"shear_range": 20, "zoom_range": 0.2}', "The values do not span 0-1"),
                (
                    'exercise_arrow_settings = {"shear_range": 20, "zoom_range": 0.2, "rescale": 1 / 255, '
                    '"vertical_flip": True}',
                    "fast_dataset refused these settings",
                ),
            ),
        ),
    },
    "07_multi_worker.ipynb": {
        "Exercise 1": Answers(
            right=(
                "exercise_cluster_steps = len(range(0, 2500, 48 * 6))",
                "exercise_cluster_steps = -(-2500 // 288)",
                "exercise_cluster_steps = epoch_plan(2500, 48 * 2 * 3).steps_per_epoch",
            ),
            wrong=(
                ("exercise_cluster_steps = 2500 // (48 * 6)", "That is floor"),
                ("exercise_cluster_steps = steps_for(2500, 48)", "That counts per-replica batches"),
                ("exercise_cluster_steps = steps_for(2500, 48 * 3)", "That counts one replica per machine"),
            ),
        ),
        "Exercise 2": Answers(
            right=(
                "def exercise_share(names, workers, index):\n"
                "    return [name for position, name in enumerate(names) if position % workers == index]",
                "def exercise_share(names, workers, index):\n"
                "    return names[index * len(names) // workers : (index + 1) * len(names) // workers]",
                "def exercise_share(names, workers, index):\n"
                "    import numpy as np\n\n    return [str(name) for name in np.array_split(names, workers)[index]]",
            ),
            wrong=(
                ("def exercise_share(names, workers, index):\n    return names", "that is no sharding"),
                (
                    "def exercise_share(names, workers, index):\n"
                    "    size = len(names) // workers\n"
                    "    return names[index * size : (index + 1) * size]",
                    "went to no worker",
                ),
                (
                    "def exercise_share(names, workers, index):\n    return names[index : index +"
                    " len(names) // workers + 1]",
                    "went to more than one worker",
                ),
            ),
        ),
        "Exercise 3": Answers(
            right=(
                "exercise_steps_after_restart = 4 * 40",
                "exercise_steps_after_restart = sum(40 for epoch in range(7, 11))",
                "exercise_steps_after_restart = len(range(7, 11)) * 40",
            ),
            wrong=(
                ("exercise_steps_after_restart = 10 * 40", "without BackupAndRestore"),
                ("exercise_steps_after_restart = (10 - 7) * 40", "Epoch 7 never finished"),
                ("exercise_steps_after_restart = (10 - 7) * 40 + 40 - 12 + 1", "saved per epoch, not per step"),
                ("exercise_steps_after_restart = 10 - 6", "That counts epochs"),
            ),
        ),
    },
}
# The first wrong answer of each exercise: what tests/test_nbgrader.py hands in for its "wrong" student.
WRONG_ANSWERS = {
    lesson: {label: answers.wrong[0] for label, answers in by_label.items()} for lesson, by_label in ANSWERS.items()
}

TRIAL = "fitgen_trial"  # metadata key of the cells with_answer_trials() inserts


def _trial_cell(source: str, role: str, check: int, number: int) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, metadata={TRIAL: role})
    cell.id = f"trial-{check}-{number}"
    return cell


def with_answer_trials(original: nbformat.NotebookNode, student: nbformat.NotebookNode, name: str):
    """The student copy with, after each check cell: for each wrong answer the answer, the visible check and the
    hidden tests on their own; for each right answer the answer and the whole check cell (hidden tests included);
    then the lesson's solution and the check once more. Returns the notebook and the labels tried, in order."""
    trial = copy.deepcopy(student)
    labels = []
    for solution, check in reversed(solution_and_check_cells(original)):
        label = exercise_label(original.cells, solution)
        answers = ANSWERS[name][label]
        visible, hidden = split_hidden_tests(original.cells[check].source)
        steps = []
        for number, (code, _) in enumerate(answers.wrong):
            steps += [(code, f"{label}: wrong {number}"), (visible, f"{label}: wrong {number} check")]
            steps += [(hidden, f"{label}: wrong {number} hidden")]
        for number, code in enumerate(answers.right):
            steps += [
                (code, f"{label}: right {number}"),
                (original.cells[check].source, f"{label}: right {number} check"),
            ]
        steps += [(original.cells[solution].source, f"{label}: fix"), (visible, f"{label}: fixed-check")]
        added = [_trial_cell(source, role, check, number) for number, (source, role) in enumerate(steps)]
        trial.cells[check + 1 : check + 1] = added
        labels.append(label)
    return trial, labels[::-1]


def trial_problems(executed: nbformat.NotebookNode, labels: list[str], name: str) -> list[str]:
    """Each wrong answer must fail its check with its words (a NotYetError) and fail the hidden tests; each right
    answer must pass the whole check cell; the lesson's solution must pass after them all."""
    outcome = {
        cell.metadata[TRIAL]: [f"{out.ename}: {out.evalue}" for out in cell.outputs if out.output_type == "error"]
        for cell in executed.cells
        if TRIAL in cell.metadata
    }
    problems = []
    for label in labels:
        answers = ANSWERS[name][label]
        for number, (code, words) in enumerate(answers.wrong):
            role = f"{label}: wrong {number}"
            got = outcome[f"{role} check"]
            if outcome[role] or len(got) != 1 or not got[0].startswith("NotYetError: ") or words not in got[0]:
                problems.append(f"{name}, {role} ({code!r}): the check should say {words!r}, got {got or 'no error'}")
            if not outcome[f"{role} hidden"]:
                problems.append(f"{name}, {role} ({code!r}): the hidden tests passed a wrong answer")
        for number, code in enumerate(answers.right):
            role = f"{label}: right {number}"
            if outcome[role] or outcome[f"{role} check"]:
                problems.append(
                    f"{name}, {role} ({code!r}): should pass, got {outcome[role] + outcome[f'{role} check']}"
                )
        if outcome[f"{label}: fix"] or outcome[f"{label}: fixed-check"]:
            problems.append(
                f"{name}, {label}: the lesson's solution should pass again, got {outcome[f'{label}: fixed-check']}"
            )
    return problems


def bound_names(source: str) -> set[str]:
    """Names a cell's code binds at any level (assignments, imports, definitions, loop and with targets,
    parameters), so that a snippet's own helpers and lambdas count as defined. IPython magics are skipped."""
    code = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
    names: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def unbound_names(code: str, available: set[str]) -> set[str]:
    """Names an answer reads that neither it, nor ``available``, nor Python's builtins define: what a student's
    answer cell would fail on where nbgrader runs it (before the exercise's check cell defines anything)."""
    read = {
        node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    return read - bound_names(code) - available - set(dir(builtins))
