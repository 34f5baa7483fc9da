"""The image health check: every bad case found with the right code, a stable report, quarantine and undo."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from data_scripts import check_images
from helpers.datasets import REPO_ROOT
from helpers.health import check_image_file, check_image_tree, quarantine, undo_quarantine
from helpers.images import ImageFolderError
from tests.fakes import encoded, photo_bytes, tree_hashes


def broken_png() -> bytes:
    data = bytearray(photo_bytes(9, fmt="PNG"))
    start = data.index(b"IDAT") + 10
    data[start : start + 50] = bytes(byte ^ 0x5A for byte in data[start : start + 50])
    return bytes(data)


# Every bad case, where it lives, and the (problem, severity) the check must report for it.
BAD_FILES: dict[str, tuple[bytes, str, str]] = {
    "train/cat/truncated.jpg": (photo_bytes(1)[:1024], "truncated", "error"),
    "train/cat/empty.jpg": (b"", "empty file", "error"),
    "train/cat/notes.jpg": (b"these are my notes, not a photo\n", "not an image", "error"),
    "train/cat/broken.png": (broken_png(), "unreadable", "error"),
    "train/cat/cmyk.jpg": (encoded(Image.new("CMYK", (48, 48), (10, 200, 30, 5)), "JPEG"), "cmyk", "warning"),
    "train/cat/gray.jpg": (encoded(Image.new("L", (48, 48), 90), "JPEG"), "grayscale", "warning"),
    "train/dog/deep.png": (
        encoded(Image.fromarray((np.arange(48 * 48).reshape(48, 48) * 25).astype(np.uint16)), "PNG"),
        "16-bit",
        "warning",
    ),
    "train/dog/alpha.png": (encoded(Image.new("RGBA", (48, 48), (1, 2, 3, 0)), "PNG"), "rgba", "warning"),
    "train/dog/tiny.jpg": (photo_bytes(2, size=16), "too small", "warning"),
    "train/dog/Thumbs.db": (b"\x00\x01\x02", "stray file", "warning"),
    "val/dog/leak.jpg": (photo_bytes(100), "duplicate", "warning"),  # same bytes as train/dog/0.jpg
}


def build_tree(root: Path) -> Path:
    """train/val/test with two good images per class and split, the bad files above, and an empty class."""
    seeds = iter(range(200, 300))
    for split in ("train", "val", "test"):
        for name in ("cat", "dog"):
            (root / split / name).mkdir(parents=True)
            if (split, name) != ("test", "dog"):  # test/dog stays empty
                for index in range(2):
                    (root / split / name / f"{index}.jpg").write_bytes(photo_bytes(next(seeds)))
    (root / "train" / "dog" / "0.jpg").write_bytes(photo_bytes(100))  # val/dog/leak.jpg repeats it
    for relative, (data, _, _) in BAD_FILES.items():
        (root / relative).write_bytes(data)
    (root / "manifest.json").write_text("{}")  # files next to the splits are in no class: ignored
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return build_tree(tmp_path / "dataset")


def test_every_bad_case_is_found_with_its_code_and_severity(tree: Path) -> None:
    report = check_image_tree(tree)
    found = {(f.path.as_posix(), f.problem, f.severity) for f in report.findings}
    for relative, (_, problem, severity) in BAD_FILES.items():
        assert (relative, problem, severity) in found, relative
    assert ("test/dog", "empty class", "warning") in found
    assert {f.path.as_posix() for f in report.errors} == {p for p, (_, _, s) in BAD_FILES.items() if s == "error"}
    assert len(report.findings) == len(BAD_FILES) + 1  # nothing else: the good images are fine
    assert report.images == 10 + len(BAD_FILES) - 1  # image extensions only: Thumbs.db is not counted
    details = {f.problem: f.detail for f in report.findings}
    assert details["truncated"] == "image data stops after 1,024 bytes (no JPEG end marker)"
    assert details["not an image"] == 'text ("these are my notes, not a photo"), not an image'
    assert details["duplicate"] == "same content as train/dog/0.jpg (another split: leakage)"
    assert "turn white" in details["16-bit"] and all(f.fix for f in report.findings)


def test_report_text_is_stable_relative_and_sorted(tree: Path, tmp_path: Path) -> None:
    text = check_image_tree(tree).describe()
    moved = shutil.copytree(tree, tmp_path / "elsewhere" / "copy")
    assert check_image_tree(moved).describe() == text  # same content elsewhere: the same text, byte for byte
    assert str(tmp_path) not in text and "/tmp" not in text
    lines = text.splitlines()
    assert lines[0].split() == ["severity", "problem", "file", "detail"]
    rows = [line.split()[0] for line in lines[1 : len(BAD_FILES) + 2]]
    assert rows == sorted(rows)  # errors first, then warnings
    assert "what to do:" in lines and "  truncated " in text
    assert lines[-1] == (
        "20 images: 4 errors (would stop training or mislabel it: 1 empty file, 1 not an image, 1 truncated, "
        "1 unreadable); "
        "8 warnings (worth a look: 1 16-bit, 1 cmyk, 1 duplicate, 1 empty class, 1 grayscale, 1 rgba, "
        "1 stray file, 1 too small)."
    )


def test_a_single_split_folder_and_other_duplicates(tree: Path) -> None:
    (tree / "train" / "dog" / "again.jpg").write_bytes(photo_bytes(100))  # train/dog/0.jpg once more
    (tree / "train" / "cat" / "swap.jpg").write_bytes(photo_bytes(100))
    report = check_image_tree(tree / "train")
    duplicates = {f.path.as_posix(): f.detail for f in report.findings if f.problem == "duplicate"}
    assert duplicates == {
        "dog/0.jpg": "same content as cat/swap.jpg (another class: conflicting labels)",
        "dog/again.jpg": "same content as cat/swap.jpg (another class: conflicting labels)",
    }
    assert all(not f.path.as_posix().startswith(("train", "val")) for f in report.findings)


def test_clean_tree_and_limits(tiny_dataset: Path) -> None:
    assert check_image_tree(tiny_dataset).describe() == "20 images: no problems found."
    strict = check_image_tree(tiny_dataset, min_side=64, max_pixels=2000)
    assert {f.problem for f in strict.findings} == {"too small", "huge"} and not strict.errors
    assert "48x48 px, under 64 px" in {f.detail for f in strict.findings}


def test_describe_can_show_only_the_first_rows(tree: Path) -> None:
    text = check_image_tree(tree).describe(limit=2)
    lines = text.splitlines()
    assert (
        lines[1].startswith("error     unreadable  train/cat/broken.png  Pillow: broken data stream")
        and lines[3] == "... and 10 more"
    )
    assert "  too small     check it is a real photo" in text  # every problem's fix is still listed
    assert lines[-1].startswith("20 images: 4 errors")


def test_an_image_too_big_to_open_is_an_error(tmp_path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 2, 0, 0, 0)  # claims 400 million pixels
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(png)
    [finding] = check_image_file(tmp_path / "bomb.png")
    assert (finding.problem, finding.severity) == ("huge", "error")
    assert (
        finding.detail == "Pillow refuses to open it: Image size (400000000 pixels) exceeds limit of 178956970 pixels"
    )


def test_truncation_is_found_even_when_the_caller_allows_truncated_images(tree: Path) -> None:
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True  # what many tutorials do to "fix" PetImages
    try:
        findings = check_image_file(tree / "train" / "cat" / "truncated.jpg")
        assert [f.problem for f in findings] == ["truncated"]
        assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the caller's setting is restored
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def test_bad_roots_give_one_message_with_path_and_fix(tmp_path: Path) -> None:
    with pytest.raises(ImageFolderError, match=r"nowhere does not exist\. Point at a dataset folder"):
        check_image_tree(tmp_path / "nowhere")
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(ImageFolderError, match=r"file\.jpg is a file, not a folder"):
        check_image_tree(tmp_path / "file.jpg")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.jpg").write_bytes(photo_bytes(1))
    with pytest.raises(ImageFolderError, match=r"flat needs at least two class sub-folders \(found: none\)"):
        check_image_tree(tmp_path / "flat")
    (tmp_path / "data" / "shapes" / "train").mkdir(parents=True)
    with pytest.raises(ImageFolderError, match=r"data holds datasets \(shapes\), not classes; point at one of them"):
        check_image_tree(tmp_path / "data")


def test_quarantine_moves_errors_and_undo_puts_them_back(tree: Path, tmp_path: Path) -> None:
    before = tree_hashes(tree)
    report = check_image_tree(tree)
    log = quarantine(report, tmp_path / "quarantined")
    errors = sorted(p for p, (_, _, severity) in BAD_FILES.items() if severity == "error")
    assert sorted(tree_hashes(tmp_path / "quarantined")) == sorted([*errors, "quarantine-log.json"])
    assert all(not (tree / p).exists() for p in errors)
    record = json.loads(log.read_text())
    assert [entry["path"] for entry in record["files"]] == errors and record["undone"] is False
    assert not check_image_tree(tree).errors  # the warnings stay: only errors move by default
    assert undo_quarantine(log) == len(errors)
    assert tree_hashes(tree) == before  # every byte back where it was
    assert undo_quarantine(log) == 0  # a second undo does nothing


def test_quarantine_with_warnings_and_its_refusals(tree: Path, tmp_path: Path) -> None:
    report = check_image_tree(tree)
    with pytest.raises(ImageFolderError, match="is inside the scanned folder"):
        quarantine(report, tree / "bad")
    (tmp_path / "taken" / "train" / "cat").mkdir(parents=True)
    (tmp_path / "taken" / "train" / "cat" / "empty.jpg").write_text("someone else's file")
    with pytest.raises(ImageFolderError, match=r"empty\.jpg already exists; nothing was moved"):
        quarantine(report, tmp_path / "taken")
    assert (tree / "train" / "cat" / "empty.jpg").exists()
    log = quarantine(report, tmp_path / "all", include_warnings=True)
    assert len(json.loads(log.read_text())["files"]) == len(BAD_FILES)  # every file; the empty class stays
    assert (tree / "test" / "dog").is_dir()
    (tree / "train" / "cat" / "notes.jpg").write_text("a new file in the old place")
    with pytest.raises(ImageFolderError, match=r"notes\.jpg exists again; nothing was moved back"):
        undo_quarantine(log)
    assert (tmp_path / "all" / "train" / "cat" / "empty.jpg").exists()  # nothing moved back


def test_undo_refuses_logs_it_did_not_write(tmp_path: Path) -> None:
    with pytest.raises(ImageFolderError, match="does not exist"):
        undo_quarantine(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"files": []}')
    with pytest.raises(ImageFolderError, match="is not a quarantine log written by check_images.py"):
        undo_quarantine(tmp_path / "other.json")
    tampered = {"written_by": "fitgen-kit quarantine log", "root": "/", "destination": "/tmp", "files": []}
    tampered["files"] = [{"path": "../../etc/passwd"}]
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    with pytest.raises(ImageFolderError, match=r"unsafe path '\.\./\.\./etc/passwd'; nothing was moved"):
        undo_quarantine(tmp_path / "tampered.json")


def test_check_images_command_line(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_images.main([str(tree)]) == check_images.EXIT_ERRORS_FOUND
    assert capsys.readouterr().out.splitlines()[-1].startswith("20 images: 4 errors")
    assert check_images.main([str(tree), "--quarantine", str(tmp_path / "q")]) == 0
    out = capsys.readouterr().out
    assert "moved 4 file(s) to" in out and "--undo" in out
    assert check_images.main([str(tree)]) == 0
    capsys.readouterr()
    assert check_images.main(["--undo", str(tmp_path / "q" / "quarantine-log.json")]) == 0
    assert capsys.readouterr().out == "moved 4 file(s) back\n"
    assert check_images.main([str(tmp_path / "nowhere")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("check_images.py: error: ") and "nowhere" in error


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give the FOLDER to check"),
        (["x", "--undo", "log.json"], "--undo LOG works alone"),
        (["x", "--include-warnings"], "only makes sense with --quarantine"),
        (["x", "--min-side", "0"], "expected a whole number >= 1, got '0'"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        check_images.main(arguments)
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and error.count("\n") == 1 and message in error


def test_script_help_and_bad_argument_without_traceback() -> None:
    script = [sys.executable, str(REPO_ROOT / "data_scripts" / "check_images.py")]
    shown = subprocess.run([*script, "--help"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0 and "--quarantine DIR" in shown.stdout and "Exit status" in shown.stdout
    bad = subprocess.run([*script, "--max-pixels", "lots"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert (
        bad.stderr
        == "check_images.py: error: argument --max-pixels: expected a whole number >= 1, got 'lots' (see --help)\n"
    )


def test_a_hidden_folder_beside_the_classes_is_an_error_and_moves_out(tree: Path, tmp_path: Path) -> None:
    """JupyterLab's .ipynb_checkpoints in a split: flow_from_directory would number it class 0 of 3."""
    (tree / "train" / ".ipynb_checkpoints").mkdir()
    (tree / "train" / ".ipynb_checkpoints" / "notes-checkpoint.ipynb").write_text("{}")
    report = check_image_tree(tree)
    hidden = [f for f in report.errors if f.problem == "hidden class"]
    assert [f.path.as_posix() for f in hidden] == ["train/.ipynb_checkpoints"]
    assert "counts it as class 0 of 3: the labels of the 2 class(es) after it move up by one" in hidden[0].detail
    assert "mislabel" in report.summary() and "classes=[...]" in report.describe()
    before = tree_hashes(tree)
    log = quarantine(report, tmp_path / "q")
    assert not (tree / "train" / ".ipynb_checkpoints").exists()
    assert (tmp_path / "q" / "train" / ".ipynb_checkpoints" / "notes-checkpoint.ipynb").is_file()
    undo_quarantine(log)
    assert tree_hashes(tree) == before


