"""Smoke test: JupyterLab from this environment serves /lab and offers the fitgen-kit kernel."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def test_lab_serves_and_lists_the_kit_kernel(tmp_path: Path) -> None:
    port, token = free_port(), secrets.token_hex(16)
    environment = dict(
        os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config")
    )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT / 'notebooks'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",  # no calls to the outside
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # CI and containers run as root; Jupyter refuses without this
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, page = get(f"{base}/lab", token)
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
                time.sleep(0.2)
        assert status == 200 and b"JupyterLab" in page
        _, body = get(f"{base}/api/kernelspecs", token)
        specs = json.loads(body)["kernelspecs"]
        assert "fitgen-kit" in specs, sorted(specs)
        assert specs["fitgen-kit"]["spec"]["display_name"] == "Python (fitgen-kit)"
        _, body = get(f"{base}/api/contents/00_start_here.ipynb?content=0", token)
        assert json.loads(body)["type"] == "notebook"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode is not None
