"""Start a real ``tf.distribute`` cluster of worker processes on 127.0.0.1, wait for it, always stop it.

Each worker is the command ``python -m helpers.cluster_worker ...`` with its own ``TF_CONFIG``, exactly as it
would run on its own machine; here every address is a free loopback port. A worker writes its measurements to
``worker-N.json`` and its output to ``worker-N.log`` in the run folder. Every process this module starts runs
in its own process group and is killed (with its children) when the run ends, fails, times out or the cell is
interrupted, so no worker outlives the lesson.
"""

from __future__ import annotations

import json
import numbers
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from helpers.datasets import REPO_ROOT

FOLDER_MARK = ".fitgen-cluster"  # a run folder the kit made: only such a folder is ever emptied
LOG_LINES_IN_ERRORS = 8
FAILURE_GRACE = 0.5  # seconds to wait, after a first failure, for exits at the same moment (to name the cause)
QUIET_WORKER_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "ABSL_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR"}


class WorkerFailed(RuntimeError):
    """A worker exited with an error or did not finish in time; the message names it and quotes its log."""

    def _render_traceback_(self) -> list[str]:  # one message in Jupyter, not a traceback
        return [f"WorkerFailed: {self}"]


@dataclass(frozen=True)
class WorkerResult:
    """One worker process: its exit code (negative: killed by that signal), JSON report and log."""

    index: int
    exit_code: int
    report: dict
    log: str

    @property
    def log_tail(self) -> str:
        return "\n".join(self.log.strip().splitlines()[-LOG_LINES_IN_ERRORS:])


@dataclass(frozen=True)
class ClusterRun:
    """What :func:`run_cluster` collected: one result per worker and the wall time of the whole run."""

    workers: tuple[WorkerResult, ...]
    seconds: float
    folder: Path

    @property
    def reports(self) -> list[dict]:
        return [worker.report for worker in self.workers]