def test_what_counts_as_an_image_is_what_flow_from_directory_loads(tmp_path: Path) -> None:
    """.gif and .webp are skipped by flow_from_directory (said per file); .ppm counts; matching is by name end."""
    for name in ("a", "b"):
        (tmp_path / "train" / name).mkdir(parents=True)
        (tmp_path / "train" / name / "0.jpg").write_bytes(photo_bytes(len(name) + 40 + ord(name)))
    (tmp_path / "train" / "a" / "moving.gif").write_bytes(encoded(Image.new("RGB", (48, 48), (9, 9, 9)), "GIF"))
    (tmp_path / "train" / "a" / "phone.webp").write_bytes(encoded(Image.new("RGB", (48, 48), (1, 9, 9)), "WEBP"))
    (tmp_path / "train" / "b" / "scan.ppm").write_bytes(encoded(Image.new("RGB", (48, 48), (9, 1, 9)), "PPM"))
    report = check_image_tree(tmp_path)
    assert report.images == 3  # "Found 3 images belonging to 2 classes."
    skipped = sorted((f.path.name, f.problem) for f in report.warnings)
    assert skipped == [("moving.gif", "skipped image"), ("phone.webp", "skipped image")]
    assert "does not load '.gif' files" in report.describe()


def test_quarantine_never_moves_files_that_live_outside_the_folder(tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.move(tree / "train" / "cat", elsewhere)
    (tree / "train" / "cat").symlink_to(elsewhere, target_is_directory=True)
    report = check_image_tree(tree)
    assert any(f.path.as_posix() == "train/cat/empty.jpg" for f in report.errors)
    before = tree_hashes(elsewhere)
    with pytest.raises(ImageFolderError, match=r"is reached through a link to .*elsewhere.*; nothing was moved"):
        quarantine(report, tmp_path / "q")
    assert tree_hashes(elsewhere) == before


def fail_on_move(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """Make the ``number``-th file move of helpers.quarantine fail, as a full disk or a locked file would."""
    real_move, calls = shutil.move, []

    def failing_move(source: Path, target: Path) -> object:
        calls.append(source)
        if len(calls) == number:
            raise PermissionError(13, "Permission denied")
        return real_move(source, target)

    monkeypatch.setattr("helpers.quarantine.shutil.move", failing_move)


def test_a_quarantine_that_fails_halfway_says_what_moved_and_how_to_undo(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree_hashes(tree)
    fail_on_move(monkeypatch, 3)
    with pytest.raises(ImageFolderError) as error:
        quarantine(check_image_tree(tree), tmp_path / "q")
    message = str(error.value)
    assert "failed (Permission denied) after 2 of 4 file(s) had moved" in message and "--undo" in message
    log = Path(message.split("--undo ")[1].split(" ")[0])
    monkeypatch.undo()
    assert undo_quarantine(log) == 2 and tree_hashes(tree) == before


@pytest.mark.parametrize("missing", ["root", "destination"])
def test_undo_with_a_log_missing_its_folders_is_one_message(tmp_path: Path, missing: str) -> None:
    record = {"written_by": "fitgen-kit quarantine log", "root": "/data", "destination": "/q", "files": []}
    del record[missing]
    (tmp_path / "log.json").write_text(json.dumps(record))
    with pytest.raises(ImageFolderError, match="is not a quarantine log written by check_images.py"):
        undo_quarantine(tmp_path / "log.json")


def test_macos_metadata_folders_are_not_classes_and_hidden_images_are_counted(tmp_path: Path) -> None:
    """__MACOSX (from a zip made on a Mac) and a hidden folder with images: Keras counts both as classes, and
    counts their images in "Found N images"; the report says so and counts the same."""
    for name in ("cat", "dog"):
        (tmp_path / "train" / name).mkdir(parents=True)
        (tmp_path / "train" / name / "0.jpg").write_bytes(photo_bytes(len(name) + 60))
    (tmp_path / "train" / "__MACOSX" / "cat").mkdir(parents=True)
    (tmp_path / "train" / "__MACOSX" / "cat" / "._0.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (tmp_path / "train" / ".thumbnails").mkdir()
    (tmp_path / "train" / ".thumbnails" / "0.jpg").write_bytes(photo_bytes(99))
    report = check_image_tree(tmp_path)
    hidden = sorted(f.path.as_posix() for f in report.errors if f.problem == "hidden class")
    assert hidden == ["train/.thumbnails", "train/__MACOSX"]
    assert report.images == 4  # what flow_from_directory says: "Found 4 images belonging to 4 classes."
    assert "class 1 of 4" in next(f.detail for f in report.errors if f.path.name == "__MACOSX")


def test_a_png_that_pillow_cannot_read_is_called_a_damaged_png(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    [finding] = check_image_file(tmp_path / "bad.png")
    assert (
        finding.problem == "not an image" and finding.detail == "starts like a PNG but Pillow cannot read it (damaged)"
    )


def test_an_undo_that_fails_halfway_can_be_finished_and_bad_entries_are_refused(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree_hashes(tree)
    log = quarantine(check_image_tree(tree), tmp_path / "q")
    fail_on_move(monkeypatch, 2)
    with pytest.raises(ImageFolderError, match=r"failed \(Permission denied\); 1 of 4 file\(s\) are back"):
        undo_quarantine(log)
    monkeypatch.undo()
    assert undo_quarantine(log) == 3 and tree_hashes(tree) == before
    record = json.loads(log.read_text())
    for files, words in (([{"path": 5}], "unsafe path 5"), ([{"path": "a.jpg"}, {"path": "a.jpg"}], "twice")):
        (tmp_path / "edited.json").write_text(json.dumps({**record, "undone": False, "files": files}))
        with pytest.raises(ImageFolderError, match=words):
            undo_quarantine(tmp_path / "edited.json")
