"""captured_warnings collects both Python warnings and TensorFlow-logger warnings, and prints nothing."""

from __future__ import annotations

import logging
import warnings

import pytest

from helpers.capture import captured_warnings, count_warnings, summarize_warnings


def test_collects_both_kinds_silently(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("tensorflow")
    level = logger.level
    with captured_warnings() as messages:
        logger.warning("Your input ran out of data; interrupting training. Make sure ...")
        warnings.warn("`shuffle=True` was passed, but will be ignored. More.", UserWarning, stacklevel=1)
        logger.info("not a warning")
    assert messages == [
        "Your input ran out of data; interrupting training. Make sure ...",
        "`shuffle=True` was passed, but will be ignored. More.",
    ]
    assert capsys.readouterr() == ("", "")
    assert logger.level == level


def test_the_per_image_scipy_deprecation_stays_hidden() -> None:
    with captured_warnings() as messages:
        warnings.warn("the `scipy.ndimage.interpolation` namespace is deprecated", DeprecationWarning, stacklevel=1)
    assert messages == []


def test_summary_counts_and_shortens() -> None:
    summary = summarize_warnings(["A first sentence. More.", "A first sentence. More.", "x" * 150])
    assert summary.splitlines() == ["2 x A first sentence", "1 x " + "x" * 97 + "..."]
    assert summarize_warnings([]) == "no warnings"


def _deprecation_from(module: str, message: str, times: int = 1) -> None:
    """``times`` DeprecationWarnings raised from one line of code in module ``module`` ("library", as SciPy's are,
    or "__main__", as a notebook cell's are)."""
    code = f"for _ in range({times}):\n    warnings.warn({message!r}, DeprecationWarning, stacklevel=1)"
    exec(compile(code, module, "exec"), {"warnings": warnings, "__name__": module})


def test_count_warnings_under_default_filters_and_with_every_repeat() -> None:
    def three_warnings() -> None:
        for _ in range(3):
            _deprecation_from("library", "old")
        warnings.warn("shown once", UserWarning, stacklevel=1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # whatever the caller set is replaced inside count_warnings
        assert count_warnings(three_warnings, show_all=True) == ["old", "old", "old", "shown once"]
        assert count_warnings(three_warnings, show_all=False) == ["shown once"]


def test_count_warnings_shows_a_deprecation_from_main_once_per_line_under_default_filters() -> None:
    def from_main() -> None:
        _deprecation_from("__main__", "mine", times=3)

    assert count_warnings(from_main, show_all=False) == ["mine"]  # "default": once per place
    assert count_warnings(from_main, show_all=True) == ["mine", "mine", "mine"]
