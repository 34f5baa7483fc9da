"""``make test``'s runner: unit tests and the browser test side by side, then the notebooks on their own.

The unit tests keep about one of two cores busy (imports, subprocesses, small models) and the browser test
mostly waits for its kernel, so running them together saves most of the browser test's minute. The
notebooks run afterwards, alone, because their 45-second budgets are measured on the whole machine.
Usage: ``python tests/run_suites.py [--browser] -- PYTEST_UNIT_ARGS -- PYTEST_NOTEBOOK_ARGS``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pytest_command(arguments: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", *arguments]


def split_suites(argv: list[str]) -> tuple[bool, list[str], list[str]]:
    """(run the browser test?, unit-test arguments, notebook arguments) from ``[--browser] -- A -- B``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="also run tests/browser, beside the unit tests")
    if argv.count("--") != 2:
        parser.error("give the unit tests' and the notebooks' pytest arguments, each after a '--'")
    first = argv.index("--")
    second = argv.index("--", first + 1)
    options = parser.parse_args(argv[:first])
    return options.browser, argv[first + 1 : second], argv[second + 1 :]


def main(argv: list[str] | None = None) -> int:
    browser, unit_arguments, notebook_arguments = split_suites(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryFile("w+") as browser_log:
        background = None
        if browser:
            command = pytest_command(["tests/browser", "-m", "not run_all", "--durations=5"])
            background = subprocess.Popen(command, cwd=ROOT, stdout=browser_log, stderr=subprocess.STDOUT, text=True)
        try:
            unit = subprocess.run(pytest_command(["--ignore=tests/browser", *unit_arguments]), cwd=ROOT).returncode
        finally:
            browser_status = background.wait() if background else 0
        if background:
            browser_log.seek(0)
            print("\n" + "=" * 30 + " browser test (ran beside the unit tests) " + "=" * 30, flush=True)
            print(browser_log.read(), flush=True)
    notebooks = subprocess.run(pytest_command(notebook_arguments), cwd=ROOT).returncode
    failed = [
        name for name, status in (("unit", unit), ("browser", browser_status), ("notebooks", notebooks)) if status
    ]
    print(f"make test: {'FAILED: ' + ', '.join(failed) if failed else 'all suites passed'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
