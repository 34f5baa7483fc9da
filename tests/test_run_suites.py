"""make test's runner: argument split, the browser suite beside the unit tests, every failure reported."""

from __future__ import annotations

import sys

import pytest

import tests.run_suites as run_suites


def test_split_suites_reads_two_argument_lists() -> None:
    assert run_suites.split_suites(["--browser", "--", "tests", "-m", "x", "--", "notebooks"]) == (
        True,
        ["tests", "-m", "x"],
        ["notebooks"],
    )
    assert run_suites.split_suites(["--", "a", "--", "b"]) == (False, ["a"], ["b"])
    with pytest.raises(SystemExit):
        run_suites.split_suites(["--", "only one list"])


@pytest.fixture
def fake_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each "pytest" run prints its first argument and fails when one of its arguments says so."""
    script = "import sys; print('ran', sys.argv[1]); sys.exit(1 if any('fail' in a for a in sys.argv[1:]) else 0)"
    monkeypatch.setattr(run_suites, "pytest_command", lambda arguments: [sys.executable, "-c", script, *arguments])


def test_all_suites_pass(fake_pytest: None, capfd: pytest.CaptureFixture[str]) -> None:
    assert run_suites.main(["--browser", "--", "unit", "--", "notebooks"]) == 0
    output = capfd.readouterr().out
    assert "ran --ignore=tests/browser" in output and "ran tests/browser" in output and "ran notebooks" in output
    assert output.index("browser test (ran beside the unit tests)") < output.index("ran notebooks")
    assert output.rstrip().endswith("make test: all suites passed")


@pytest.mark.parametrize(
    "argv, failed",
    [
        (["--", "unit", "--", "notebooks-fail"], "notebooks"),
        (["--", "unit-fail", "--", "notebooks"], "unit"),
        (["--", "unit-fail", "--", "notebooks-fail"], "unit, notebooks"),
    ],
)
def test_a_failing_suite_fails_the_run_and_is_named(
    fake_pytest: None, capfd: pytest.CaptureFixture[str], argv: list[str], failed: str
) -> None:
    assert run_suites.main(argv) == 1
    assert capfd.readouterr().out.rstrip().endswith(f"make test: FAILED: {failed}")


def test_a_failing_browser_suite_is_named(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    script = "import sys; print('ran', sys.argv[1]); sys.exit(1 if sys.argv[1] == 'tests/browser' else 0)"
    monkeypatch.setattr(run_suites, "pytest_command", lambda arguments: [sys.executable, "-c", script, *arguments])
    assert run_suites.main(["--browser", "--", "unit", "--", "notebooks"]) == 1
    assert capfd.readouterr().out.rstrip().endswith("make test: FAILED: browser")
