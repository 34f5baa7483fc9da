"""The fitgen-check command: files, folders and notebooks, exit codes, formats, selections, --fix and --diff."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import code_reading
from helpers.datasets import REPO_ROOT
from helpers.fitgen_check import load_ipython_extension, main, time_checker

RECIPE = (REPO_ROOT / "notebooks" / "classic_recipe.py").read_text()


def notebook(*cells: tuple[str, str], outputs: list | None = None) -> str:
    """A notebook in Jupyter's own JSON layout (what JupyterLab and nbformat write)."""
    content = {
        "cells": [
            {"cell_type": kind, "id": f"c{n}", "metadata": {}, "source": source.splitlines(keepends=True)}
            | ({"execution_count": 1, "outputs": outputs or []} if kind == "code" else {})
            for n, (kind, source) in enumerate(cells)
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(content, indent=1, ensure_ascii=False) + "\n"


def run(capsys: pytest.CaptureFixture[str], *arguments: object) -> tuple[int, str, str]:
    code = main([str(argument) for argument in arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_clean_file_exits_0_and_a_recipe_exits_1_naming_each_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "clean.py").write_text("import math\nmodel.fit(gen, steps_per_epoch=math.ceil(n / 32))\n")
    assert run(capsys, tmp_path / "clean.py") == (0, "no problems found\n", "")
    (tmp_path / "recipe.py").write_text(RECIPE)
    code, out, _ = run(capsys, tmp_path / "recipe.py")
    assert code == 1
    assert [line.split(": ")[1].split()[0] for line in out.splitlines()] == [
        "FG001",
        "FG005",
        "FG002",
        "FG003",
        "FG004",
    ]
    assert out.splitlines()[0].startswith(f"{tmp_path / 'recipe.py'}:5:1: FG001 keras3-legacy-import: ")
    assert "(lesson 03, section 3) [fixable]" in out


def test_notebooks_cells_magics_and_names_followed_across_cells(tmp_path: Path, capsys) -> None:
    path = tmp_path / "lesson.ipynb"
    path.write_text(
        notebook(
            ("markdown", "# My training"),
            ("code", "%matplotlib inline\n!pip install tensorflow\nsteps = n / bs"),
            ("code", "%%time\nmodel.fit(gen,\n          steps_per_epoch=steps)  # wrong\nmodel.fit?"),
            ("code", "%%bash\necho model.fit_generator(x)"),
            ("code", "files = !ls\nif True:\n    %timeit model.fit_generator(g)\n"),
        )
    )
    code, out, _ = run(capsys, path)
    found = [line.split(": ")[0] + " " + line.split(": ")[1].split()[0] for line in out.splitlines()]
    assert code == 1 and found == [f"{path}:cell 3:line 3:col 27 FG003", f"{path}:cell 5:line 3:col 13 FG002"]
    # %%bash is not Python, the name 'steps' is followed from cell 2, and %timeit's statement is checked


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.py", None, "no such file or folder"),
        ("empty.py", b"", "empty, nothing to check"),
        ("binary.py", b"\x00\x01\x02PK", "a binary file"),
        ("broken.py", b"model.fit(\n", "broken.py:1: syntax error ("),
        ("latin.py", b"# caf\xe9\nx = 1\n", "cannot be read as text"),
        ("bad.ipynb", b"{not json", "not a notebook (its JSON is broken"),
        ("list.ipynb", b"[1, 2]", "not a notebook (no list of cells)"),
        ("cellbad.ipynb", notebook(("code", "model.fit(\n")).encode(), "cellbad.ipynb:cell 1:line 1: syntax error"),
    ],
)
def test_what_cannot_be_read_is_one_line_and_exit_2(tmp_path: Path, capsys, name: str, content, words: str) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    code, _, err = run(capsys, tmp_path / name)
    assert code == 2 and err.count("\n") == 1 and err.startswith("fitgen-check: error: ") and words in err, err


def test_a_huge_file_is_refused(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(code_reading, "MAX_PYTHON_BYTES", 100)
    (tmp_path / "huge.py").write_text("x = 1\n" * 50)
    code, _, err = run(capsys, tmp_path / "huge.py")
    assert code == 2 and "300 bytes, too large" in err


def test_folders_skip_hidden_and_environment_folders(tmp_path: Path, capsys) -> None:
    for relative in ("a/train.py", ".venv/lib/x.py", "a/.ipynb_checkpoints/t-checkpoint.py", "venv/y.py", "a/n.txt"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("model.fit_generator(g)\n")
    code, out, _ = run(capsys, tmp_path)
    assert code == 1 and len(out.splitlines()) == 1 and "a/train.py:1:1: FG002" in out


def test_json_format_select_ignore_and_inline_comments(tmp_path: Path, capsys) -> None:
    (tmp_path / "recipe.py").write_text(RECIPE)
    code, out, _ = run(capsys, tmp_path / "recipe.py", "--format", "json", "--select", "FG003,shear-in-degrees")
    records = json.loads(out)
    assert code == 1 and [r["rule"] for r in records["problems"]] == ["FG005", "FG003"]
    assert records["problems"][1] | {"path": None, "message": None} == {
        "path": None, "cell": None, "line": 20, "column": 21, "rule": "FG003", "name": "float-steps",
        "message": None, "lesson": "lesson 03, section 3", "fixable": True,
    }  # fmt: skip
    code, out, _ = run(capsys, tmp_path / "recipe.py", "--ignore", "FG001", "--ignore", "fit-generator,FG004,FG005")
    assert code == 1 and [line.split(": ")[1][:5] for line in out.splitlines()] == ["FG003"]
    comments = {
        "from keras.preprocessing": "  # fitgen: ignore",
        "train_datagen = ": "  # fitgen: ignore[FG004]",  # a wrong id silences nothing
        "steps_per_epoch=": "  # fitgen: ignore[float-steps, FG002]",
    }
    lines = [line + next((c for start, c in comments.items() if line.lstrip().startswith(start)), "") for line in
             RECIPE.splitlines()]  # fmt: skip
    (tmp_path / "commented.py").write_text("\n".join(lines) + "\n")
    code, out, _ = run(capsys, tmp_path / "commented.py")
    assert [line.split(": ")[1][:5] for line in out.splitlines()] == ["FG005", "FG002", "FG004"]


@pytest.mark.parametrize(
    ("arguments", "words"), [(["x.py", "--select", "FG099"], "unknown rule 'FG099'"), ([], "PATH")]
)
def test_bad_arguments_are_one_line_and_exit_2(capsys, arguments: list[str], words: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and err.count("\n") == 1 and words in err


def test_fix_round_trip_changes_only_the_fixed_spans(tmp_path: Path, capsys) -> None:
    path = tmp_path / "recipe.py"
    path.write_text(RECIPE)
    code, out, _ = run(capsys, path, "--diff")
    assert code == 1 and path.read_text() == RECIPE and "+history = model.fit(" in out  # --diff writes nothing
    assert "FG005 shear-in-degrees" in out  # and still reports what it cannot fix
    code, out, _ = run(capsys, path, "--fix")
    fixed = path.read_text()
    ast.parse(fixed)
    assert code == 1 and "fixed 3 problem(s); 2 left to decide" in out and "[fixable]" not in out
    expected = (
        RECIPE.replace("from keras.preprocessing", "import math\nfrom tensorflow.keras.preprocessing")
        .replace("model.fit_generator(", "model.fit(")
        .replace("=train_generator.samples / batch_size", "=math.ceil(train_generator.samples / batch_size)")
    )
    assert fixed == expected
    assert run(capsys, path, "--fix")[1].endswith("fixed 0 problem(s); 2 left to decide\n")  # a second run: nothing


def test_fix_uses_the_ceil_already_imported_and_keeps_a_docstring_shebang_and_future(tmp_path: Path, capsys) -> None:
    path = tmp_path / "train.py"
    header = '#!/usr/bin/env python\n"""Doc."""\nfrom __future__ import annotations\n'
    path.write_text(header + "from math import ceil as up\nmodel.fit(g, steps_per_epoch=n / b)  # comment kept\n")
    run(capsys, path, "--fix")
    assert path.read_text().endswith(
        "from math import ceil as up\nmodel.fit(g, steps_per_epoch=up(n / b))  # comment kept\n"
    )
    bare = tmp_path / "bare.py"
    bare.write_text(header + "\nx = model.fit(g, validation_steps=v / 2)\n")
    run(capsys, bare, "--fix")
    assert bare.read_text() == (
        '#!/usr/bin/env python\n"""Doc."""\nfrom __future__ import annotations\nimport math\n\n'
        "x = model.fit(g, validation_steps=math.ceil(v / 2))\n"
    )


def test_fix_in_a_notebook_keeps_outputs_and_every_other_byte(tmp_path: Path, capsys) -> None:
    outputs = [{"name": "stdout", "output_type": "stream", "text": ["Epoch 1/5 ... steps_per_epoch=n / b\n"]}]
    path = tmp_path / "train.ipynb"
    original = notebook(
        ("markdown", "Uses `fit_generator(...)`: prose is not code."),
        ("code", "%matplotlib inline\nsteps = n / b\nmodel.fit_generator(g, steps_per_epoch=n / b)"),
        ("code", "model.evaluate_generator(v, steps=len(v))\nmodel.fit(g, validation_steps=m / b)"),
        outputs=outputs,
    )
    path.write_text(original)
    code, _, _ = run(capsys, path, "--fix")
    after = json.loads(path.read_text())
    assert [cell.get("outputs") for cell in after["cells"]] == [None, outputs, outputs]
    sources = ["".join(cell["source"]) for cell in after["cells"]]
    assert (
        sources[1] == "import math\n%matplotlib inline\nsteps = n / b\nmodel.fit(g, steps_per_epoch=math.ceil(n / b))"
    )
    assert sources[2] == "model.evaluate(v, steps=len(v))\nmodel.fit(g, validation_steps=math.ceil(m / b))"
    assert code == 0 and path.read_text() == notebook(
        ("markdown", "Uses `fit_generator(...)`: prose is not code."), ("code", sources[1]), ("code", sources[2]),
        outputs=outputs,
    )  # fmt: skip


def test_a_notebook_in_another_json_layout_is_not_rewritten(tmp_path: Path, capsys) -> None:
    path = tmp_path / "vscode.ipynb"
    content = json.loads(notebook(("code", "model.fit_generator(g)")))
    path.write_text(json.dumps(content, indent=2))
    before = path.read_bytes()
    code, _, err = run(capsys, path, "--fix")
    assert code == 2 and "not fixed: its JSON layout is not Jupyter's own" in err and path.read_bytes() == before


def test_the_command_runs_as_a_module_and_as_a_console_script(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("model.fit_generator(g)\n")
    module = subprocess.run(
        [sys.executable, "-m", "helpers.fitgen_check", str(tmp_path)], capture_output=True, text=True
    )
    assert module.returncode == 1 and "FG002" in module.stdout
    script = Path(sys.executable).with_name("fitgen-check")
    installed = subprocess.run([str(script), str(tmp_path / "t.py")], capture_output=True, text=True, cwd=tmp_path)
    assert installed.returncode == 1 and "FG002" in installed.stdout and "Traceback" not in installed.stderr


def test_the_cell_magic_checks_a_cell_without_running_it(capsys) -> None:
    registered = {}

    class FakeShell:
        def register_magic_function(self, function, kind: str, name: str) -> None:
            registered[(kind, name)] = function

    load_ipython_extension(FakeShell())
    registered[("cell", "fitgen_check")]("", "model.fit_generator(g, workers=4)\n")
    out = capsys.readouterr().out
    assert "line 1: FG002 fit-generator" in out and "FG012 fit-worker-arguments" in out
    registered[("cell", "fitgen_check")]("", "model.fit(\n")
    assert capsys.readouterr().out.startswith("line 1: syntax error (")


def test_time_checker_measures_both_sizes() -> None:
    timings = time_checker(lines=200, cells=5)
    assert set(timings) == {"script", "notebook"} and all(seconds > 0 for seconds in timings.values())


def test_a_typo_in_an_ignore_comment_silences_nothing_and_stops_nothing(tmp_path: Path, capsys) -> None:
    (tmp_path / "a.py").write_text("model.fit(g, steps_per_epoch=n / bs)  # fitgen: ignore[FG3]\n")
    (tmp_path / "b.py").write_text("model.fit_generator(g)\n")
    code, out, err = run(capsys, tmp_path)
    assert code == 1 and "a.py:1:30: FG003" in out and "b.py:1:1: FG002" in out and err == ""


@pytest.mark.parametrize("separator", ["\x0c", "\u2028", "\x1c"])
def test_fix_counts_lines_as_python_does(tmp_path: Path, capsys, separator: str) -> None:
    """str.splitlines also splits at a form feed, U+2028 and others; Python's parser does not."""
    path = tmp_path / "odd.py"
    path.write_text(f'import os\n\x0c\nx = "a{separator}b"\nmodel.fit_generator(g, steps_per_epoch=n / bs)\n')
    code, _, _ = run(capsys, path, "--fix")
    fixed = path.read_text()
    ast.parse(fixed)
    assert code == 0 and fixed.endswith("model.fit(g, steps_per_epoch=math.ceil(n / bs))\n")


@pytest.mark.parametrize(
    "call",
    [
        "model.fit_generator(train_gen, 100, 10)",  # fit's second positional argument is y
        "model.predict_generator(test_gen, 50)",  # predict's is batch_size
        "model.fit_generator(generator=train_gen, steps_per_epoch=10)",
        "model.fit_generator(train_gen, samples_per_epoch=2000, nb_epoch=5)",  # Keras 1
    ],
)
def test_a_rename_that_would_change_meaning_is_reported_not_made(tmp_path: Path, capsys, call: str) -> None:
    path = tmp_path / "old.py"
    path.write_text(call + "\n")
    code, out, _ = run(capsys, path, "--fix")
    assert code == 1 and path.read_text() == call + "\n" and "rewrite" in out and "by hand" in out


def test_fix_keeps_the_files_encoding_bom_and_line_endings(tmp_path: Path, capsys) -> None:
    latin = tmp_path / "latin.py"
    latin.write_bytes('# -*- coding: latin-1 -*-\nname = "café"\nmodel.fit_generator(g)\n'.encode("latin-1"))
    bom = tmp_path / "bom.py"
    bom.write_bytes("\ufeffmodel.fit_generator(g)\n".encode())
    crlf = tmp_path / "crlf.py"
    crlf.write_bytes(b"import os\r\nmodel.fit(g, steps_per_epoch=n / b)\r\n")
    run(capsys, tmp_path, "--fix")
    assert latin.read_bytes() == '# -*- coding: latin-1 -*-\nname = "café"\nmodel.fit(g)\n'.encode("latin-1")
    assert bom.read_bytes() == "\ufeffmodel.fit(g)\n".encode()
    assert crlf.read_bytes() == b"import math\r\nimport os\r\nmodel.fit(g, steps_per_epoch=math.ceil(n / b))\r\n"


def test_pipes_deep_nesting_and_edge_arguments_are_one_line(tmp_path: Path, capsys) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "deep.py").write_text("x = " + "+".join(["1"] * 5000) + "\n")
    (tmp_path / "chain.py").write_text("x = a" + ".b" * 3000 + "\n")
    (tmp_path / "empty_folder").mkdir()
    for name, words in (("pipe.py", "not a regular file"), ("deep.py", "deep"), ("chain.py", "deep")):
        code, out, err = run(capsys, tmp_path / name)
        assert code == 2 and err.count("\n") == 1 and words in err and out == "", (name, err)
    (tmp_path / "good.py").write_text("x = 1\n")
    code, out, err = run(capsys, tmp_path / "empty_folder", tmp_path / "good.py", tmp_path / "good.py")
    assert code == 2 and "a folder with no .py or .ipynb files" in err and out == ""
    with pytest.raises(SystemExit):
        main([str(tmp_path / "good.py"), "--select", ""])
    assert "needs at least one rule" in capsys.readouterr().err
