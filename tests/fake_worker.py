"""A stand-in for helpers.cluster_worker in tests of helpers.cluster: starts in milliseconds, no TensorFlow.

``python -m tests.fake_worker BEHAVIOUR --report FOLDER``; BEHAVIOUR is ``ok``, ``raise`` (worker 1 raises),
``hang`` (sleeps), ``hang-with-child`` (starts a sleeping child process, then sleeps), ``raise-while-0-hangs``
(worker 1 raises at once, worker 0 sleeps) or ``freeze`` (worker 1 stops itself with SIGSTOP, worker 0 exits).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    behaviour, _, folder = sys.argv[1:4]
    config = json.loads(os.environ["TF_CONFIG"])
    index = config["task"]["index"]
    report = {"index": index, "workers": config["cluster"]["worker"], "pid": os.getpid()}
    if behaviour == "hang-with-child":
        report["child"] = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]).pid
    (Path(folder) / f"worker-{index}.json").write_text(json.dumps(report))
    print(f"fake worker {index} started", flush=True)
    if behaviour in ("raise", "raise-while-0-hangs") and index == 1:
        raise ZeroDivisionError("the worker script failed on purpose")
    if behaviour == "freeze" and index == 1:
        os.kill(os.getpid(), signal.SIGSTOP)
    if behaviour.startswith("hang") or behaviour == "raise-while-0-hangs":
        time.sleep(120)


if __name__ == "__main__":
    main()
