"""A stand-in for helpers.cluster_worker in tests of helpers.cluster: starts in milliseconds, no TensorFlow.

``python -m tests.fake_worker BEHAVIOUR --report FOLDER``; BEHAVIOUR is ``ok``, ``raise`` (worker 1 raises),
``hang`` (sleeps), or ``hang-with-child`` (starts a sleeping child process, then sleeps).
"""

from __future__ import annotations

import json
import os
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
    if behaviour == "raise" and index == 1:
        raise ZeroDivisionError("the worker script failed on purpose")
    if behaviour.startswith("hang"):
        time.sleep(120)


if __name__ == "__main__":
    main()
