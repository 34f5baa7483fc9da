"""Exercise checks, plotting helpers and the kit's CNN."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers.checks import Judged, NotYetError, Sealed, check_equal, grade_hidden, require_answer, seal
from helpers.images import ImageFolderError
from helpers.plots import history_table, plot_history, show_samples


def test_check_equal_accepts_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_equal("Exercise 0", 100, 100, hint="h") is None
    assert capsys.readouterr().out == "Exercise 0: correct (100).\n"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "not answered yet"),
        (..., "not answered yet"),
        (99, "99 is not right yet. Look"),
        ("100", "expected a number, got a str"),
        (True, "expected a number, got a bool"),
    ],
)
def test_check_equal_rejects_without_revealing(answer: object, message: str) -> None:
    with pytest.raises(NotYetError, match=message) as error:
        check_equal("Exercise 0", answer, 100, hint="Look in the manifest.")
    assert "100" not in str(error.value).replace("'100'", "")  # the expected value is never shown


def test_check_equal_compares_numpy_numbers_by_value(capsys: pytest.CaptureFixture[str]) -> None:
    check_equal("Exercise 0", np.int64(100), 100, hint="h")
    assert capsys.readouterr().out == "Exercise 0: correct (100).\n"  # shown as the plain number it is


def test_check_equal_gives_specific_feedback_for_known_mistakes() -> None:
    mistakes = {15: "With floor, the last 40 images are never seen.", 15.625: "Keras 3 needs a whole number."}
    with pytest.raises(NotYetError, match="15 is not right yet. With floor, the last 40"):
        check_equal("Exercise 1", 15, 16, hint="generic", mistakes=mistakes)
    with pytest.raises(NotYetError, match="Keras 3 needs a whole number"):
        check_equal("Exercise 1", 15.625, 16, hint="generic", mistakes=mistakes)
    with pytest.raises(NotYetError, match="14 is not right yet. generic"):
        check_equal("Exercise 1", 14, 16, hint="generic", mistakes=mistakes)


@pytest.mark.parametrize("answer", [16, 16.0, np.int64(16), np.float32(16), np.array(16)])
def test_a_sealed_answer_passes_however_the_number_is_written(answer: object, capsys: pytest.CaptureFixture) -> None:
    check_equal("Exercise 3", answer, seal("Exercise 3", 16), hint="h")
    assert capsys.readouterr().out.startswith("Exercise 3: correct")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (15, "15 is not right yet. That is floor"),
        (17, "17 is not right yet. Round up"),
        ("16", "expected a number, got a str"),
        (True, "expected a number, got a bool"),
        (..., "not answered yet"),
    ],
)
def test_a_sealed_answer_rejects_wrong_ones_with_their_message(answer: object, message: str) -> None:
    with pytest.raises(NotYetError, match=message):
        check_equal("Exercise 3", answer, seal("Exercise 3", 16), hint="Round up.", mistakes={15: "That is floor."})


@pytest.mark.parametrize("answer", [8.0, np.float64(8.0), np.float32(8), 7.8125, "8", True])
def test_a_count_refuses_floats_even_whole_ones(answer: object) -> None:
    with pytest.raises(NotYetError, match="expected a whole number \\(an int\\)"):
        check_equal("Exercise 3", answer, seal("Exercise 3", 8, whole=True), hint="h")
    with pytest.raises(NotYetError, match="expected a whole number"):
        check_equal("Exercise 3", answer, 8, hint="h", whole=True)


def test_a_count_accepts_ints_however_they_are_made(capsys: pytest.CaptureFixture[str]) -> None:
    for answer in (8, np.int64(8), np.array(8), math.ceil(1000 / 128), -(-1000 // 128), int(np.ceil(1000 / 128))):
        check_equal("Exercise 3", answer, seal("Exercise 3", 8, whole=True), hint="h")
    assert capsys.readouterr().out.count("correct (8)") == 6


def test_check_rule_names_a_rule_that_returns_floats() -> None:
    from helpers.checks import check_rule

    with pytest.raises(NotYetError, match=r"for \(200, 40\) it returns 5.0, not a whole number"):
        check_rule(
            "Exercise 1", lambda samples, batch: float(np.ceil(samples / batch)), {(200, 40): 5, (201, 40): 6}, "h"
        )


class Liar(int):
    """An int that claims to equal everything (a student's trick)."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


def test_grade_hidden_compares_as_the_built_in_types_do(capsys: pytest.CaptureFixture[str]) -> None:
    """Whatever the visible check accepts passes (15.0 for 15: the visible check decides where a count must be an
    int); an object whose own == claims equality does not."""
    grade_hidden("Exercise 3", [5, np.int64(6), 1], [5, 6, 1])
    grade_hidden("Exercise 1", 15.0, 15)
    grade_hidden("Exercise 1", np.str_("rescaled twice"), "rescaled twice")
    assert capsys.readouterr().out == ""
    for wrong, expected in ((Liar(3), 8), (7, 8), ("8", 8), ((1, 2), (1, 2, 3)), (1, True), ("a", ("a",))):
        with pytest.raises(NotYetError, match="hidden test did not pass"):
            grade_hidden("Exercise 3", wrong, expected)


def test_a_seal_hides_the_value_and_belongs_to_one_exercise() -> None:
    sealed = seal("Exercise 3", 16)
    assert sealed == Sealed("number", sealed.digest) and "16" not in repr(sealed)
    assert seal("Exercise 2", 16) != sealed and seal("Exercise 3", (1, "a")).kind == "tuple"
    assert seal("Exercise 3", [1, "a"]) == seal("Exercise 3", (1, "a"))


def test_a_judged_answer_is_right_by_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    slant = Judged(lambda factor: math.degrees(math.atan(factor)), target=15, tolerance=0.25)
    for right in (0.27, 0.268, np.float64(0.2679), math.tan(math.radians(15))):
        check_equal("Exercise 2", right, slant, hint="h")
    assert capsys.readouterr().out.count("correct") == 4
    for wrong, words in ((0.26, "the sine"), (15, "not degrees"), (0.3, "h"), ("0.27", "expected a number")):
        with pytest.raises(NotYetError, match=words):
            check_equal("Exercise 2", wrong, slant, hint="h", mistakes={0.26: "the sine", 15: "not degrees"})


def test_grade_hidden_is_silent_when_right_and_one_line_when_not(capsys: pytest.CaptureFixture[str]) -> None:
    grade_hidden("Exercise 1", np.int64(63), 63)
    grade_hidden("Exercise 1", 0.2679, 0.268, 0.005)
    grade_hidden("Exercise 1", ["a", "b"], ("a", "b"))
    assert capsys.readouterr().out == ""
    for wrong, expected in ((62, 63), (True, 1), (0.26, 0.268), ("63", 63)):
        with pytest.raises(NotYetError, match="Exercise 1: the grader's hidden test did not pass"):
            grade_hidden("Exercise 1", wrong, expected, 0.005 if isinstance(expected, float) else 0.0)


def test_require_answer_stops_at_the_placeholder() -> None:
    assert require_answer("Exercise 1", 15) == 15
    for placeholder in (..., None):
        with pytest.raises(NotYetError, match="Exercise 1: not answered yet"):
            require_answer("Exercise 1", placeholder)


def test_not_yet_error_shows_as_one_line_in_jupyter() -> None:
    assert NotYetError("Exercise 1: 15 is not right yet.")._render_traceback_() == [
        "Not yet: Exercise 1: 15 is not right yet."
    ]


def test_show_samples_returns_what_it_drew(tiny_dataset: Path) -> None:
    shown = show_samples(tiny_dataset / "train", per_class=3, target_size=(24, 24))
    assert shown == {name: [f"{name}_{i:04d}.jpg" for i in range(3)] for name in ("circle", "square")}
    figure = plt.gcf()
    assert figure._suptitle.get_text() == "First 3 images per class in train/"
    plt.close("all")


def test_show_samples_bad_input(tmp_path: Path, tiny_dataset: Path) -> None:
    with pytest.raises(ValueError, match="per_class must be at least 1"):
        show_samples(tiny_dataset / "train", per_class=0)
    with pytest.raises(ImageFolderError, match="is not a folder"):
        show_samples(tmp_path / "missing")


def test_plot_history_rows_labels_and_table() -> None:
    history = {"loss": [0.7, 0.31234], "val_loss": [0.8, 0.4], "accuracy": [0.5, 0.91234], "val_accuracy": [0.45, 0.9]}
    rows = plot_history(history, "t")
    assert rows[1] == {"epoch": 2, "loss": 0.312, "val_loss": 0.4, "accuracy": 0.912, "val_accuracy": 0.9}
    axes = plt.gcf().axes
    assert [(a.get_title(), a.get_xlabel(), a.get_ylabel()) for a in axes] == [
        ("t: loss", "epoch", "loss"),
        ("t: accuracy", "epoch", "accuracy"),
    ]
    plt.close("all")
    table = history_table(rows).splitlines()
    assert table[0].split() == ["epoch", "loss", "val_loss", "accuracy", "val_accuracy"]
    assert table[2].split() == ["2", "0.312", "0.400", "0.912", "0.900"]


def test_plot_history_bad_input() -> None:
    with pytest.raises(ValueError, match="neither 'loss' nor 'accuracy'"):
        plot_history({"auc": [0.5]}, "t")
    with pytest.raises(ValueError, match="one value per epoch"):
        plot_history({"loss": [0.5, 0.4], "val_loss": [0.5]}, "t")


def test_small_cnn_shape_and_quick_train() -> None:
    from helpers.models import quick_train, small_cnn
    from helpers.runtime import set_seeds

    model = small_cnn(32)
    assert model.output_shape == (None, 1) and model.layers[-1].activation.__name__ == "sigmoid"
    set_seeds(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(16, 32, 32, 3), dtype=np.uint8)
    y = (np.arange(16) % 2).astype("float32")
    result = quick_train((x, y), (x, y), epochs=2, batch_size=8)
    assert len(result.train_accuracy) == len(result.val_accuracy) == 2
    assert 0.0 <= result.final_val_accuracy <= 1.0 and result.seconds > 0
    with pytest.raises(ValueError, match="epochs and batch_size must be at least 1"):
        quick_train((x, y), (x, y), epochs=0)
    with pytest.raises(ValueError, match=r"uint8 RGB pixels 0-255.*rescales them itself"):
        quick_train((x / 255.0, y), (x, y))
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        quick_train((x, y + 1), (x, y))
    assert small_cnn((32, 48)).input_shape == (None, 32, 48, 3)


def test_numpy_and_tensorflow_scalars_count_as_numbers(capsys: pytest.CaptureFixture) -> None:
    from helpers.checks import as_scalar
    from helpers.runtime import quiet_import

    tf = quiet_import("tensorflow")
    for answer in (
        np.int64(18),
        np.array(18),
        np.float32(18.0),
        tf.constant(18),
        tf.data.Dataset.range(18).cardinality(),
    ):
        check_equal("Exercise", answer, 18, hint="look again")
        assert capsys.readouterr().out in ("Exercise: correct (18).\n", "Exercise: correct.\n")  # a float: no echo
    assert as_scalar([18]) == [18] and as_scalar("18") == "18"
    check_equal("Exercise", 0.9512, 0.951, hint="look again", tolerance=0.001)  # within the stated tolerance
    with pytest.raises(NotYetError, match="0.953 is not right yet"):
        check_equal("Exercise", 0.953, 0.951, hint="look again", tolerance=0.001)
    with pytest.raises(NotYetError, match="expected a number, got a list"):
        check_equal("Exercise", [18], 18, hint="look again")
    # a typical wrong float is recognised within the same tolerance as the right one, and only within it
    mistakes = {0.4213: "That is the other model."}
    with pytest.raises(NotYetError, match="That is the other model"):
        check_equal("Exercise", 0.421, 0.951, hint="look again", mistakes=mistakes, tolerance=0.001)
    with pytest.raises(NotYetError, match="look again"):
        check_equal("Exercise", 0.419, 0.951, hint="look again", mistakes=mistakes, tolerance=0.001)


def test_names_answer_takes_collections_of_names_only() -> None:
    from helpers.checks import names_answer

    assert names_answer("Exercise 3", ["zoom_range", "shear_range"]) == ("shear_range", "zoom_range")
    assert names_answer("Exercise 3", {"vertical_flip"}) == ("vertical_flip",)
    for wrong, words in (
        ("shear_range", "got a str"),
        (["zoom_range", 2], "every name should be a string"),
        (..., "not answered"),
    ):
        with pytest.raises(NotYetError, match=words):
            names_answer("Exercise 3", wrong)


def test_check_rule_accepts_right_rules_written_other_ways(capsys: pytest.CaptureFixture) -> None:
    import math

    from helpers.checks import check_rule

    cases = {(200, 64): 4, (200, 40): 5, (100, 64): 2, (7, 7): 1, (1, 64): 1}
    for rule in (
        lambda s, b: math.ceil(s / b),
        lambda s, b: -(-s // b),
        lambda s, b: (s + b - 1) // b,
        lambda s, b: np.int64(np.ceil(s / b)),
    ):
        check_rule("Exercise 1", rule, cases, hint="h")
        assert capsys.readouterr().out == "Exercise 1: correct (right for all 5 cases).\n"


def test_check_rule_names_typical_wrong_rules() -> None:
    from helpers.checks import check_rule

    cases = {(200, 64): 4, (200, 40): 5, (100, 64): 2, (7, 7): 1, (1, 64): 1}
    wrong_rules = {"floor": lambda s, b: s // b, "plus one": lambda s, b: s // b + 1, "float": lambda s, b: s / b}
    for rule, words in (
        (lambda s, b: s // b, "floor"),
        (lambda s, b: s // b + 1, "plus one"),
        (lambda s, b: s / b, "float"),
        (lambda s, b: round(s / b), r"for \(200, 64\) it returns 3, which is not right yet\. h"),
        (lambda s, b: undefined_name, "raised NameError"),  # noqa: F821
        (lambda s: s, "raised TypeError"),
        (4, "expected a function"),
        (..., "not answered yet"),
    ):
        with pytest.raises(NotYetError, match=words):
            check_rule("Exercise 1", rule, cases, hint="h", wrong_rules=wrong_rules)
