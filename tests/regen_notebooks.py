"""Execute lessons exactly as nbval will and write byte-stable outputs (``make regen``).

The kernel runs in this environment with ``--IPKernelApp.capture_fd_output=False``, so C-level
stderr is not copied into outputs (nbval's kernel behaves the same because it inherits
``PYTEST_CURRENT_TEST``). Stream chunks are merged and volatile metadata dropped, so that running
this twice on one machine changes no byte.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager
from nbval.plugin import get_sanitize_patterns

KERNELSPEC = {"name": "fitgen-kit", "display_name": "Python (fitgen-kit)", "language": "python"}
LANGUAGE_INFO = {"name": "python", "file_extension": ".py", "mimetype": "text/x-python"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CELL_TIMEOUT_SECONDS = 300
SANITIZE_FILE = Path(__file__).with_name("nbval_sanitize.cfg")
IGNORE_OUTPUT_TAG = "nbval-ignore-output"
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled")  # timing and view state, dropped from every cell
# Cells whose outputs are this machine's measurements (lesson 06's images/s): committed with every number
# shown as "#" and plots left out, so that a second make regen changes no byte. Students see real numbers.
MEASURED_TAG = "measured"
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def mask_numbers(text: str) -> str:
    """Every number becomes '#', and runs of spaces one space (column padding depends on the numbers)."""
    return re.sub(r" +", " ", NUMBER.sub("#", text))


def mask_measurements(outputs: list) -> list:
    """Numbers in text outputs are masked; images are dropped (they plot the numbers)."""
    kept = []
    for output in outputs:
        if output.get("output_type") == "stream":
            output["text"] = mask_numbers(output["text"])
        elif output.get("output_type") in ("display_data", "execute_result"):
            data = output.get("data", {})
            if "text/plain" not in data or any(kind.startswith("image/") for kind in data):
                continue
            data["text/plain"] = mask_numbers(data["text/plain"])
        kept.append(output)
    return kept


def merge_streams(outputs: list) -> list:
    """Join consecutive stream outputs of the same name into one, as nbval compares them."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def mask_volatile_text(outputs: list, patterns: list[tuple[str, str]]) -> None:
    """Apply the nbval sanitize patterns to text outputs (wall times, addresses) so they stay byte-stable."""
    for output in outputs:
        if output.get("output_type") == "stream":
            for regex, replacement in patterns:
                output["text"] = re.sub(regex, replacement, output["text"])
        elif "text/plain" in output.get("data", {}):
            for regex, replacement in patterns:
                output["data"]["text/plain"] = re.sub(regex, replacement, output["data"]["text/plain"])


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes from run to run: widget state, widget model ids, timing metadata.

    Cells tagged ``nbval-ignore-output`` keep their outputs, with timings and addresses masked.
    """
    patterns = get_sanitize_patterns(SANITIZE_FILE.read_text())
    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = dict(LANGUAGE_INFO)
    for cell in notebook.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        cell.outputs = merge_streams(cell.outputs)
        tags = cell.metadata.get("tags", [])
        if IGNORE_OUTPUT_TAG in tags:
            mask_volatile_text(cell.outputs, patterns)
        if MEASURED_TAG in tags:
            if IGNORE_OUTPUT_TAG not in tags:
                raise ValueError(f"a cell tagged {MEASURED_TAG!r} must also be tagged {IGNORE_OUTPUT_TAG!r}.")
            cell.outputs = mask_measurements(cell.outputs)
        for output in cell.outputs:
            output.get("data", {}).pop(WIDGET_VIEW, None)
            output.get("metadata", {}).pop(WIDGET_VIEW, None)
    return notebook


def regenerate(path: Path) -> float:
    """Execute one notebook in place and return the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    kernel_manager = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(
        notebook,
        km=kernel_manager,
        timeout=CELL_TIMEOUT_SECONDS,
        record_timing=False,
        allow_errors=False,
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    nbformat.write(clean(notebook), path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks to execute in place")
    arguments = parser.parse_args(argv)
    for path in arguments.notebooks:
        print(f"regen {path} ...", end=" ", flush=True)
        print(f"{regenerate(path):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
