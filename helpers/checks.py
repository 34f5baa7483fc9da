"""Check functions for exercise cells: friendly, specific feedback instead of a bare AssertionError."""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass


class NotYetError(Exception):
    """Raised by a check when an exercise is not solved yet; the message says what to look at.

    In Jupyter it shows as one line, not a traceback (IPython calls ``_render_traceback_``).
    """

    def _render_traceback_(self) -> list[str]:
        return [f"Not yet: {self}"]


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def kind_of(value: object) -> str:
    """What a value is, for messages: "a number", "a str", "an EagerTensor"."""
    return _kind_name("number" if _is_number(value) else type(value).__name__)


def _kind_name(name: str) -> str:
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


WHOLE = "whole number"
WHOLE_REASON = "Keras 3 refuses a float where it expects a count, 8.0 included (math.ceil and // give ints)."


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_whole(exercise: str, answer: object) -> None:
    """Refuse a float (even 8.0) where a count is expected: Keras 3 refuses float steps, and so does the lesson."""
    if not _is_whole(answer):
        raise NotYetError(
            f"{exercise}: expected a whole number (an int), got {kind_of(answer)} ({answer!r}). Counts of images, "
            f"batches and steps are ints: {WHOLE_REASON}"
        )


def as_scalar(value: object) -> object:
    """A NumPy scalar, 0-d array or TensorFlow scalar tensor as the plain Python number it holds; else ``value``.

    ``np.int64(18)``, ``np.array(18)`` and ``tf.constant(18)`` (e.g. ``dataset.cardinality()``) are all 18.
    """
    if getattr(value, "shape", None) == () and hasattr(value, "numpy") and not isinstance(value, numbers.Number):
        value = value.numpy()  # a TensorFlow scalar
    if getattr(value, "shape", None) == () and hasattr(value, "item"):
        return value.item()  # a NumPy scalar or 0-d array
    return value


def _canonical(value: object) -> object:
    """The form an answer is sealed in: scalars as plain Python, whole floats as ints, sequences as tuples."""
    value = as_scalar(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, tuple | list):
        return tuple(_canonical(part) for part in value)
    return value


@dataclass(frozen=True)
class Sealed:
    """An expected answer kept as a digest, so a check cell can say "correct" without containing the answer.

    ``kind`` is what the answer is ("number", "whole number", "tuple", "str"); ``digest`` comes from :func:`seal`.
    A "whole number" refuses floats (8.0 included), as Keras 3 refuses float steps. A digest of a
    small number can be found by trying numbers: it keeps the answer out of sight, it is not a secret.
    """

    kind: str
    digest: str

    def matches(self, exercise: str, answer: object) -> bool:
        return seal(exercise, answer).digest == self.digest


@dataclass(frozen=True)
class Judged:
    """An expected answer given by what it does: right when ``measure(answer)`` is within ``tolerance`` of ``target``.

    For a float whose formula is the exercise: 02's shear factor is judged by the slant it gives (``atan``).
    """

    measure: Callable[[float], float]
    target: float
    tolerance: float
    kind: str = "number"

    def matches(self, exercise: str, answer: object) -> bool:
        try:
            return abs(self.measure(answer) - self.target) <= self.tolerance
        except (TypeError, ValueError, OverflowError):
            return False


def seal(exercise: str, value: object, whole: bool = False) -> Sealed:
    """The sealed form of ``value`` for ``exercise`` (what a lesson author pastes into a check cell).

    ``whole=True`` seals a count: the check then refuses any float answer, 8.0 included.
    """
    value = _canonical(value)
    text = f"fitgen-kit|{exercise}|{value!r}".encode()
    kind = WHOLE if whole else "number" if _is_number(value) else type(value).__name__
    return Sealed(kind, hashlib.sha256(text).hexdigest()[:20])


