"""The offline dataset builder: reproducible bytes, manifest, refusal rules, CLI errors, speed."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from data_scripts import make_shapes
from helpers.datasets import (
    MANIFEST_NAME,
    PARTIAL_MARKER,
    DatasetError,
    DatasetSpec,
    describe_manifest,
    display_path,
    ensure_dataset,
    image_bytes,
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


def test_generation_speed_meets_1200_images_in_10_seconds() -> None:
    spec = DatasetSpec(kind="shapes", size=128, seed=1)
    started = time.perf_counter()
    for index in range(120):
        image_bytes(spec, "train", index % 2, index)
    seconds = time.perf_counter() - started
    assert seconds * 10 <= 10.0, f"120 images took {seconds:.2f} s: 1,200 would take {seconds * 10:.1f} s"


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
    assert make_shapes.main(["--out", str(tmp_path), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and error.startswith("make_shapes: error:") and "--force" in error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--train", "0"], "expected a number >= 1, got 0"),
        (["--val", "ten"], "expected a whole number, got 'ten'"),
        (["--kind", "cats"], "invalid choice: 'cats'"),
        (["--sede", "1"], "unrecognized arguments: --sede"),
    ],
)
def test_cli_bad_arguments(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        make_shapes.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


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


def test_deletion_does_not_follow_a_symlinked_class_folder(tmp_path: Path) -> None:
    target = tmp_path / "shapes"
    write_dataset(target, TINY_SPEC)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "circle_0000.jpg").write_bytes(b"user photo")
    shutil.rmtree(target / "test" / "circle")
    (target / "test" / "circle").symlink_to(elsewhere, target_is_directory=True)
    write_dataset(target, DatasetSpec(**{**TINY_SPEC.__dict__, "train": 2}), force=True)
    assert (elsewhere / "circle_0000.jpg").exists()


def test_edited_or_deleted_images_are_restored(tmp_path: Path, tiny_dataset: Path) -> None:
    target = tmp_path / "shapes"
    write_dataset(target, TINY_SPEC)
    (target / "val" / "square" / "square_0001.jpg").write_bytes(b"scribbled")
    (target / "test" / "circle" / "circle_0000.jpg").unlink()
    assert write_dataset(target, TINY_SPEC)["status"] == "written"
    assert tree_hashes(target) == tree_hashes(tiny_dataset)


def test_interrupted_build_leaves_no_extra_images(tmp_path: Path) -> None:
    target = tmp_path / "shapes"
    write_dataset(target, DatasetSpec(**{**TINY_SPEC.__dict__, "train": 9}))
    (target / MANIFEST_NAME).unlink()
    (target / PARTIAL_MARKER).write_text("")  # as if the run had been interrupted
    write_dataset(target, TINY_SPEC)
    assert len(list((target / "train" / "circle").glob("*.jpg"))) == 6


def test_cli_unwritable_target_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a_file").write_text("x")
    assert make_shapes.main(["--out", str(tmp_path / "a_file" / "shapes"), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("make_shapes: error: cannot write") and "--out" in error and "\n" not in error


def test_relative_fitgen_data_is_relative_to_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.datasets import REPO_ROOT, data_root

    monkeypatch.setenv("FITGEN_DATA", "class-data")
    monkeypatch.chdir(REPO_ROOT / "notebooks")
    assert data_root() == REPO_ROOT / "class-data"
