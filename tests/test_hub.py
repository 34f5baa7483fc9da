"""One server for a class: the real JupyterHub (make hub) with three students who run lesson 00 at the same time.

The hub (JupyterHub from the package index, its proxy from the npm registry, both installed by make hub-tools) runs
on 127.0.0.1 with a test token; everything goes through its REST API and the proxy, as a browser's requests do.
Each student's kernel prints its peak memory: the per-user figure in TEACHING.md comes from this test's output.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from classroom.hub import JUPYTERHUB, HubError, hub_environment
from helpers.cluster import port_is_free

ROOT = Path(__file__).resolve().parent.parent
LESSON_NAMES = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
STUDENTS = ["alice", "bob", "carol"]
TOKEN = uuid.uuid4().hex
PEAK = (
    "import os, resource; "
    "print('fitgen-peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, os.getcwd(), os.environ['FITGEN_CACHE'])"
)


def kit_models() -> dict[str, float]:
    """The kit's own cached models (the default FITGEN_CACHE) with their modification times."""
    return {str(path): path.stat().st_mtime for path in (ROOT / ".cache").glob("models/**/*.keras")}


def three_free_ports() -> int:
    """A port whose next two are free as well (the hub takes three in a row)."""
    for _ in range(200):
        base = random.randrange(20000, 40000)
        if all(port_is_free(base + offset) for offset in range(3)):
            return base
    raise AssertionError("no three free ports in a row on 127.0.0.1")


def test_a_port_in_use_is_named_before_anything_starts(tmp_path: Path) -> None:
    base = three_free_ports()
    for offset, role in ((0, "the hub's page"), (2, "the hub's internal API")):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", base + offset))
            taken.listen()
            with pytest.raises(HubError, match=f"port {base + offset} on 127.0.0.1 \\({role}\\) is in use"):
                hub_environment(base, ["alice"], tmp_path)
    with pytest.raises(HubError, match="no student named"):
        hub_environment(three_free_ports(), [], tmp_path)
    with pytest.raises(HubError, match="student name '../bob'"):
        hub_environment(three_free_ports(), ["../bob"], tmp_path)
    with pytest.raises(HubError, match="HUB_PORT=80: give a port from 1024 to 65533"):
        hub_environment(80, ["alice"], tmp_path)


