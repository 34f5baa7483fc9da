"""Score one trained model on the same test images prepared in different (mostly wrong) ways.

Each row reports accuracy AND confidence: a mistake can keep the accuracy and still ruin the
probabilities, and the table should show which.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SATURATED_LOW, SATURATED_HIGH = 0.001, 0.999


@dataclass(frozen=True)
class Outcome:
    """One way of preparing the test images, and what the model made of it."""

    preparation: str
    mistake: str
    accuracy: float | None
    mean_confidence: float | None
    saturated: float | None
    pixel_range: str
    error: str | None = None


def score(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """(accuracy, mean probability of the chosen class, share of probabilities below 0.001 or above 0.999)."""
    probabilities = np.asarray(probabilities, dtype=float).ravel()
    labels = np.asarray(labels).ravel()
    if len(probabilities) != len(labels):
        raise ValueError(f"{len(probabilities)} predictions for {len(labels)} labels")
    chosen = probabilities > 0.5
    accuracy = float(np.mean(chosen == (labels > 0.5)))
    confidence = float(np.mean(np.where(chosen, probabilities, 1.0 - probabilities)))
    saturated = float(np.mean((probabilities < SATURATED_LOW) | (probabilities > SATURATED_HIGH)))
    return accuracy, confidence, saturated


def try_preparation(
    preparation: str, mistake: str, predict: Callable[[], np.ndarray], labels: np.ndarray, pixels: np.ndarray | None
) -> Outcome:
    """Run ``predict`` and score it; an exception becomes a row with its first line as the outcome."""
    pixel_range = "" if pixels is None else f"{float(np.min(pixels)):.3g}..{float(np.max(pixels)):.3g}"
    try:
        return Outcome(preparation, mistake, *score(predict(), labels), pixel_range)
    except Exception as error:  # noqa: BLE001 (a failing preparation is a result to report, not a crash)
        return Outcome(preparation, mistake, None, None, None, pixel_range, f"{type(error).__name__}: {gist(error)}")


def gist(error: Exception, width: int = 90) -> str:
    """The informative part of an exception message: Keras wraps the real reason in several lines."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    lines = [line for line in lines if line]
    informative = [line for line in lines if not line.startswith(("Exception encountered", "Arguments received", "•"))]
    fallback = (informative or lines or [""])[0]
    reason = next((line for line in informative if re.search(r"\b[Ee]xpected\b", line)), fallback)
    reason = reason[reason.index("Expected") :] if "Expected" in reason else reason
    return reason if len(reason) <= width else reason[: width - 3] + "..."


def outcome_table(outcomes: list[Outcome]) -> str:
    """The outcomes as a fixed-width table, rounded (accuracy and confidence to 3 places, shares in %)."""
    lines = [
        f"{'preparation':<30}{'accuracy':>9}{'confidence':>11}{'saturated':>10}  {'pixels':<19}mistake, or the error"
    ]
    for outcome in outcomes:
        if outcome.error:
            numbers = f"{'-':>9}{'-':>11}{'-':>10}"
        else:
            numbers = f"{outcome.accuracy:>9.3f}{outcome.mean_confidence:>11.3f}{outcome.saturated:>9.0%} "
        lines.append(f"{outcome.preparation:<30}{numbers}  {outcome.pixel_range:<19}{outcome.error or outcome.mistake}")
    return "\n".join(lines)


MYSTERY_MISTAKES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "no rescale": lambda pixels: pixels.astype("float32"),
    "rescaled twice": lambda pixels: pixels.astype("float32") / 255 / 255,
    "preprocess_input + rescale": lambda pixels: (pixels.astype("float32") / 127.5 - 1.0) / 255,
}


# What each mistake does to the values, said when it is guessed wrongly (it rules that one out, no more).
MYSTERY_SIGNS = {
    "no rescale": "Without rescaling the values would reach 255: compare with mystery.batch.max().",
    "rescaled twice": "Rescaled twice, every value would be below 1/255 (0.004): compare with mystery.batch.max().",
    "preprocess_input + rescale": "preprocess_input maps pixels to -1..1, so some values would be below 0: "
    "compare with mystery.batch.min().",
}


class Mystery:
    """A batch prepared with one hidden mistake from :data:`MYSTERY_MISTAKES`; ``check`` grades a guess."""

    def __init__(self, pixels: np.ndarray, seed: int) -> None:
        if np.asarray(pixels).dtype != np.uint8:
            raise ValueError(f"Mystery needs raw uint8 pixels (0-255), got {np.asarray(pixels).dtype}.")
        names = sorted(MYSTERY_MISTAKES)
        self._mistake = names[np.random.default_rng(seed).integers(len(names))]
        self.batch = MYSTERY_MISTAKES[self._mistake](np.asarray(pixels))

    def is_the_mistake(self, guess: object) -> bool:
        """Whether ``guess`` names the hidden mistake: what nbgrader's hidden test asks (no feedback, no answer)."""
        return isinstance(guess, str) and str.__eq__(guess, self._mistake) is True  # as str compares, not the guess

    def check(self, guess: str | None, exercise: str = "Exercise 1") -> None:
        """Friendly feedback on ``guess`` (one of the keys of MYSTERY_MISTAKES), without the answer."""
        from helpers.checks import NotYetError, check_equal

        choices = f"choose from {sorted(MYSTERY_MISTAKES)}."
        if isinstance(guess, str) and guess not in MYSTERY_MISTAKES:
            raise NotYetError(f"{exercise}: {guess!r} is not one of the possible answers; {choices}")
        hint = f"Run check_preprocessing(model, mystery.batch) and look at the value range; {choices}"
        check_equal(exercise, guess, self._mistake, hint=hint, mistakes=MYSTERY_SIGNS)
