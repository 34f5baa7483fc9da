"""A typical wrong answer for every exercise, and the words its check must answer with.

tests/test_student.py runs each lesson's student copy and, after each check cell's "not answered yet",
sets the wrong answer and runs the check again (it must fail with the words below), then the lesson's own
solution and the check once more (it must pass: a check can be run again after a fix). A lesson that gains
an exercise must gain an entry here; a test says so.
"""

from __future__ import annotations

import copy

import nbformat

from classroom.make_student import exercise_label, solution_and_check_cells, without_hidden_tests

# lesson -> exercise label -> (code a student might write, words the check's message must contain)
WRONG_ANSWERS: dict[str, dict[str, tuple[str, str]]] = {
    "00_start_here.ipynb": {
        "Exercise 0": ('validation_squares = read_manifest(shapes)["counts"]["train"]["square"]', "counts -> val"),
    },
    "01_data_generators.ipynb": {
        "Exercise 1": ("exercise_imagenet_bytes = 1_281_167 * 224 * 224 * 3", "one byte a value (uint8)"),
        "Exercise 2": ("exercise_label_of_7 = 1", "That is numeric order"),
        "Exercise 3": ("exercise_last_batch = 48", "The last batch is not padded"),
    },
    "02_augmentation.ipynb": {
        "Exercise 1": ("exercise_shear_range = 0.15", "shear_range is in degrees, not a fraction"),
        "Exercise 2": ("exercise_shear_factor = round(math.sin(math.radians(15)), 3)", "That is the sine"),
        "Exercise 3": ('exercise_safe_for_arrows = ("shear_range", "zoom_range")', "An up-down mirror keeps"),
    },
    "03_steps_per_epoch.ipynb": {
        "Exercise 1": (
            "def exercise_validation_steps(samples, batch_size):\n    return samples // batch_size + 1",
            "a batch too many whenever the images divide evenly",
        ),
        "Exercise 2": ("exercise_last_batch = 100", "The last batch is not padded"),
        "Exercise 3": ("exercise_distributed_steps = steps_for(1000, 32)", "That counts per-replica batches"),
    },
    "04_training.ipynb": {
        "Exercise 1": ("exercise_classic_steps = 1000 // BATCH_SIZE", "That is floor: the last 8 images"),
        "Exercise 2": (
            'exercise_early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)',
            "Without restore_best_weights",
        ),
        "Exercise 3": (
            "exercise_best_accuracy = round(keras.saving.load_model(checkpoint_path)"
            ".evaluate(validation_dataset, verbose=0)[0], 3)",
            "returns [loss, accuracy]",
        ),
    },
    "05_inference_pitfalls.ipynb": {
        "Exercise 1": (
            'exercise_mistake = "no rescale" if mystery.batch.max() <= 1.5 else "rescaled twice"',
            "look at the value range",
        ),
        "Exercise 2": ('exercise_label = "square"', "returns (class name, probability)"),
    },
    "06_fast_pipelines.ipynb": {
        "Exercise 1": ("exercise_cache_bytes = 1000 * 128 * 128 * 3", "float32 values (4 bytes each)"),
        "Exercise 2": ("exercise_batches = 20", "That is floor"),
        "Exercise 3": (
            'exercise_arrow_settings = {"shear_range": 20, "zoom_range": 0.2, "rescale": 1 / 255, '
            '"horizontal_flip": True}',
            "horizontal_flip turns left arrows into right ones",
        ),
    },
    "07_multi_worker.ipynb": {
        "Exercise 1": ("exercise_cluster_steps = 2500 // (48 * 6)", "That is floor"),
        "Exercise 2": ("def exercise_share(names, workers, index):\n    return names", "that is no sharding"),
        "Exercise 3": ("exercise_steps_after_restart = 10 * 40", "without BackupAndRestore"),
    },
}

TRIAL = "fitgen_trial"  # metadata key of the cells with_answer_trials() inserts


def with_answer_trials(original: nbformat.NotebookNode, student: nbformat.NotebookNode, name: str):
    """The student copy with, after each check cell: the typical wrong answer, the check again, the lesson's
    solution, the check again. Returns the notebook and, per exercise, (label, words the wrong check must say)."""
    trial = copy.deepcopy(student)
    trials = []
    for solution, check in reversed(solution_and_check_cells(original)):
        label = exercise_label(original.cells, solution)
        wrong_code, words = WRONG_ANSWERS[name][label]
        added = []
        check_source = without_hidden_tests(original.cells[check].source)
        for role, source in (
            ("wrong", wrong_code),
            ("wrong-check", check_source),
            ("fix", original.cells[solution].source),
            ("fixed-check", check_source),
        ):
            cell = nbformat.v4.new_code_cell(source, metadata={TRIAL: f"{label}: {role}"})
            cell.id = f"trial-{check}-{role}"
            added.append(cell)
        trial.cells[check + 1 : check + 1] = added
        trials.append((label, words))
    return trial, trials[::-1]


def trial_problems(executed: nbformat.NotebookNode, trials: list[tuple[str, str]], name: str) -> list[str]:
    """Each wrong answer must get a NotYetError with its words; each fixed answer must pass its check."""
    outcome = {
        cell.metadata[TRIAL]: [out for out in cell.outputs if out.output_type == "error"]
        for cell in executed.cells
        if TRIAL in cell.metadata
    }
    problems = []
    for label, words in trials:
        wrong, fixed = outcome[f"{label}: wrong-check"], outcome[f"{label}: fixed-check"]
        if [out.ename for out in wrong] != ["NotYetError"] or words not in wrong[0].evalue:
            got = [f"{out.ename}: {out.evalue}" for out in wrong] or "no error"
            problems.append(f"{name}, {label}: the wrong answer should give NotYetError saying {words!r}, got {got}")
        if fixed or outcome[f"{label}: wrong"] or outcome[f"{label}: fix"]:
            problems.append(f"{name}, {label}: after the fix the check should pass, got {fixed}")
    return problems