def whole_count(name: str, value: object) -> int:
    """``value`` as an int >= 1 (NumPy integers too), or an error that names it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}.")
    return int(value)


def free_loopback_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that nothing listens on right now (the OS picks them)."""
    sockets = []
    try:
        for _ in range(whole_count("count", count)):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` of 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_port_free(port: int) -> None:
    """Raise a clear error when ``port`` on 127.0.0.1 is taken (a worker could not listen on it)."""
    if not port_is_free(port):
        raise ValueError(
            f"Port {port} on 127.0.0.1 is already in use, so a worker could not listen on it. "
            "Choose another port, or leave ports out and let the kit pick free ones."
        )


def tf_config(addresses: Sequence[str], index: int) -> str:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of ``addresses`` ("host:port" each)."""
    return json.dumps({"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}})


def prepare_folder(folder: Path | str) -> Path:
    """An empty run folder: created (with its parents), or emptied only if the kit made it (it holds the mark)."""
    folder = Path(folder)
    if folder.exists():
        if not (folder / FOLDER_MARK).exists():
            raise ValueError(
                f"{folder} already exists and was not made by the kit, so it is left untouched. "
                "Choose a new folder for the cluster run."
            )
        _empty_kit_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FOLDER_MARK).write_text("made by fitgen-kit's cluster helper; emptied on the next run\n")
    return folder


def _empty_kit_folder(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            path.rmdir()


WORKER_MODULE = "helpers.cluster_worker"


def worker_command(arguments: Sequence[str], module: str = WORKER_MODULE) -> list[str]:
    """The command every worker runs: this Python, the kit's worker module, and ``arguments``."""
    return [sys.executable, "-m", module, *arguments]


def _read_report(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _stop(processes: Sequence[subprocess.Popen]) -> None:
    """Kill every process group still running (or stopped) and reap it: no zombie, no orphaned child."""
    for process in processes:
        if process.returncode is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for process in processes:
        process.wait()


def _state(process: subprocess.Popen) -> str:
    """``running``, ``exited`` (its returncode set) or ``stopped`` (frozen by SIGSTOP), without blocking."""
    if process.returncode is not None:
        return "exited"
    try:
        pid, status = os.waitpid(process.pid, os.WNOHANG | os.WUNTRACED)
    except ChildProcessError:
        process.poll()
        return "exited"
    if pid == 0:
        return "running"
    if os.WIFSTOPPED(status):
        return "stopped"
    process.returncode = os.waitstatus_to_exitcode(status)
    return "exited"


def _signal_name(exit_code: int) -> str:
    return f" (killed by {signal.Signals(-exit_code).name})" if exit_code < 0 else ""


def _failure(worker: WorkerResult, reason: str) -> WorkerFailed:
    errors = [f"{step}: {outcome['error']}" for step, outcome in worker.report.items() if isinstance(outcome, dict)
              and outcome.get("failed") and outcome.get("error")]  # fmt: skip
    said = f" It reported {errors[0]}." if errors else ""
    tail = worker.log_tail or "(its log is empty)"
    return WorkerFailed(f"worker {worker.index} {reason}.{said} Last lines of its log:\n{tail}")


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    return float(timeout)


def _check_ports(ports: Sequence[int] | None, count: int) -> list[int]:
    """The ports to use: free ones the OS picks, or the given ones if they are valid, distinct and free."""
    if ports is None:
        return free_loopback_ports(count)
    ports = list(ports)
    if len(ports) != count:
        raise ValueError(f"Give one port per worker: {count} worker(s), {len(ports)} port(s).")
    for port in ports:
        if isinstance(port, bool) or not isinstance(port, numbers.Integral) or not 1 <= port <= 65535:
            raise ValueError(f"A port is a whole number from 1 to 65535, got {port!r}.")
    if len(set(ports)) != count:
        raise ValueError(f"Each worker needs a port of its own, got {ports}.")
    for port in ports:
        check_port_free(int(port))
    return [int(port) for port in ports]


def _watch(processes: Sequence[subprocess.Popen], deadline: float, check: bool) -> tuple[dict, list[int]]:
    """Wait until every worker has exited or is frozen, or (``check``) one failed, or the deadline passed.

    Returns when each worker was seen to exit or freeze, and the workers still running at the end.
    """
    seen: dict[int, float] = {}
    first_failure = None
    while time.monotonic() < deadline:
        for index, process in enumerate(processes):
            if index not in seen and _state(process) != "running":
                seen[index] = time.monotonic()
                if check and process.returncode not in (0, None) and first_failure is None:
                    first_failure = seen[index]
        if len(seen) == len(processes) or (first_failure and time.monotonic() > first_failure + FAILURE_GRACE):
            break
        time.sleep(0.05)
    return seen, [index for index in range(len(processes)) if index not in seen]


def run_cluster(
    workers: int,
    arguments: Sequence[str],
    folder: Path | str,
    timeout: float = 120.0,
    ports: Sequence[int] | None = None,
    check: bool = True,
    module: str = WORKER_MODULE,
) -> ClusterRun:
    """Run ``workers`` worker processes as one cluster until all exit; return their reports and logs.

    ``arguments`` go to every worker (``--report`` is added: the run folder). ``check=True`` stops the cluster
    as soon as a worker exits with an error and raises :class:`WorkerFailed` naming it; ``check=False`` waits
    for every worker to exit or freeze (SIGSTOP) and returns every exit code (for a run where a worker is meant
    to die). A run longer than ``timeout`` seconds is killed and always raises: a hung cluster never blocks
    the notebook. ``module`` is the worker (tests use a fake one). POSIX only (Linux, macOS).
    """
    count = whole_count("workers", workers)
    timeout = _check_timeout(timeout)
    if isinstance(arguments, str):
        raise ValueError(f"arguments must be a list of strings (see worker_arguments), got the string {arguments!r}.")
    ports = _check_ports(ports, count)
    folder = prepare_folder(folder)
    addresses = [f"127.0.0.1:{port}" for port in ports]
    command = worker_command([*arguments, "--report", str(folder)], module)
    processes: list[subprocess.Popen] = []
    logs = [folder / f"worker-{index}.log" for index in range(count)]
    started = time.monotonic()
    try:
        for index in range(count):
            env = {**os.environ, **QUIET_WORKER_ENV, "TF_CONFIG": tf_config(addresses, index)}
            env["FITGEN_CLUSTER_PARENT"] = str(os.getpid())  # the worker dies if this process does
            with open(logs[index], "wb") as log:
                processes.append(
                    subprocess.Popen(
                        command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                    )
                )
        seen, hung = _watch(processes, started + timeout, check)
    finally:
        _stop(processes)
    seconds = time.monotonic() - started
    results = tuple(
        WorkerResult(index, process.returncode, _read_report(folder / f"worker-{index}.json"), logs[index].read_text())
        for index, process in enumerate(processes)
    )
    failed = sorted((seen[r.index], r.exit_code >= 0, r.index) for r in results if r.index in seen and r.exit_code)
    if check and failed:  # the first to fail is the cause; at the same moment, a killed worker before its peers
        first = results[failed[0][2]]
        raise _failure(first, f"exited with code {first.exit_code}" + _signal_name(first.exit_code))
    if hung:
        raise _failure(
            results[hung[0]],
            f"was still running after timeout={timeout:g} s and was stopped, with every other worker. If the "
            "training simply needs longer, give run_cluster a larger timeout; if not, the cluster hung",
        )
    return ClusterRun(results, seconds, folder)
