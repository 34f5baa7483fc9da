"""Smoke test: JupyterLab from this environment serves /lab and offers the fitgen-kit kernel."""

from __future__ import annotations

import json
from pathlib import Path

from tests.lab_server import ROOT, running_lab


def test_lab_serves_and_lists_the_kit_kernel(tmp_path: Path) -> None:
    with running_lab(ROOT / "notebooks", tmp_path) as lab:
        status, page = lab.get("/lab")
        assert status == 200 and b"JupyterLab" in page
        specs = json.loads(lab.get("/api/kernelspecs")[1])["kernelspecs"]
        assert "fitgen-kit" in specs, sorted(specs)
        assert specs["fitgen-kit"]["spec"]["display_name"] == "Python (fitgen-kit)"
        assert json.loads(lab.get("/api/contents/00_start_here.ipynb?content=0")[1])["type"] == "notebook"
        server = lab.process
    assert server.returncode is not None