def _strictly_equal(answer: object, expected: object, tolerance: float) -> bool:
    """Equal by value, compared the way the built-in types compare (``int.__eq__``, ``str.__eq__``), so an object
    whose own ``==`` claims equality does not pass; 15.0 equals 15 (the visible check decides where a count must
    be an int), NumPy and TensorFlow scalars count as the numbers they hold, lists and tuples part by part."""
    answer = as_scalar(answer)
    if type(expected) is bool or type(answer) is bool:
        return type(answer) is type(expected) and answer is expected
    if isinstance(expected, int | float):
        if not isinstance(answer, int | float):
            return False
        plain = int.__int__(answer) if isinstance(answer, int) else float.__float__(answer)
        return abs(plain - expected) <= tolerance
    if isinstance(expected, str):
        return isinstance(answer, str) and str.__eq__(answer, expected) is True
    if isinstance(expected, tuple | list):
        return (
            type(answer) in (tuple, list)
            and len(answer) == len(expected)
            and all(_strictly_equal(part, want, tolerance) for part, want in zip(answer, expected, strict=True))
        )
    return False


def grade_hidden(exercise: str, answer: object, expected: object, tolerance: float = 0.0) -> None:
    """The grader's own test (inside nbgrader's hidden tests): silent when right, one clear line when not.

    It compares as the built-in types do (see ``_strictly_equal``), so an object that only claims to be equal does
    not pass; it accepts at least every answer the visible check accepts.
    """
    try:
        right = _strictly_equal(answer, expected, tolerance)
    except Exception:  # noqa: BLE001 - whatever the answer does when compared, it is not right
        right = False
    if not right:
        raise NotYetError(f"{exercise}: the grader's hidden test did not pass (the visible check above says why).")


def grade_hidden_result(exercise: str, compute: Callable[[], object], expected: object) -> None:
    """``grade_hidden`` on what ``compute()`` returns (a student's function called on new inputs); an error in the
    student's code fails the test in one line, so the feedback page shows no hidden code in a traceback."""
    try:
        result = compute()
    except Exception:  # noqa: BLE001 - any error in student code fails the hidden test
        raise NotYetError(f"{exercise}: the grader's hidden test did not pass (your code raised an error).") from None
    grade_hidden(exercise, result, expected)


def require_answer(exercise: str, answer: object) -> object:
    """The answer itself, or "not answered yet" while it is still the placeholder (``...`` or None).

    Check cells that measure something FROM the answer call this first, so that a student copy's
    placeholder gives the friendly message instead of an error from deep inside a helper.
    """
    if answer is None or answer is Ellipsis:
        raise NotYetError(f"{exercise}: not answered yet. Replace the placeholder and run the cell again.")
    return answer


def _same_kind(answer: object, other: object) -> bool:
    """Both numbers (``np.int64`` and ``int`` alike, never bool), or of the very same type."""
    return _is_number(answer) and _is_number(other) or type(answer) is type(other)


def _same(answer: object, wrong: object) -> bool:
    """Equal in kind and value (so ``15.625`` matches ``15.625`` but ``True`` never matches ``1``)."""
    return bool(_same_kind(answer, wrong) and answer == wrong)


def _near(answer: object, wrong: object, tolerance: float) -> bool:
    """A typical wrong answer matched as the right one is: the same, or both numbers within ``tolerance``."""
    return (
        _same(answer, wrong)
        or bool(tolerance and _is_number(answer) and _is_number(wrong))
        and abs(answer - wrong) <= tolerance
    )


