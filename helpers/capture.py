"""Catch the warnings Keras prints, from Python's warnings AND TensorFlow's logger, to show them once.

tf-keras reports "Your input ran out of data" through TensorFlow's logger (silenced in lessons),
Keras 3 through ``warnings.warn``; a lesson that demonstrates either needs both, as text it can print.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections import Counter
from collections.abc import Callable, Iterator

from helpers.runtime import filter_known_warnings


class _ListHandler(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def captured_warnings(logger_name: str = "tensorflow") -> Iterator[list[str]]:
    """Collect, instead of printing, warnings raised in the block; the list fills when the block ends."""
    messages: list[str] = []
    logger = logging.getLogger(logger_name)
    saved = (logger.level, logger.handlers[:], logger.propagate)
    logger.handlers = [_ListHandler(messages)]
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # record repeats too, so a summary can count them...
            filter_known_warnings()  # ...except the per-image SciPy deprecation the lessons hide
            yield messages
    finally:
        logger.setLevel(saved[0])
        logger.handlers = saved[1]
        logger.propagate = saved[2]
        messages.extend(str(warning.message) for warning in caught)


def summarize_warnings(messages: list[str], width: int = 100) -> str:
    """Each distinct message once, cut to its first sentence (or ``width`` characters), with a count."""
    if not messages:
        return "no warnings"
    lines = []
    for message, count in Counter(messages).items():
        first = message.split(". ")[0].strip()
        first = first if len(first) <= width else first[: width - 3] + "..."
        lines.append(f"{count} x {first}")
    return "\n".join(lines)


# Python's own filters when no -W option, PYTHONWARNINGS or dev mode is set (the ``warnings`` module's
# documentation, "Default Warning Filter"): a DeprecationWarning raised inside a library is not shown.
PYTHON_DEFAULT_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)


def count_warnings(action: Callable[[], object], show_all: bool) -> list[str]:
    """The warnings ``action()`` raises under Python's default filters, or every one, repeats included
    (``show_all``: ``simplefilter("always")``), whatever filters the kit or the notebook set before."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        if show_all:
            warnings.simplefilter("always")
        else:
            for how, category, module in reversed(PYTHON_DEFAULT_FILTERS):
                warnings.filterwarnings(how, category=category, module=module)
        action()
    return [str(warning.message) for warning in caught]
