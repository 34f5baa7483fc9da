"""The pre-commit hook that refuses outputs not written by make regen; the hook and CI configuration files."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.check_committed_notebooks import main, notebook_problems
from tests.regen_notebooks import KERNELSPEC, LANGUAGE_INFO, WIDGET_VIEW

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
out = nbformat.v4.new_output


def regen_like() -> nbformat.NotebookNode:
    """A small notebook exactly as make regen leaves one."""
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)})
    first = nbformat.v4.new_code_cell("print('a')\nprint('b')", execution_count=1)
    first.outputs = [out("stream", name="stdout", text="a\nb\n")]
    second = nbformat.v4.new_code_cell("6 * 7", execution_count=2)
    second.outputs = [out("execute_result", data={"text/plain": "42"}, execution_count=2)]
    timed = nbformat.v4.new_code_cell("train()", execution_count=3, metadata={"tags": ["nbval-ignore-output"]})
    timed.outputs = [out("stream", name="stdout", text="took <t> s\n")]
    failing = nbformat.v4.new_code_cell("import missing", execution_count=4, metadata={"tags": ["raises-exception"]})
    failing.outputs = [
        out(
            "error",
            ename="ImportError",
            evalue=f"cannot import name 'x' ({sys.prefix}/lib/python3.11/site-packages/keras/__init__.py)",
            traceback=[f"File {ROOT}/helpers/runtime.py:1"],  # tracebacks are never compared, so never refused
        )
    ]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Title"), first, second, timed, failing]
    return notebook


def problems_of(notebook: nbformat.NotebookNode, tmp_path: Path) -> list[str]:
    path = tmp_path / "lesson.ipynb"
    nbformat.write(notebook, path)
    return notebook_problems(path, "lesson.ipynb")


def test_a_notebook_as_make_regen_writes_it_passes(tmp_path: Path) -> None:
    assert problems_of(regen_like(), tmp_path) == []


def _unrun(nb: nbformat.NotebookNode) -> None:
    nb.cells[1].execution_count = None


def _out_of_order(nb: nbformat.NotebookNode) -> None:
    nb.cells[1].execution_count = 5


def _timed(nb: nbformat.NotebookNode) -> None:
    nb.cells[2].metadata["execution"] = {"iopub.status.busy": "2026-11-27T00:00:00Z"}


def _widgets(nb: nbformat.NotebookNode) -> None:
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}


def _python3(nb: nbformat.NotebookNode) -> None:
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _unmerged(nb: nbformat.NotebookNode) -> None:
    nb.cells[1].outputs = [out("stream", name="stdout", text="a\n"), out("stream", name="stdout", text="b\n")]


def _machine_path(nb: nbformat.NotebookNode) -> None:
    nb.cells[1].outputs[0]["text"] = f"saved to {ROOT}/data/shapes\n"


def _widget_id(nb: nbformat.NotebookNode) -> None:
    nb.cells[2].outputs[0]["data"][WIDGET_VIEW] = {"model_id": "a1b2", "version_major": 2, "version_minor": 0}


def _unmasked(nb: nbformat.NotebookNode) -> None:
    nb.cells[3].outputs[0]["text"] = "took 9.2 s\n"


def _empty(nb: nbformat.NotebookNode) -> None:
    nb.cells.insert(1, nbformat.v4.new_code_cell(""))


def _result_count(nb: nbformat.NotebookNode) -> None:
    nb.cells[2].outputs[0]["execution_count"] = 7


def _language(nb: nbformat.NotebookNode) -> None:
    nb.metadata["language_info"]["version"] = "3.11.9"


def _scrolled(nb: nbformat.NotebookNode) -> None:
    nb.cells[3].metadata["scrolled"] = True


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (_unrun, "lesson.ipynb: cell 2: outputs but no execution count (saved from an unrun cell): run make regen"),
        (_out_of_order, "lesson.ipynb: cell 2: execution count 5, expected 1 (cells run in order): run make regen"),
        (_timed, "lesson.ipynb: cell 3: metadata.execution (timing or view state): run make regen"),
        (_widgets, "lesson.ipynb: widget state in metadata.widgets: run make regen"),
        (_python3, "lesson.ipynb: kernel spec is not 'fitgen-kit' (Python (fitgen-kit)): run make regen"),
        (_unmerged, "lesson.ipynb: cell 2: unmerged consecutive stream outputs: run make regen"),
        (
            _machine_path,
            f"lesson.ipynb: cell 2: output shows this machine's path {ROOT}: print paths relative to the repo",
        ),
        (_widget_id, "lesson.ipynb: cell 3: widget model id in an output: run make regen"),
        (
            _unmasked,
            "lesson.ipynb: cell 4: unmasked timings or addresses in an nbval-ignore-output cell: run make regen",
        ),
        (
            _empty,
            "lesson.ipynb: cell 2: make regen never runs an empty or skip-execution cell, so it has no count: delete",
        ),
        (_result_count, "lesson.ipynb: cell 3: a result's execution count differs from its cell's: run make regen"),
        (_language, "lesson.ipynb: language_info differs from what make regen writes: run make regen"),
        (_scrolled, "lesson.ipynb: cell 4: metadata.scrolled (timing or view state): run make regen"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else None,
)
def test_each_trace_of_a_manual_save_is_one_line_naming_cell_and_fix(
    spoil: Callable[[nbformat.NotebookNode], None], expected: str, tmp_path: Path
) -> None:
    notebook = regen_like()
    spoil(notebook)
    problems = problems_of(notebook, tmp_path)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_an_unreadable_notebook_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "broken.ipynb").write_text("{not json")
    [problem] = notebook_problems(tmp_path / "broken.ipynb", "broken.ipynb")
    assert problem.startswith("broken.ipynb: not a readable notebook (")


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.stem)
def test_committed_lessons_pass(lesson: Path) -> None:
    problems = notebook_problems(lesson, lesson.name)
    assert not problems, "\n".join(problems)


def test_main_prints_one_line_per_problem_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = regen_like(), regen_like()
    _unrun(bad)
    _timed(bad)
    nbformat.write(good, tmp_path / "good.ipynb")
    nbformat.write(bad, tmp_path / "bad.ipynb")
    assert main([str(tmp_path / "good.ipynb")]) == 0 and capsys.readouterr().out == ""
    assert main([str(tmp_path / "good.ipynb"), str(tmp_path / "bad.ipynb")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[1] for line in lines] == ["cell 2", "cell 3"] and all(str(tmp_path) in x for x in lines)


def local_hooks() -> dict[str, dict]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    return {hook["id"]: hook for repo in config["repos"] if repo["repo"] == "local" for hook in repo["hooks"]}


def test_pre_commit_runs_ruff_and_the_notebook_check_from_the_venv() -> None:
    hooks = local_hooks()
    assert set(hooks) == {"ruff-check", "ruff-format", "committed-notebooks"}
    assert all(hook["language"] == "system" and hook["entry"].startswith(".venv/bin/") for hook in hooks.values())
    assert all((ROOT / shlex.split(hook["entry"])[0]).exists() for hook in hooks.values())


def test_the_notebook_hook_entry_works_as_pre_commit_calls_it(tmp_path: Path) -> None:
    hook = local_hooks()["committed-notebooks"]
    bad = regen_like()
    _widgets(bad)
    nbformat.write(bad, tmp_path / "bad.ipynb")
    command = [*shlex.split(hook["entry"]), str(LESSONS[0].relative_to(ROOT)), str(tmp_path / "bad.ipynb")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)  # as pre-commit: from the repo root
    assert result.returncode == 1, result.stderr
    assert result.stdout == f"{tmp_path / 'bad.ipynb'}: widget state in metadata.widgets: run make regen\n"


def test_ci_workflow_runs_make_test_on_python_3_11_with_a_time_limit() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "notebooks.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert {"push", "pull_request"} <= set(triggers)
    assert workflow["permissions"] == {"contents": "read"} and "group" in workflow["concurrency"]
    [job] = workflow["jobs"].values()
    assert 0 < job["timeout-minutes"] <= 60
    assert job["container"].startswith("python:3.11-")  # Debian: apt's chromium is a real browser there
    assert any(step.get("run", "").strip() == ".ci/run" for step in job["steps"])
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    slow = ["make test-student", "make test-tools", "make test-classroom", "make test-anywhere"]
    assert commands[-5:] == ["make test", *slow]
    targets = [command.split()[1] for command in commands[-5:]]  # each is a real target, defined once
    dry_run = subprocess.run(["make", "-n", *targets], cwd=ROOT, capture_output=True, text=True, check=False)
    assert dry_run.returncode == 0 and "warning" not in dry_run.stderr, dry_run.stderr
