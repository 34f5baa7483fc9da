"""Start JupyterLab from this environment on a free 127.0.0.1 port with a token, and stop it cleanly."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where it answers and the token that opens it."""

    base: str
    token: str
    process: subprocess.Popen

    def get(self, path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(f"{self.base}{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()

    def kernel_ids(self) -> list[str]:
        return [kernel["id"] for kernel in json.loads(self.get("/api/kernels")[1])]


def _processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains ``text`` (a kernel's connection file, for example)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@contextmanager
def running_lab(root_dir: Path, scratch: Path, *extra: str) -> Iterator[Lab]:
    """JupyterLab serving ``root_dir``; afterwards the server and every kernel it started are gone (checked)."""
    port, token = free_port(), secrets.token_hex(16)
    environment = dict(  # the user's own Jupyter runtime, config and lab settings stay untouched
        os.environ,
        JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
        JUPYTER_CONFIG_DIR=str(scratch / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(scratch / "lab-settings"),
    )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",  # no calls to the outside
        *extra,
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # CI and containers run as root; Jupyter refuses without this
    server = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    lab = Lab(f"http://127.0.0.1:{port}", token, server)
    kernels: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                lab.get("/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
                time.sleep(0.2)
        yield lab
        kernels = lab.kernel_ids()
    finally:
        _stop(server)
    leftovers = [pid for kernel in kernels for pid in _processes_mentioning(f"kernel-{kernel}.json")]
    assert not leftovers, f"kernel processes left behind: {leftovers}"


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM (Jupyter shuts its kernels down), then SIGKILL the whole session if it lingers."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    server.stderr.close()
