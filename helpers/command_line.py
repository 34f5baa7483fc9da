"""Command-line pieces shared by the data scripts, make bench and fitgen-check: one-line errors, checked numbers,
output any terminal can show."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


def printable_output() -> None:
    """Let any terminal show any file name: characters it cannot encode print as escapes, never a traceback.

    A strict or non-UTF-8 console (``PYTHONIOENCODING=ascii:strict``, Windows cp1252) and names that are not
    UTF-8 (Linux file names are bytes) otherwise end a report halfway with UnicodeEncodeError.
    """
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument prints one line (what is wrong and where to look), then exits with 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1, with a message that names the bad value."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def seconds(text: str) -> float:
    """argparse type: a duration in seconds, a finite number >= 0 (not nan or inf, which a timing loop never meets)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def visible(text: str) -> str:
    """``text`` with every character a terminal would act on (escape sequences, C1 controls) shown as an escape."""
    return "".join(c if c.isprintable() or c in "\n\t" else c.encode("unicode_escape").decode("ascii") for c in text)