def working_in(pid: str, folder: Path) -> bool:
    """Whether process ``pid`` runs inside ``folder`` (a student's server or kernel)."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(folder)
    except OSError:
        return False


class Hub:
    """A running hub: its address, the folder of its students' homes, and REST calls with the test token."""

    def __init__(self, port: int, homes: Path) -> None:
        self.url, self.homes = f"http://127.0.0.1:{port}", homes

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Authorization", f"token {TOKEN}")
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
        return json.loads(text) if text else {}

    def start_server(self, name: str) -> None:
        """Start the student's server (if it is not running) and wait until it is ready."""
        if not self.api("GET", f"/hub/api/users/{name}").get("servers"):
            self.api("POST", f"/hub/api/users/{name}/server")
        deadline = time.monotonic() + 120
        while not self.api("GET", f"/hub/api/users/{name}").get("servers", {}).get("", {}).get("ready"):
            assert time.monotonic() < deadline, f"{name}'s server did not start within 120 s"
            time.sleep(1)

    def stop_server(self, name: str) -> None:
        self.api("DELETE", f"/hub/api/users/{name}/server")
        deadline = time.monotonic() + 60
        while self.api("GET", f"/hub/api/users/{name}").get("servers"):
            assert time.monotonic() < deadline, f"{name}'s server did not stop within 60 s"
            time.sleep(1)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory):
    assert JUPYTERHUB.exists(), f"{JUPYTERHUB} is missing: make test-classroom installs it (make hub-tools)"
    folder = tmp_path_factory.mktemp("hub")
    port = three_free_ports()
    environment = {
        **os.environ,
        "FITGEN_HUB_HOMES": str(folder / "homes"),
        "FITGEN_HUB_STATE": str(folder / "state"),
        "FITGEN_HUB_TOKEN": TOKEN,
    }
    command = [sys.executable, "-m", "classroom.hub", "--port", str(port), "--students", " ".join(STUDENTS)]
    command += ["--lessons", str(folder / "lessons")]
    with (folder / "hub.log").open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log, start_new_session=True)
    running = Hub(port, folder / "homes")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                running.api("GET", "/hub/api/")
                break
            except OSError:
                assert process.poll() is None, (folder / "hub.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the hub did not answer within 60 s"
                time.sleep(0.5)
        existing = {user["name"] for user in running.api("GET", "/hub/api/users")}
        assert existing == set(STUDENTS), f"the hub knows {existing}, not the students it was given"
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the hub stops its students' servers and its proxy on the way out
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        left = [pid for pid in os.listdir("/proc") if pid.isdigit() and working_in(pid, folder / "homes")]
        for pid in left:
            os.kill(int(pid), signal.SIGKILL)
        assert not left, f"processes of students outlived the hub: {left}"


async def run_lesson(hub: Hub, name: str) -> dict:
    """Run the student's own lesson 00 on a kernel of their server, cell by cell, over the kernel's websocket."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    lesson = nbformat.read(hub.homes / name / "lessons" / "00_start_here.ipynb", as_version=4)
    kernel = hub.api("POST", f"/user/{name}/api/kernels", {"name": "fitgen-kit"})
    address = f"{hub.url.replace('http', 'ws')}/user/{name}/api/kernels/{kernel['id']}/channels"
    socket_ = await websocket_connect(HTTPRequest(address, headers={"Authorization": f"token {TOKEN}"}))
    errors, printed, started = [], [], time.monotonic()
    for code in [cell.source for cell in lesson.cells if cell.cell_type == "code"] + [PEAK]:
        message_id = uuid.uuid4().hex
        header = {"msg_id": message_id, "msg_type": "execute_request", "username": name, "session": kernel["id"]}
        content = {"code": code, "silent": False, "store_history": True, "allow_stdin": False, "stop_on_error": False}
        await socket_.write_message(
            json.dumps(
                {
                    "header": {**header, "version": "5.3"},
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": "shell",
                }
            )
        )
        replied = idle = False  # outputs can arrive after the reply: wait for both the reply and "idle"
        while not (replied and idle):
            reply = json.loads(await asyncio.wait_for(socket_.read_message(), timeout=300))
            if reply.get("parent_header", {}).get("msg_id") != message_id:
                continue
            if reply["msg_type"] == "error":
                errors.append(reply["content"]["ename"])
            elif reply["msg_type"] == "stream":
                printed.append(reply["content"]["text"])
            replied |= reply["msg_type"] == "execute_reply"
            idle |= reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle"
    socket_.close()
    peak = next(line for line in "".join(printed).splitlines() if line.startswith("fitgen-peak")).split()
    return {
        "errors": errors,
        "peak_mb": int(peak[1]) / 1024,
        "cwd": peak[2],
        "cache": peak[3],
        "seconds": time.monotonic() - started,
    }


@pytest.mark.classroom
def test_three_students_run_lesson_00_at_once_each_in_their_own_files(hub: Hub) -> None:
    kit_models_before = kit_models()
    for name in STUDENTS:
        hub.start_server(name)

    async def everyone() -> list[dict]:
        return await asyncio.gather(*(run_lesson(hub, name) for name in STUDENTS))

    results = dict(zip(STUDENTS, asyncio.run(everyone()), strict=True))
    for name, result in results.items():
        print(f"{name}: lesson 00 in {result['seconds']:.0f} s, kernel peak {result['peak_mb']:.0f} MB")
        assert result["errors"] == ["NotYetError"], f"{name}: {result['errors']} (only the unanswered check may fail)"
        assert Path(result["cwd"]) == hub.homes / name and Path(result["cache"]) == hub.homes / name / ".fitgen-cache"
        models = sorted(path.name for path in (hub.homes / name / ".fitgen-cache").rglob("*.keras"))
        assert models, f"{name}'s cache holds no model: lesson 00 wrote it elsewhere"
        assert sorted(path.name for path in (hub.homes / name / "lessons").iterdir()) == LESSON_NAMES
    assert kit_models_before == kit_models(), "a student wrote into the kit's own cache"


@pytest.mark.classroom
def test_a_deleted_lesson_comes_back_and_a_changed_one_stays(hub: Hub) -> None:
    alice, bob = hub.homes / "alice" / "lessons", hub.homes / "bob" / "lessons"
    hub.start_server("alice")
    hub.start_server("bob")
    bob_before = {path.name: path.read_bytes() for path in bob.iterdir()}
    (alice / "01_data_generators.ipynb").unlink()
    changed = alice / "02_augmentation.ipynb"
    changed.write_text(changed.read_text().replace("# ", "# alice was here: ", 1))
    hub.stop_server("alice")
    hub.start_server("alice")
    assert (alice / "01_data_generators.ipynb").exists(), "a deleted lesson is given back at the next start"
    assert "alice was here" in changed.read_text(), "a lesson the student changed is never overwritten"
    assert {path.name: path.read_bytes() for path in bob.iterdir()} == bob_before, "another student's files changed"
