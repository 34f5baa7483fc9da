"""The offline dataset builder: reproducible bytes, manifest, refusal rules, CLI errors, speed."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from data_scripts import make_shapes
from helpers.dataset_files import listed_files
from helpers.datasets import (
    MANIFEST_NAME,
    PARTIAL_MARKER,
    DatasetError,
    DatasetSpec,
    describe_extra_files,
    describe_manifest,
    display_path,
    ensure_dataset,
    extra_files,
    read_manifest,
    write_dataset,
)
from helpers.shapes import KINDS, draw_image
from tests.conftest import TINY_SPEC


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def test_layout_counts_and_manifest(tiny_dataset: Path) -> None:
    manifest = read_manifest(tiny_dataset)
    assert manifest["classes"] == ["circle", "square"]
    for split, per_class in (("train", 6), ("val", 2), ("test", 2)):
        for name in ("circle", "square"):
            files = sorted((tiny_dataset / split / name).glob("*.jpg"))
            assert len(files) == per_class == manifest["counts"][split][name]
    assert manifest["total"] == 20 and len(manifest["files"]) == 20
    assert not (tiny_dataset / PARTIAL_MARKER).exists()
    summary = describe_manifest(manifest)
    assert "20 images of 48x48 px, seed 7" in summary and "train circle 6, square 6" in summary


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, tiny_dataset: Path) -> None:
    again = write_dataset(tmp_path / "again" / "shapes", TINY_SPEC)
    assert tree_hashes(tmp_path / "again" / "shapes") == tree_hashes(tiny_dataset)  # manifest included
    assert again["sha256"] == read_manifest(tiny_dataset)["sha256"]
    other = write_dataset(tmp_path / "other", DatasetSpec(**{**TINY_SPEC.__dict__, "seed": 8}))
    assert other["sha256"] != again["sha256"]


def test_images_are_rgb_jpegs_of_the_stored_size(tiny_dataset: Path) -> None:
    from PIL import Image

    with Image.open(next((tiny_dataset / "train" / "square").glob("*.jpg"))) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (48, 48))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_classes_differ_in_shape_not_only_in_noise(kind: str) -> None:
    first, second = KINDS[kind]
    a = np.asarray(draw_image(first, np.random.default_rng(1), 64), dtype=float)
    b = np.asarray(draw_image(second, np.random.default_rng(1), 64), dtype=float)
    assert np.abs(a - b).mean() > 1.0  # same background and colour draw, different shape


@pytest.mark.parametrize("seed", range(20))
def test_arrow_tips_point_the_way_their_class_says(seed: int) -> None:
    from helpers.shapes import _outline

    right_tip_x = _outline("right", np.random.default_rng(seed))[3][0]
    left_tip_x = _outline("left", np.random.default_rng(seed))[3][0]
    assert right_tip_x > 0.9 and left_tip_x < -0.9  # rotated by at most 15 degrees: cos(15) = 0.97


def test_second_run_does_nothing(tiny_dataset: Path) -> None:
    before = tree_hashes(tiny_dataset)
    result = write_dataset(tiny_dataset, TINY_SPEC)
    assert result["status"] == "already present"
    assert tree_hashes(tiny_dataset) == before


def test_refuses_a_folder_it_did_not_create(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("my homework")
    with pytest.raises(DatasetError, match=r"not empty and was not made by this script.*--force"):
        write_dataset(target, TINY_SPEC)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    write_dataset(target, TINY_SPEC, force=True)
    assert (target / "notes.txt").read_text() == "my homework"
    assert (target / MANIFEST_NAME).exists()


def test_other_settings_need_force_and_only_our_files_are_replaced(tmp_path: Path) -> None:
    target = tmp_path / "shapes"
    write_dataset(target, TINY_SPEC)
    (target / "train" / "circle" / "keep_me.txt").write_text("user file")
    bigger = DatasetSpec(**{**TINY_SPEC.__dict__, "train": 3})
    with pytest.raises(DatasetError, match="other settings"):
        write_dataset(target, bigger)
    write_dataset(target, bigger, force=True)
    assert len(list((target / "train" / "circle").glob("*.jpg"))) == 3
    assert (target / "train" / "circle" / "keep_me.txt").read_text() == "user file"


def test_interrupted_build_is_redone(tmp_path: Path) -> None:
    target = tmp_path / "shapes"
    target.mkdir()
    (target / PARTIAL_MARKER).write_text("")
    (target / "train").mkdir()
    assert write_dataset(target, TINY_SPEC)["status"] == "written"


def test_stale_generator_is_rebuilt(tmp_path: Path) -> None:
    target = tmp_path / "shapes"
    write_dataset(target, TINY_SPEC)
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    manifest["generator"] = "older"
    (target / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert write_dataset(target, TINY_SPEC)["status"] == "written"


def test_a_file_is_not_a_target(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match="is a file"):
        write_dataset(tmp_path / "file", TINY_SPEC)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"kind": "cats"}, "Unknown dataset kind"),
        ({"train": 0}, "--train"),
        ({"size": 8}, "--size"),
        ({"seed": -1}, "--seed"),
    ],
)
def test_bad_specs_are_refused(override: dict, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        DatasetSpec(**{**TINY_SPEC.__dict__, **override})


def test_draw_image_rejects_unknown_class_and_tiny_size() -> None:
    with pytest.raises(ValueError, match="Unknown class 'dog'"):
        draw_image("dog", np.random.default_rng(0))
    with pytest.raises(ValueError, match="too small"):
        draw_image("circle", np.random.default_rng(0), size=8)


def test_ensure_dataset_builds_under_fitgen_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FITGEN_DATA", str(tmp_path))
    monkeypatch.setattr("helpers.datasets.DEFAULT_SPECS", {"shapes": TINY_SPEC})
    assert ensure_dataset("shapes") == tmp_path / "shapes"
    assert read_manifest(tmp_path / "shapes")["total"] == 20
    with pytest.raises(DatasetError, match="No dataset called 'cats' under .*fetch a real one first"):
        ensure_dataset("cats")
    for split in ("train", "val"):
        (tmp_path / "cats" / split).mkdir(parents=True)
    assert ensure_dataset("cats") == tmp_path / "cats"  # a fetched dataset is used as it is


def test_display_path_is_relative_inside_the_repository(tmp_path: Path) -> None:
    assert display_path(Path(__file__)) == "tests/test_datasets.py"
    assert display_path(tmp_path) == str(tmp_path)


def test_cli_writes_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--out", str(tmp_path / "mini"), "--train", "2", "--val", "1", "--test", "1", "--size", "32", "--quiet"]
    assert make_shapes.main(argv) == 0
    assert "wrote 8 images" in capsys.readouterr().out
    assert make_shapes.main(argv) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_cli_refusal_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.txt").write_text("x")
    assert make_shapes.main(["--out", str(tmp_path), "--quiet"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and error.startswith("make_shapes.py: error:") and "--force" in error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--train", "0"], "expected a whole number >= 1, got '0'"),
        (["--val", "ten"], "expected a whole number >= 1, got 'ten'"),
        (["--seed", "-3"], "expected a whole number >= 0, got '-3'"),
        (["--size", "8"], "expected 16 to 1024 pixels, got 8"),
        (["--kind", "cats"], "invalid choice: 'cats'"),
        (["--sede", "1"], "unrecognized arguments: --sede"),
    ],
)
def test_cli_bad_arguments(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        make_shapes.main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and error.startswith("make_shapes.py: error:")


def test_a_foreign_manifest_is_not_trusted(tmp_path: Path) -> None:
    target = tmp_path / "theirs"
    target.mkdir()
    (target / MANIFEST_NAME).write_text("[1, 2, 3]")
    with pytest.raises(DatasetError, match="was not made by this script"):
        write_dataset(target, TINY_SPEC)


def test_deletion_never_follows_the_manifest_outside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "shapes"
    write_dataset(target, TINY_SPEC)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    manifest["files"] += ["../precious.txt", str(outside)]
    (target / MANIFEST_NAME).write_text(json.dumps(manifest))
    write_dataset(target, DatasetSpec(**{**TINY_SPEC.__dict__, "train": 2}), force=True)
    assert outside.read_text() == "keep"


def test_a_symlinked_class_folder_is_neither_emptied_nor_written_through(tmp_path: Path) -> None:
    target = tmp_path / "shapes"
    write_dataset(target, TINY_SPEC)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "circle_0000.jpg").write_bytes(b"user photo")
    shutil.rmtree(target / "test" / "circle")
    (target / "test" / "circle").symlink_to(elsewhere, target_is_directory=True)
    before = tree_hashes(target)
    with pytest.raises(DatasetError, match=r"test/circle/circle_0000\.jpg .* is in the way.*Nothing was changed"):
        write_dataset(target, DatasetSpec(**{**TINY_SPEC.__dict__, "train": 2}), force=True)
    assert (elsewhere / "circle_0000.jpg").read_bytes() == b"user photo" and tree_hashes(target) == before


def test_a_user_file_beside_the_generated_ones_survives_a_rebuild(tmp_path: Path) -> None:
    """The review's reproduction: a user's left_0200.jpg, a deleted left_0005.jpg, then ensure_dataset."""
    spec = DatasetSpec(kind="arrows", train=6, val=2, test=2, size=32, seed=3)
    target = tmp_path / "arrows"
    write_dataset(target, spec)
    (target / "train" / "left" / "left_0200.jpg").write_bytes(b"my own arrow")
    (target / "train" / "left" / "left_0005.jpg").unlink()
    result = write_dataset(target, spec)
    assert result["status"] == "written" and (target / "train" / "left" / "left_0005.jpg").is_file()
    assert (target / "train" / "left" / "left_0200.jpg").read_bytes() == b"my own arrow"
    assert result["extra_files"] == ["train/left/left_0200.jpg"]
    note = describe_extra_files(target, result["extra_files"])
    assert "1 file(s) this script did not make, left as they are: train/left/left_0200.jpg" in note


def test_a_user_file_where_the_script_would_write_is_refused_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "shapes"
    write_dataset(target, TINY_SPEC)
    (target / "train" / "circle" / "circle_0007.jpg").write_bytes(b"mine")
    before = tree_hashes(target)
    with pytest.raises(DatasetError, match=r"circle_0007\.jpg is in the way.*did not write that file"):
        write_dataset(target, DatasetSpec(**{**TINY_SPEC.__dict__, "train": 9}), force=True)
    assert tree_hashes(target) == before


def test_only_listed_files_go_whatever_their_names(tmp_path: Path) -> None:
    """Deletion follows the manifest, not a name pattern: a 5-digit index (10,000 images and more) goes too."""
    target = tmp_path / "shapes"
    write_dataset(target, TINY_SPEC)
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    (target / "train" / "circle" / "circle_10000.jpg").write_bytes(b"generated earlier")
    manifest["files"].append("train/circle/circle_10000.jpg")
    (target / MANIFEST_NAME).write_text(json.dumps(manifest))
    write_dataset(target, DatasetSpec(**{**TINY_SPEC.__dict__, "train": 2}), force=True)
    assert sorted(p.name for p in (target / "train" / "circle").iterdir()) == ["circle_0000.jpg", "circle_0001.jpg"]


def test_edited_or_deleted_images_are_restored(tmp_path: Path, tiny_dataset: Path) -> None:
    target = tmp_path / "shapes"
    write_dataset(target, TINY_SPEC)
    (target / "val" / "square" / "square_0001.jpg").write_bytes(b"scribbled")
    (target / "test" / "circle" / "circle_0000.jpg").unlink()
    assert write_dataset(target, TINY_SPEC)["status"] == "written"
    assert tree_hashes(target) == tree_hashes(tiny_dataset)


class Interrupt(Exception):
    """Stands for Ctrl-C in the middle of a build."""


def interrupted_after(count: int) -> Callable[[Iterable], Iterable]:
    def progress(files: Iterable) -> Iterable:
        for number, item in enumerate(files):
            if number == count:
                raise Interrupt
            yield item

    return progress


def test_interrupted_build_leaves_no_extra_images(tmp_path: Path) -> None:
    target = tmp_path / "shapes"
    write_dataset(target, DatasetSpec(**{**TINY_SPEC.__dict__, "train": 9}))
    with pytest.raises(Interrupt):
        write_dataset(
            target, DatasetSpec(**{**TINY_SPEC.__dict__, "train": 8}), force=True, progress=interrupted_after(5)
        )
    assert (target / PARTIAL_MARKER).exists() and not (target / MANIFEST_NAME).exists()
    write_dataset(target, TINY_SPEC)
    assert len(list((target / "train" / "circle").glob("*.jpg"))) == 6
    assert not extra_files(target, read_manifest(target)["files"])


def test_cli_interrupt_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def stop(*args: object, **kwargs: object) -> dict:
        raise KeyboardInterrupt

    monkeypatch.setattr(make_shapes, "write_dataset", stop)
    assert make_shapes.main(["--out", str(tmp_path / "shapes"), "--quiet"]) == 130
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "interrupted; rerun the same command to finish" in error


def test_cli_unwritable_target_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a_file").write_text("x")
    assert make_shapes.main(["--out", str(tmp_path / "a_file" / "shapes"), "--quiet"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("make_shapes.py: error: cannot write") and "--out" in error and "\n" not in error


def test_relative_fitgen_data_is_relative_to_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.datasets import REPO_ROOT, data_root

    monkeypatch.setenv("FITGEN_DATA", "class-data")
    monkeypatch.chdir(REPO_ROOT / "notebooks")
    assert data_root() == REPO_ROOT / "class-data"


# --- property: no sequence of builds ever changes or removes a user's file ------------------------------

SMALL_SPECS = [
    DatasetSpec(kind="shapes", train=2, val=1, test=1, size=24, seed=1),
    DatasetSpec(kind="shapes", train=3, val=1, test=1, size=24, seed=1),
    DatasetSpec(kind="arrows", train=1, val=1, test=1, size=24, seed=2),
]
USER_FOLDERS = ["", "train", "train/circle", "val/square", "train/left", "test/right", "train/extra"]
USER_NAMES = ["notes.txt", "photo.jpg", ".hidden.jpg", "circle_0001.jpg", "circle_0002.jpg", "circle_0003.jpg",
              "square_0002.jpg", "left_0000.jpg", "left_0001.jpg"]  # fmt: skip
OPERATIONS = st.one_of(
    st.tuples(st.just("build"), st.integers(0, len(SMALL_SPECS) - 1), st.booleans()),
    st.tuples(st.just("ensure"), st.integers(0, len(SMALL_SPECS) - 1)),
    st.tuples(st.just("interrupt"), st.integers(0, len(SMALL_SPECS) - 1), st.integers(0, 9)),
    st.tuples(st.just("add"), st.sampled_from(USER_FOLDERS), st.sampled_from(USER_NAMES), st.binary(max_size=8)),
    st.tuples(st.sampled_from(["delete", "edit"]), st.integers(0, 30)),
)


def apply_operation(target: Path, operation: tuple, user_files: dict[str, bytes]) -> None:
    """One step a user or a lesson might take; refusals (DatasetError) are allowed, changes to user files not."""
    kind = operation[0]
    try:
        if kind == "build":
            write_dataset(target, SMALL_SPECS[operation[1]], force=operation[2])
        elif kind == "ensure":
            with (
                mock.patch.dict(os.environ, {"FITGEN_DATA": str(target.parent)}),
                mock.patch.dict("helpers.datasets.DEFAULT_SPECS", {"shapes": SMALL_SPECS[operation[1]]}),
                contextlib.redirect_stdout(io.StringIO()),
            ):
                ensure_dataset("shapes")
        elif kind == "interrupt":
            with contextlib.suppress(Interrupt):
                write_dataset(target, SMALL_SPECS[operation[1]], force=True, progress=interrupted_after(operation[2]))
    except DatasetError:
        pass
    listed = set(listed_files(target)) if target.is_dir() else set()
    if kind == "add":
        relative = f"{operation[1]}/{operation[2]}".lstrip("/")
        path = target / relative
        if relative not in listed and not os.path.lexists(path) and relative not in user_files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(operation[3])
            user_files[relative] = operation[3]
    elif kind in ("delete", "edit"):
        generated = sorted(relative for relative in listed if (target / relative).is_file())
        if generated:
            path = target / generated[operation[1] % len(generated)]
            path.unlink() if kind == "delete" else path.write_bytes(b"scribbled")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(
    [("build", 1, False), ("interrupt", 0, 2), ("add", "train/circle", "circle_0002.jpg", b"mine"), ("build", 0, False)]
)
@example([("build", 0, False), ("delete", 0), ("add", "train/circle", "circle_0001.jpg", b"m"), ("build", 1, True)])
@given(st.lists(OPERATIONS, max_size=8))
def test_no_sequence_of_builds_changes_a_user_file(operations: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "shapes"
        user_files: dict[str, bytes] = {}
        for operation in operations:
            apply_operation(target, operation, user_files)
            for relative, data in user_files.items():
                assert (target / relative).read_bytes() == data, (operation, relative)
        manifest = read_manifest(target) if target.is_dir() else None
        if manifest is not None and not (target / PARTIAL_MARKER).exists():
            assert set(extra_files(target, manifest["files"])) == {
                relative for relative in user_files if relative.split("/")[0] in ("train", "val", "test")
            }


def test_a_user_file_put_where_an_interrupted_build_had_deleted_one_survives(tmp_path: Path) -> None:
    """The red-team reproduction: a shrinking rebuild deletes train/left/left_0199.jpg, is interrupted while
    writing; the user then puts a photo of their own at that name, and the rerun must keep it."""
    spec = DatasetSpec(kind="arrows", train=9, val=1, test=1, size=24, seed=3)
    target = tmp_path / "arrows"
    write_dataset(target, spec)
    smaller = DatasetSpec(**{**spec.__dict__, "train": 6})
    with pytest.raises(Interrupt):
        write_dataset(target, smaller, force=True, progress=interrupted_after(3))
    (target / "train" / "left" / "left_0008.jpg").write_bytes(b"student's photo")
    result = write_dataset(target, smaller)
    assert (target / "train" / "left" / "left_0008.jpg").read_bytes() == b"student's photo"
    assert "train/left/left_0008.jpg" in result["extra_files"]


def test_a_build_an_older_kit_left_unfinished_gets_a_truthful_message(tmp_path: Path) -> None:
    target = tmp_path / "arrows"
    write_dataset(target, TINY_SPEC)
    (target / MANIFEST_NAME).unlink()
    (target / PARTIAL_MARKER).write_text("build in progress; rerun the script to finish it\n")  # the old marker
    before = tree_hashes(target)
    with pytest.raises(DatasetError, match=r"an older version of the kit left unfinished.*delete the folder"):
        write_dataset(target, TINY_SPEC)
    assert tree_hashes(target) == before
