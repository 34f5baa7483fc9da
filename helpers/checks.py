"""Check functions for exercise cells: friendly, specific feedback instead of a bare AssertionError."""

from __future__ import annotations


class NotYetError(Exception):
    """Raised by a check when an exercise is not solved yet; the message says what to look at."""


def check_equal(exercise: str, answer: object, expected: object, hint: str) -> None:
    """Compare a student's answer with the expected one; print a friendly message or raise one.

    Returns nothing, so the check cell shows only the printed line (a trailing ``;`` does not hide a
    result under nbval, whose kernel does not store history).

    ``hint`` explains where to look without giving the value away; the expected value is never shown.
    """
    if answer is None or answer is Ellipsis:
        raise NotYetError(f"{exercise}: not answered yet. Replace the placeholder and run the cell again.")
    if type(answer) is not type(expected) and not (
        isinstance(answer, int | float) and isinstance(expected, int | float)
    ):
        raise NotYetError(
            f"{exercise}: expected a {type(expected).__name__}, got {type(answer).__name__} {answer!r}. {hint}"
        )
    if answer != expected:
        raise NotYetError(f"{exercise}: {answer!r} is not right yet. {hint}")
    print(f"{exercise}: correct ({answer!r}).")
