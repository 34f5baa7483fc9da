"""Check functions for exercise cells: friendly, specific feedback instead of a bare AssertionError."""

from __future__ import annotations

import numbers


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


def check_equal(exercise: str, answer: object, expected: object, hint: str) -> None:
    """Compare a student's answer with the expected one; print a friendly message or raise one.

    Numbers compare by value (``np.int64(100)`` equals ``100``). ``hint`` says where to look; the
    expected value is never shown. Returns nothing, so the check cell shows only the printed line
    (a trailing ``;`` does not hide a result under nbval, whose kernel keeps no input history).
    """
    if answer is None or answer is Ellipsis:
        raise NotYetError(f"{exercise}: not answered yet. Replace the placeholder and run the cell again.")
    same_kind = _is_number(answer) and _is_number(expected) or type(answer) is type(expected)
    if not same_kind:
        raise NotYetError(f"{exercise}: expected {_kind(expected)}, got {_kind(answer)} ({answer!r}). {hint}")
    if answer != expected:
        raise NotYetError(f"{exercise}: {answer!r} is not right yet. {hint}")
    print(f"{exercise}: correct ({answer!r}).")
