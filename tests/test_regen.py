"""make regen: merged streams, no volatile metadata, no TensorFlow noise, byte-stable on a rerun."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.regen_notebooks import clean, merge_streams, regenerate

ROOT = Path(__file__).resolve().parent.parent


def test_merge_streams_joins_only_neighbours_of_the_same_name() -> None:
    out = nbformat.v4.new_output
    merged = merge_streams(
        [
            out("stream", name="stdout", text="a"),
            out("stream", name="stdout", text="b"),
            out("stream", name="stderr", text="c"),
            out("stream", name="stdout", text="d"),
        ]
    )
    assert [(o["name"], o["text"]) for o in merged] == [("stdout", "ab"), ("stderr", "c"), ("stdout", "d")]


def test_clean_drops_widget_state_ids_and_timing() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["widgets"] = {"state": {}}
    cell = nbformat.v4.new_code_cell("x")
    cell.metadata["execution"] = {"iopub.status.busy": "2026"}
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/plain": "IntSlider(value=1)", "application/vnd.jupyter.widget-view+json": {"model_id": "abc"}},
        )
    ]
    timed = nbformat.v4.new_code_cell("t", metadata={"tags": ["nbval-ignore-output"]})
    timed.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="training took 9.2 s\n62/62 - 2s - loss: 0.7 - 3s/epoch\n")
    ]
    untagged = nbformat.v4.new_code_cell("t")
    untagged.outputs = [nbformat.v4.new_output("stream", name="stdout", text="training took 9.2 s\n")]
    notebook.cells = [cell, timed, untagged]
    cleaned = clean(notebook)
    assert cleaned.cells[1].outputs[0]["text"] == "training took <t> s\n62/62 - <t>s - loss: 0.7 - <t>/epoch\n"
    assert cleaned.cells[2].outputs[0]["text"] == "training took 9.2 s\n"
    assert "widgets" not in cleaned.metadata and cleaned.metadata["kernelspec"]["name"] == "fitgen-kit"
    assert "execution" not in cleaned.cells[0].metadata
    assert cleaned.cells[0].outputs[0]["data"] == {"text/plain": "IntSlider(value=1)"}


def test_regenerate_is_quiet_and_byte_stable(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("from helpers.runtime import setup_lesson\nprint(setup_lesson())"),
        nbformat.v4.new_code_cell("for i in range(3):\n    print(i, flush=True)"),
        nbformat.v4.new_code_cell("raise ValueError('meant to')", metadata={"tags": ["raises-exception"]}),
    ]
    path = tmp_path / "mini.ipynb"
    nbformat.write(notebook, path)
    regenerate(path)
    first = path.read_bytes()
    regenerate(path)
    assert path.read_bytes() == first
    cells = nbformat.reads(first.decode(), as_version=4).cells
    assert [o.get("name") for o in cells[0].outputs] == ["stdout"]  # no stderr stream: no TF noise
    assert cells[0].outputs[0]["text"].startswith("fitgen-kit ready: TensorFlow 2.21.0")
    assert cells[1].outputs[0]["text"] == "0\n1\n2\n"  # three chunks merged into one
    assert cells[2].outputs[0]["ename"] == "ValueError"
    assert [cell.execution_count for cell in cells] == [1, 2, 3]


def lessons() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_clean_masks_every_number_of_a_measured_cell_and_drops_its_plots() -> None:
    notebook = nbformat.v4.new_notebook()
    measured = nbformat.v4.new_code_cell("m", metadata={"tags": ["nbval-ignore-output", "measured"]})
    measured.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="fast   1,374 images/s, 3.4x,  34%\n"),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure 560x240>"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "0.42"}, execution_count=1),
    ]
    notebook.cells = [measured]
    outputs = clean(notebook).cells[0].outputs
    assert outputs[0]["text"] == "fast # images/s, #x, #%\n"
    assert [output["output_type"] for output in outputs] == ["stream", "execute_result"]
    assert outputs[1]["data"]["text/plain"] == "#"
    compared = nbformat.v4.new_code_cell("m", metadata={"tags": ["measured"]})
    notebook.cells = [compared]
    with pytest.raises(ValueError, match="must also be tagged 'nbval-ignore-output'"):
        clean(notebook)


def test_there_are_lessons() -> None:
    assert [path.name for path in lessons()][:1] == ["00_start_here.ipynb"]


def test_committed_notebooks_carry_regen_outputs() -> None:
    for path in lessons():
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert "widgets" not in notebook.metadata, path.name
        assert notebook.metadata["kernelspec"]["name"] == "fitgen-kit", path.name
        code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1)), path.name
        assert all("execution" not in cell.metadata for cell in notebook.cells), path.name


def test_lessons_follow_the_house_rules() -> None:
    for path in lessons():
        notebook = nbformat.read(path, as_version=4)
        headings = [
            line
            for cell in notebook.cells
            if cell.cell_type == "markdown"
            for line in cell.source.splitlines()
            if line.startswith("# ")
        ]
        assert len(headings) == 1 and notebook.cells[0].source.startswith("# "), f"{path.name}: one H1, first"
        code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert "setup_lesson(" in code_cells[0].source, f"{path.name}: the first code cell calls setup_lesson()"
        for cell in code_cells:
            tags = cell.metadata.get("tags", [])
            for output in cell.outputs:
                assert output.get("name") != "stderr", f"{path.name}: stderr output in {cell.source[:60]!r}"
                if output.output_type == "error":
                    assert "raises-exception" in tags, f"{path.name}: unexpected error in {cell.source[:60]!r}"
        text = " ".join(cell.source for cell in notebook.cells)
        assert "### BEGIN SOLUTION" in text and "### END SOLUTION" in text, f"{path.name}: exercises"
        assert "Summary" in text, f"{path.name}: a summary"
