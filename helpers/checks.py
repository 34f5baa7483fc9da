"""Check functions for exercise cells: friendly, specific feedback instead of a bare AssertionError."""

from __future__ import annotations

import numbers
from collections.abc import Mapping


class NotYetError(Exception):
    """Raised by a check when an exercise is not solved yet; the message says what to look at.

    In Jupyter it shows as one line, not a traceback (IPython calls ``_render_traceback_``).
    """

    def _render_traceback_(self) -> list[str]:
        return [f"Not yet: {self}"]


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _kind(value: object) -> str:
    name = "number" if _is_number(value) else type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


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


def check_equal(
    exercise: str, answer: object, expected: object, hint: str, mistakes: Mapping[object, str] | None = None
) -> None:
    """Compare a student's answer with the expected one; print a friendly message or raise one.

    Numbers compare by value (``np.int64(100)`` equals ``100``). ``hint`` says where to look; the
    expected value is never shown. ``mistakes`` maps typical wrong answers to specific feedback
    (e.g. ``{15: "with floor, the last 40 images are never seen"}``), used instead of the hint.
    Returns nothing, so the check cell shows only the printed line (a trailing ``;`` does not hide
    a result under nbval, whose kernel keeps no input history).
    """
    require_answer(exercise, answer)
    if not _same_kind(answer, expected):
        raise NotYetError(f"{exercise}: expected {_kind(expected)}, got {_kind(answer)} ({answer!r}). {hint}")
    if answer != expected:
        specific = next((text for wrong, text in (mistakes or {}).items() if _same(answer, wrong)), hint)
        raise NotYetError(f"{exercise}: {answer!r} is not right yet. {specific}")
    print(f"{exercise}: correct ({answer!r}).")
