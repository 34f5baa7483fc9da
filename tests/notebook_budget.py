"""pytest plugin: add up each notebook's run time and print it against the budget (a report: a slower machine
never fails a run for being slow).

nbval turns every cell into a test item, so ``--durations`` lists cells; a lesson's budget is for the
whole notebook (kernel start included), which this plugin sums from the items' setup, call and teardown.
"""

from __future__ import annotations

import os
from collections import defaultdict

import pytest

BUDGET_SECONDS = float(os.environ.get("FITGEN_NOTEBOOK_BUDGET_S", "45"))
_seconds: defaultdict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _seconds:
        return
    terminalreporter.section(f"notebook run times (budget {BUDGET_SECONDS:.0f} s each)")
    for path, seconds in sorted(_seconds.items()):
        flag = "  OVER BUDGET" if seconds > BUDGET_SECONDS else ""
        terminalreporter.write_line(f"{seconds:6.1f} s  {path}{flag}")
    terminalreporter.write_line(f"{sum(_seconds.values()):6.1f} s  all notebooks")
