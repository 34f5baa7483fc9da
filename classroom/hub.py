"""Start the class's JupyterHub on this server: ``make hub STUDENTS="alice bob" [HUB_PORT=8000]``.

Checks first what would make the hub fail half-way (a port in use, the hub's tools missing, no student named), then
writes the student copies of the lessons and runs JupyterHub with ``classroom/jupyterhub_config.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from classroom.make_student import SolutionError, build
from helpers.cluster import port_is_free

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".cache" / "hub"
JUPYTERHUB = TOOLS / "python" / "bin" / "jupyterhub"
PROXY = TOOLS / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
CONFIG = ROOT / "classroom" / "jupyterhub_config.py"


class HubError(RuntimeError):
    """The hub cannot start; the message names the port, file or setting and the fix."""


def hub_environment(port: int, students: list[str], lessons: Path) -> dict[str, str]:
    """The variables jupyterhub_config.py reads, with the hub's three ports (the given one and the next two)."""
    if not students:
        raise HubError('no student named: make hub STUDENTS="alice bob" (the names they log in with)')
    bad = [name for name in students if not name.replace("-", "").replace("_", "").isalnum()]
    if bad:
        raise HubError(f"student name {bad[0]!r}: use letters, digits, '-' and '_' (it becomes a folder name)")
    if not 1024 <= port <= 65533:
        raise HubError(f"HUB_PORT={port}: give a port from 1024 to 65533 (the hub uses it and the next two)")
    for offset, role in ((0, "the hub's page"), (1, "the proxy's API"), (2, "the hub's internal API")):
        if not port_is_free(port + offset):
            raise HubError(
                f"port {port + offset} on 127.0.0.1 ({role}) is in use: another hub, or another program. Stop it, "
                "or pick other ports with make hub HUB_PORT=... (the hub takes that port and the next two)"
            )
    return {
        "FITGEN_HUB_PORT": str(port),
        "FITGEN_HUB_PROXY_API_PORT": str(port + 1),
        "FITGEN_HUB_INTERNAL_PORT": str(port + 2),
        "FITGEN_HUB_STUDENTS": " ".join(students),
        "FITGEN_HUB_LESSONS": str(lessons),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", "8000")), help="default 8000")
    parser.add_argument("--students", default=os.environ.get("STUDENTS", ""), help='"alice bob": who may log in')
    parser.add_argument("--lessons", type=Path, default=ROOT / "student", help="where the student copies go")
    arguments = parser.parse_args(argv)
    try:
        missing = [str(tool) for tool in (JUPYTERHUB, PROXY) if not tool.exists()]
        if missing:
            raise HubError(f"{missing[0]} is missing: make hub installs JupyterHub and its proxy first")
        environment = hub_environment(arguments.port, arguments.students.split(), arguments.lessons)
        build(sorted((ROOT / "notebooks").glob("*.ipynb")), arguments.lessons)
    except (HubError, SolutionError) as error:
        print(f"make hub: {error}", file=sys.stderr)
        return 1
    print(f"JupyterHub on http://127.0.0.1:{arguments.port} for {arguments.students}; Ctrl-C stops it", flush=True)
    os.execve(str(JUPYTERHUB), [str(JUPYTERHUB), "-f", str(CONFIG)], {**os.environ, **environment})
    return 0  # not reached: jupyterhub replaces this process


if __name__ == "__main__":
    sys.exit(main())