def check_equal(
    exercise: str,
    answer: object,
    expected: object,
    hint: str,
    mistakes: Mapping[object, str] | None = None,
    tolerance: float = 0.0,
    whole: bool = False,
) -> None:
    """Compare a student's answer with the expected one; print a friendly message or raise one.

    Numbers compare by value (``np.int64(100)`` equals ``100``), within ``tolerance`` when one is given (the
    exercise then states it); a :class:`Sealed` ``expected`` compares by digest, a :class:`Judged` one by what the
    answer does. A float answer is not echoed: its last digits depend on the CPU. ``hint`` says where to look; the
    expected value is never shown. ``mistakes`` maps typical wrong answers to specific feedback (e.g.
    ``{15: "with floor, the last 40 images are never seen"}``; numbers match within ``tolerance``), used instead of
    the hint. ``whole=True`` (or a sealed whole number) refuses any float, 8.0 included: a count of steps is an
    int for Keras 3.
    Returns nothing, so the check cell shows only the printed line (a trailing ``;`` does not hide
    a result under nbval, whose kernel keeps no input history).
    """
    answer = as_scalar(require_answer(exercise, answer))
    sealed = expected if isinstance(expected, Sealed | Judged) else None
    if whole or (sealed and sealed.kind == WHOLE):
        _require_whole(exercise, answer)
    elif sealed and not (sealed.kind == "number" and _is_number(answer) or sealed.kind == type(answer).__name__):
        raise NotYetError(f"{exercise}: expected {_kind_name(sealed.kind)}, got {kind_of(answer)} ({answer!r}). {hint}")
    if not sealed and not _same_kind(answer, expected):
        raise NotYetError(f"{exercise}: expected {kind_of(expected)}, got {kind_of(answer)} ({answer!r}). {hint}")
    try:
        if sealed:
            right = sealed.matches(exercise, answer)
        else:
            close = _is_number(answer) and _is_number(expected) and abs(answer - expected) <= tolerance
            right = bool(answer == expected) or close
        specific = next((text for wrong, text in (mistakes or {}).items() if _near(answer, wrong, tolerance)), hint)
    except (ValueError, TypeError, OverflowError):  # e.g. arrays inside a tuple: no single truth value
        raise NotYetError(f"{exercise}: {answer!r} cannot be compared with the answer. {hint}") from None
    if not right:
        raise NotYetError(f"{exercise}: {answer!r} is not right yet. {specific}")
    print(f"{exercise}: correct." if isinstance(answer, float) else f"{exercise}: correct ({answer!r}).")


def check_rule(
    exercise: str,
    rule: object,
    cases: Mapping[tuple, object],
    hint: str,
    wrong_rules: Mapping[str, Callable[..., object]] | None = None,
) -> None:
    """Check a student's function on several inputs; a typical wrong rule is named by what it returns.

    ``cases`` maps argument tuples to the right results; ``wrong_rules`` maps a message to a function that
    computes a typical wrong rule: the message is shown when the student's results equal that rule's on
    every case. Inputs are chosen so that each wrong rule fails at least one case.
    """
    require_answer(exercise, rule)
    if not callable(rule):
        raise NotYetError(f"{exercise}: expected a function, got {kind_of(rule)} ({rule!r}).")
    results = {}
    for arguments in cases:
        try:
            results[arguments] = as_scalar(rule(*arguments))
        except Exception as error:  # noqa: BLE001 - any error in student code becomes one clear message
            raise NotYetError(f"{exercise}: with {arguments} it raised {type(error).__name__}: {error}") from None
    floats = [
        arguments for arguments, expected in cases.items() if _is_whole(expected) and not _is_whole(results[arguments])
    ]
    if floats and all(_is_number(results[arguments]) for arguments in floats):
        first = floats[0]
        raise NotYetError(
            f"{exercise}: for {first} it returns {results[first]!r}, not a whole number (an int): {WHOLE_REASON}"
        )
    wrong = [arguments for arguments, expected in cases.items() if not _same(results[arguments], expected)]
    if not wrong:
        print(f"{exercise}: correct (right for all {len(cases)} cases).")
        return
    for message, wrong_rule in (wrong_rules or {}).items():
        if all(_same(results[arguments], wrong_rule(*arguments)) for arguments in cases):
            raise NotYetError(f"{exercise}: {message}")
    first = wrong[0]
    raise NotYetError(f"{exercise}: for {first} it returns {results[first]!r}, which is not right yet. {hint}")


def names_answer(exercise: str, answer: object) -> tuple[str, ...]:
    """An answer that is a collection of names (tuple, list or set), sorted; one clear message otherwise.

    A single string is refused rather than read as its letters.
    """
    answer = require_answer(exercise, answer)
    if isinstance(answer, str) or not isinstance(answer, tuple | list | set | frozenset):
        raise NotYetError(
            f"{exercise}: give the names as a tuple, list or set of strings, got {kind_of(answer)} ({answer!r})."
        )
    if not all(isinstance(name, str) for name in answer):
        raise NotYetError(f'{exercise}: every name should be a string, such as "zoom_range"; got {answer!r}.')
    return tuple(sorted(answer))
