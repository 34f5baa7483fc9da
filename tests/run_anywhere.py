"""``make test-anywhere``: the lessons stay true on other CPUs, alone, with an empty cache, in any order, with
other seeds and on a busy machine. Slow; ``.ci/run`` calls it after ``make test``.

Runs (each lesson executed by nbval in a fresh kernel; every run gets a fresh ``FITGEN_CACHE``):

* ``alone-avx2``: each lesson in a pytest of its own, in REVERSE order, each with an empty cache, with oneDNN
  limited to the AVX2 instruction set (most laptops have no AVX-512): strict output comparison (no lesson may
  depend on another having run first, on what the cache holds, or on AVX-512). One run for both, to save time.
* ``seed-1``: all lessons with ``FITGEN_SEED=1`` while two busy-looping processes take the cores: outputs are
  not compared (``--nbval-lax``), but every cell must run and every assertion hold.
* ``browser-seed-2``: the same with ``FITGEN_SEED=2``, but as a student runs a lesson: JupyterLab in headless
  Chromium, Run All clicked in every lesson (``tests/browser``, marker ``run_all``); every cell must run and none
  may end in an error (JupyterLab's Run All stops at the first one).
* ``sse41``: all lessons with oneDNN limited to the SSE4.1 instruction set, and ``no-onednn``: with oneDNN's
  optimizations off; strict. The kit's model is trained again on each (a fresh cache), so every output nbval
  compares must hold for a slightly different model.

Usage: ``python tests/run_anywhere.py [RUN ...]`` (default: every run). Prints one line per run, then a summary.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
STRICT = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg"]
LAX = ["--nbval-lax", "--nbval-current-env"]
BUSY_LOOPS = 2


@dataclass(frozen=True)
class Run:
    """One way of running the lessons: environment, strict or lax, and whether each lesson runs alone."""

    name: str
    environment: dict[str, str]
    strict: bool = True
    alone_in_reverse: bool = False
    busy: bool = False
    lessons: list[Path] = field(default_factory=lambda: LESSONS)
    browser: bool = False  # Run All in JupyterLab on every lesson (tests/browser -m run_all) instead of nbval


RUNS = {
    run.name: run
    for run in (
        Run("alone-avx2", {"ONEDNN_MAX_CPU_ISA": "AVX2"}, alone_in_reverse=True),
        Run("seed-1", {"FITGEN_SEED": "1"}, strict=False, busy=True),
        Run("browser-seed-2", {"FITGEN_SEED": "2"}, strict=False, busy=True, browser=True),
        Run("sse41", {"ONEDNN_MAX_CPU_ISA": "SSE41"}),
        Run("no-onednn", {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    )
}


@contextmanager
def busy_machine(active: bool) -> Iterator[None]:
    """Two processes that spin on the CPU for the duration of the block (always stopped afterwards)."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY_LOOPS if active else 0)
    ]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def pytest_runs(run: Run) -> list[list[str]]:
    """The pytest argument lists of one run: one per lesson (alone, reversed) or one for all lessons."""
    if run.browser:
        if run.lessons != LESSONS:
            raise ValueError(f"{run.name}: the browser run clicks Run All in every lesson; it takes no lesson list.")
        return [["tests/browser", "-m", "run_all", "-q"]]
    mode = STRICT if run.strict else LAX
    paths = [str(path.relative_to(ROOT)) for path in run.lessons]
    if run.alone_in_reverse:
        return [[path, *mode, "-q"] for path in reversed(paths)]
    return [[*paths, *mode, "-q"]]


def execute(run: Run) -> tuple[bool, float]:
    """Run every pytest of ``run`` with its environment and a fresh cache per pytest; (passed, seconds)."""
    started = time.monotonic()
    passed = True
    with busy_machine(run.busy):
        for arguments in pytest_runs(run):
            with tempfile.TemporaryDirectory(prefix=f"fitgen-{run.name}-") as cache:
                environment = {**os.environ, **run.environment, "FITGEN_CACHE": cache}
                command = [sys.executable, "-m", "pytest", *arguments]
                print(f"--- {run.name}: {' '.join(f'{k}={v}' for k, v in run.environment.items())} pytest "
                      f"{' '.join(arguments)}", flush=True)  # fmt: skip
                passed &= subprocess.run(command, cwd=ROOT, env=environment).returncode == 0
    return passed, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help=f"which runs, from {', '.join(RUNS)} (default: all)")
    chosen = parser.parse_args(argv).runs or list(RUNS)
    unknown = [name for name in chosen if name not in RUNS]
    if unknown:
        parser.error(f"unknown run {unknown[0]!r}; choose from {', '.join(RUNS)}")
    results = {name: execute(RUNS[name]) for name in chosen}
    print("\nmake test-anywhere:")
    for name, (passed, seconds) in results.items():
        print(f"  {name:<10} {'passed' if passed else 'FAILED'} in {seconds:.0f} s")
    return 0 if all(passed for passed, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
