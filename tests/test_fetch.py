"""Fetching real datasets, offline: archives built here, served on 127.0.0.1 with Range and cut connections."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from data_scripts.download import FetchError, download
from data_scripts.fetch import Source, main
from data_scripts.fetch_cats_vs_dogs import CATS_VS_DOGS
from data_scripts.fetch_flowers import FLOWERS
from data_scripts.layout import split_counts
from data_scripts.safe_extract import extract_archive
from helpers.datasets import REPO_ROOT
from helpers.health import check_image_tree
from tests.fakes import (
    GOOD,
    ArchiveServer,
    archive_corpus,
    cats_members,
    flowers_members,
    make_tgz,
    make_zip,
    pathmax_chain,
    photo_bytes,
    sha256,
    tar_bytes,
    tar_file,
    tree_hashes,
    tree_snapshot,
)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ArchiveServer]:
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    archive_server = ArchiveServer()
    archive_server.thread.start()
    yield archive_server
    archive_server.http.shutdown()
    archive_server.http.server_close()


BLOB = bytes(range(256)) * 40  # 10,240 bytes to download


def test_download_verifies_then_uses_the_cache(server: ArchiveServer, tmp_path: Path) -> None:
    server.files["blob.zip"] = BLOB
    target = tmp_path / "cache" / "blob.zip"
    assert download(server.url("blob.zip"), target, sha256(BLOB), quiet=True) == "downloaded"
    assert target.read_bytes() == BLOB and not (tmp_path / "cache" / "blob.zip.part").exists()
    assert download(server.url("blob.zip"), target, sha256(BLOB), quiet=True) == "cached"
    assert len(server.requests) == 1  # the second call did not touch the network


def test_a_cut_transfer_resumes_with_range(server: ArchiveServer, tmp_path: Path) -> None:
    server.files["blob.zip"], server.cuts = BLOB, 1
    download(server.url("blob.zip"), tmp_path / "blob.zip", sha256(BLOB), quiet=True)
    assert server.requests == [("blob.zip", None), ("blob.zip", "bytes=1000-")]
    assert (tmp_path / "blob.zip").read_bytes() == BLOB


def test_an_interrupted_run_keeps_its_part_and_the_next_run_resumes(server: ArchiveServer, tmp_path: Path) -> None:
    server.files["blob.zip"], server.cuts = BLOB, 2
    with pytest.raises(FetchError) as error:
        download(server.url("blob.zip"), tmp_path / "blob.zip", sha256(BLOB), quiet=True, attempts=2)
    assert "stopped after 2,000 bytes (2 tries" in str(error.value) and "Rerun the same command to resume" in str(
        error.value
    )
    assert (tmp_path / "blob.zip.part").stat().st_size == 2000 and not (tmp_path / "blob.zip").exists()
    download(server.url("blob.zip"), tmp_path / "blob.zip", sha256(BLOB), quiet=True)
    assert server.requests[-1] == ("blob.zip", "bytes=2000-") and (tmp_path / "blob.zip").read_bytes() == BLOB


def test_a_server_that_ignores_range_restarts_cleanly(server: ArchiveServer, tmp_path: Path) -> None:
    server.files["blob.zip"], server.ignore_range = BLOB, True
    (tmp_path / "blob.zip.part").write_bytes(b"x" * 500)  # not a prefix of BLOB: appending would corrupt it
    download(server.url("blob.zip"), tmp_path / "blob.zip", sha256(BLOB), quiet=True)
    assert server.requests == [("blob.zip", "bytes=500-")] and (tmp_path / "blob.zip").read_bytes() == BLOB


def test_a_stale_part_from_another_file_is_replaced_once(server: ArchiveServer, tmp_path: Path) -> None:
    server.files["blob.zip"] = BLOB
    (tmp_path / "blob.zip.part").write_bytes(b"x" * 500)  # resumed, the result cannot match: start over once
    download(server.url("blob.zip"), tmp_path / "blob.zip", sha256(BLOB), quiet=True)
    assert server.requests == [("blob.zip", "bytes=500-"), ("blob.zip", None)]
    assert (tmp_path / "blob.zip").read_bytes() == BLOB


def test_a_checksum_mismatch_is_refused_with_both_hashes_and_the_fix(server: ArchiveServer, tmp_path: Path) -> None:
    server.files["blob.zip"] = BLOB
    expected = "0" * 64
    with pytest.raises(FetchError) as error:
        download(server.url("blob.zip"), tmp_path / "blob.zip", expected, quiet=True)
    message = str(error.value)
    assert f"arrived with SHA-256 {sha256(BLOB)}, expected {expected}" in message
    assert f"rerun with --sha256 {sha256(BLOB)} if you trust it" in message and "\n" not in message
    assert not (tmp_path / "blob.zip").exists()  # never under its real name unverified
    download(server.url("blob.zip"), tmp_path / "blob.zip", sha256(BLOB), quiet=True)  # trusting it: no new body
    assert server.requests[-1] == ("blob.zip", f"bytes={len(BLOB)}-")


def test_http_errors_and_unreachable_hosts(server: ArchiveServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"answered HTTP 404 Not Found; check the address \(--url\)"):
        download(server.url("missing.zip"), tmp_path / "missing.zip", "0" * 64, quiet=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(FetchError, match=r"cannot reach 127\.0\.0\.1:\d+ .* save it as .*a\.zip: the script checks it"):
        download(f"http://127.0.0.1:{closed_port}/a.zip", tmp_path / "a.zip", "0" * 64, quiet=True)


# --- archives -----------------------------------------------------------------------------------------


CORPUS = archive_corpus()
SIX = {f"flower_photos/daisy/{index}.jpg": bytes([index]) * 512 for index in range(6)}  # 1,024 bytes per member
TBZ2 = tar_bytes([(tar_file(n), d) for n, d in SIX.items()], "w:bz2")
FLIPPED_TGZ = bytes(
    byte ^ 0xFF if 60 <= position < 100 else byte
    for position, byte in enumerate(tar_bytes([(tar_file(n), d) for n, d in SIX.items()], "w:gz"))
)


@pytest.mark.parametrize("label", sorted(CORPUS))
def test_nothing_in_the_archive_corpus_writes_anything_anywhere(label: str, tmp_path: Path) -> None:
    """Each unsafe archive is refused before writing: the whole tree around the target stays as it was."""
    suffix, data, why = CORPUS[label]
    place = tmp_path / "parent"
    (place / "into").mkdir(parents=True)
    (place / "outside.txt").write_text("precious")
    (place / f"archive.{suffix}").write_bytes(data)
    before, evil_before = tree_snapshot(tmp_path), Path("/tmp/evil.txt").exists()
    with pytest.raises(FetchError) as error:
        extract_archive(place / f"archive.{suffix}", place / "into")
    message = str(error.value)
    assert why in message and "Nothing was extracted" in message and "\n" not in message, message
    assert tree_snapshot(tmp_path) == before
    assert Path("/tmp/evil.txt").exists() == evil_before


def test_the_pathmax_chain_is_refused_at_its_first_link_on_this_python(tmp_path: Path) -> None:
    """Links are refused by kind, so the interpreter's own filter (patched or not) never decides."""
    (tmp_path / "into").mkdir()
    (tmp_path / "chain.tar").write_bytes(tar_bytes(pathmax_chain()))
    with pytest.raises(FetchError, match=r"refusing member 'a': it is a link to 'd{247}'"):
        extract_archive(tmp_path / "chain.tar", tmp_path / "into")


def test_odd_but_harmless_archives_extract(tmp_path: Path) -> None:
    """Windows separators become folders, a Latin-1 name becomes readable text, a repeated name keeps the last."""
    (tmp_path / "windows.zip").write_bytes(make_zip({"PetImages\\": b"", "PetImages\\Cat\\1.jpg": b"cat"}))
    (tmp_path / "win").mkdir()
    extract_archive(tmp_path / "windows.zip", tmp_path / "win")
    assert (tmp_path / "win" / "PetImages" / "Cat" / "1.jpg").read_bytes() == b"cat"  # folders, not one odd name
    latin = "flower_photos/daisy/p\udce2querette.jpg"  # b"p\xe2querette": Latin-1 bytes as tarfile reads them
    repeated = [(tar_file("flower_photos/daisy/a.jpg"), b"first"), (tar_file("flower_photos/daisy/a.jpg"), b"second")]
    (tmp_path / "odd.tar").write_bytes(tar_bytes([(tar_file(latin), b"latin"), *repeated]))
    (tmp_path / "odd").mkdir()
    extract_archive(tmp_path / "odd.tar", tmp_path / "odd")
    assert (tmp_path / "odd" / "flower_photos" / "daisy" / "p\u00e2querette.jpg").read_bytes() == b"latin"
    assert (tmp_path / "odd" / "flower_photos" / "daisy" / "a.jpg").read_bytes() == b"second"
    modes = {p.stat().st_mode & 0o7000 for p in (tmp_path / "odd").rglob("*")}
    assert modes == {0}  # no set-uid, set-gid or sticky bits, whatever the archive says


def test_a_member_that_fails_midway_takes_back_what_was_written(tmp_path: Path) -> None:
    """A damaged member after good ones: the good ones are removed again, and the message says so."""
    data = make_zip({"flower_photos/daisy/a.jpg": photo_bytes(1), "flower_photos/daisy/b.jpg": photo_bytes(2)})
    broken = bytearray(data)
    second = data.index(b"flower_photos/daisy/b.jpg") + len("flower_photos/daisy/b.jpg")
    broken[second + 40] ^= 0xFF  # flip a byte of the second member's compressed data: its CRC no longer matches
    (tmp_path / "broken.zip").write_bytes(bytes(broken))
    (tmp_path / "into").mkdir()
    with pytest.raises(FetchError) as error:
        extract_archive(tmp_path / "broken.zip", tmp_path / "into")
    assert "extraction stopped" in str(error.value) and "were removed again" in str(error.value)
    assert "Nothing was extracted" not in str(error.value)
    assert not any((tmp_path / "into").iterdir())


def cut(data: bytes, keep: int) -> bytes:
    return data[:keep]


DAMAGED = {
    "not an archive": (b"<html>Not found</html>", "is not a zip or tar archive; check --url"),
    "a zip without its end": (make_zip(GOOD | {"x/b.jpg": photo_bytes(2)})[:-30], "is a damaged zip (cut short?)"),
    "a tar cut at a member boundary": (tar_bytes([(tar_file(n), d) for n, d in SIX.items()])[: 3 * 1024], "cut short"),
    "a tar cut inside a header": (tar_bytes([(tar_file(n), d) for n, d in SIX.items()])[: 3 * 1024 + 100], "damaged"),
    "a gzip with flipped bytes": (FLIPPED_TGZ, "damaged"),
    "a bzip2 cut short": (TBZ2[: len(TBZ2) // 2], "damaged"),
}


@pytest.mark.parametrize("label", sorted(DAMAGED))
def test_damaged_and_truncated_archives_extract_nothing(label: str, tmp_path: Path) -> None:
    """tarfile takes a cut-short tar for a complete one; the kit checks the end-of-archive block and the stream."""
    data, words = DAMAGED[label]
    (tmp_path / "into").mkdir()
    (tmp_path / "archive").write_bytes(data)
    with pytest.raises(FetchError) as error:
        extract_archive(tmp_path / "archive", tmp_path / "into")
    assert words in str(error.value) and "\n" not in str(error.value), str(error.value)
    assert not any((tmp_path / "into").iterdir())


def test_control_characters_in_member_names_are_refused(tmp_path: Path) -> None:
    (tmp_path / "into").mkdir()
    for name in ("flower_photos/daisy/evil\x1b]0;PWNED\x07.jpg", "flower_photos/daisy/c1\u009b2J.jpg", "a/del\x7f.jpg"):
        (tmp_path / "names.tar").write_bytes(tar_bytes([(tar_file(name), b"x")]))
        with pytest.raises(FetchError, match="its name contains control characters"):
            extract_archive(tmp_path / "names.tar", tmp_path / "into")
    assert not any((tmp_path / "into").iterdir())


def test_a_top_level_member_that_fails_leaves_no_empty_file(tmp_path: Path) -> None:
    data = bytearray(make_zip({"top.jpg": photo_bytes(3)}))
    data[data.index(b"top.jpg") + 7 + 20] ^= 0xFF  # corrupt the compressed data: the CRC check fails at its end
    (tmp_path / "top.zip").write_bytes(bytes(data))
    (tmp_path / "into").mkdir()
    with pytest.raises(FetchError, match="extraction stopped"):
        extract_archive(tmp_path / "top.zip", tmp_path / "into")
    assert not any((tmp_path / "into").iterdir())


# --- the whole fetch, through the command line --------------------------------------------------------


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """A folder the dataset goes into, with neighbours that must stay exactly as they are."""
    (tmp_path / "place" / "neighbour").mkdir(parents=True)
    (tmp_path / "place" / "neighbour" / "keep.jpg").write_bytes(photo_bytes(5))
    (tmp_path / "place" / "notes.txt").write_text("mine")
    return tmp_path / "place"


def run_fetch(source: Source, url: str, sha: str, out: Path, cache: Path, *extra: str) -> int:
    return main(source, ["--url", url, "--sha256", sha, "--out", str(out), "--cache", str(cache), "--quiet", *extra])


def test_fetch_cats_vs_dogs_end_to_end(
    server: ArchiveServer, place: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members = cats_members()
    server.files["kagglecatsanddogs.zip"] = data = make_zip(members)
    neighbours = tree_hashes(place)
    out, cache = place / "cats_vs_dogs", tmp_path / "cache"
    assert run_fetch(CATS_VS_DOGS, server.url("kagglecatsanddogs.zip"), sha256(data), out, cache, "--seed", "3") == 0
    printed = capsys.readouterr().out
    assert "3 errors (would stop training or mislabel it: 1 empty file, 1 not an image, 1 truncated)" in printed
    assert "cats_vs_dogs: 19 images in 2 classes, seed 3, split 0.8/0.1/0.1" in printed
    names = {p.name for split in ("train", "val", "test") for p in (out / split).rglob("*") if p.is_file()}
    assert names.isdisjoint({"100.jpg", "101.jpg", "102.jpg", "105.jpg", "Thumbs.db"})  # errors, copy, stray
    assert {"103.jpg", "104.jpg", "106.png"} <= names  # CMYK, grayscale, 16-bit: Keras converts them
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == {
        s: {"Cat": n, "Dog": m} for s, n, m in (("train", 7, 8), ("val", 1, 1), ("test", 1, 1))
    }
    assert manifest["left_out"] == 4 and manifest["checked"] == 23
    originals = {
        p.relative_to(out / "original").as_posix(): p.read_bytes() for p in (out / "original").rglob("*") if p.is_file()
    }
    assert originals == members  # the archive's files, all of them, untouched
    health = " ".join((out / "health.txt").read_text().split())
    for row in (
        "error truncated Cat/100.jpg image data stops after 900 bytes (no JPEG end marker)",
        "error empty file Cat/101.jpg 0 bytes",
        'error not an image Cat/102.jpg text ("<html>not found</html>"), not an image',
        "warning duplicate Dog/105.jpg same content as Dog/0.jpg",
        "warning stray file Dog/Thumbs.db '.db' file",
        "warning cmyk Cat/103.jpg",
        "warning grayscale Dog/104.jpg",
    ):
        assert row in health
    assert not check_image_tree(out).errors  # what lessons read is clean
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask  # readable like any folder, not private like mkdtemp
    assert {k: v for k, v in tree_hashes(place).items() if not k.startswith("cats_vs_dogs/")} == neighbours
    assert sorted(p.name for p in place.iterdir()) == ["cats_vs_dogs", "neighbour", "notes.txt"]  # no leftovers
    requests = len(server.requests)
    before = tree_hashes(out)
    assert run_fetch(CATS_VS_DOGS, server.url("kagglecatsanddogs.zip"), sha256(data), out, cache, "--seed", "3") == 0
    assert "already holds this dataset (same archive and settings); nothing to do." in capsys.readouterr().out
    assert len(server.requests) == requests and tree_hashes(out) == before
    assert run_fetch(CATS_VS_DOGS, server.url("kagglecatsanddogs.zip"), sha256(data), out, cache, "--seed", "4") == 1
    assert (
        "holds this dataset fetched with seed 3, split 0.8/0.1/0.1, all images; you asked for seed 4, "
        "split 0.8/0.1/0.1, all images. Nothing was written" in capsys.readouterr().err
    )
    next((out / "val" / "Cat").iterdir()).unlink()
    assert run_fetch(CATS_VS_DOGS, server.url("kagglecatsanddogs.zip"), sha256(data), out, cache, "--seed", "3") == 1
    assert "was fetched by this script but its files changed since" in capsys.readouterr().err


def test_subset_and_seeded_stratified_splits(server: ArchiveServer, place: Path, tmp_path: Path) -> None:
    server.files["flower_photos.tgz"] = data = make_tgz(flowers_members())
    url, sha, cache = server.url("flower_photos.tgz"), sha256(data), tmp_path / "cache"

    def fetched(folder: str, *extra: str) -> list[str]:
        assert run_fetch(FLOWERS, url, sha, place / folder, cache, *extra) == 0
        return json.loads((place / folder / "manifest.json").read_text())["files"]

    first = fetched("a", "--subset", "4", "--split", "0.5,0.25,0.25", "--seed", "1")
    assert fetched("b", "--subset", "4", "--split", "0.5,0.25,0.25", "--seed", "1") == first
    assert fetched("c", "--subset", "4", "--split", "0.5,0.25,0.25", "--seed", "2") != first
    for flower in ("daisy", "roses", "tulips"):
        assert [sum(f.startswith(f"{s}/{flower}/") for f in first) for s in ("train", "val", "test")] == [2, 1, 1]
    assert (place / "a" / "LICENSE.txt").read_bytes().startswith(b"All images are CC-BY")
    assert len(server.requests) == 1  # one download, then the cache
    no_test = fetched("d", "--split", "0.5,0.5,0")
    assert {f.split("/")[0] for f in no_test} == {"train", "val"} and len(no_test) == 19  # + the 16-bit rose
    health = " ".join((place / "d" / "health.txt").read_text().split())
    assert "error truncated tulips/cut.jpg" in health and "error empty file tulips/zero.jpg" in health
    assert "error not an image tulips/readme.jpg" in health and "warning 16-bit roses/deep.png" in health


def test_fetch_refusals_leave_everything_as_it_was(
    server: ArchiveServer, place: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    server.files["evil.zip"] = evil = make_zip(cats_members() | {"../evil.txt": b"evil"})
    server.files["ok.tgz"] = ok = make_tgz(flowers_members())
    server.files["one.tgz"] = one = make_tgz({"flower_photos/daisy/a.jpg": photo_bytes(1)})
    server.files["pathmax.tar"] = chain = tar_bytes(pathmax_chain())
    (place / "mine").mkdir()
    (place / "mine" / "photo.jpg").write_bytes(photo_bytes(3))
    (tmp_path / "outside.txt").write_text("precious")
    before = tree_hashes(place)

    def everything_but_the_cache() -> dict[str, str]:
        return {path: entry for path, entry in tree_snapshot(tmp_path).items() if not path.startswith("cache")}

    around = everything_but_the_cache()
    cases = [
        (CATS_VS_DOGS, "evil.zip", sha256(evil), "cats", [], "refusing member '../evil.txt': its path climbs out"),
        (FLOWERS, "pathmax.tar", sha256(chain), "flowers", [], "pathmax.tar: refusing member 'a': it is a link"),
        (FLOWERS, "ok.tgz", "1" * 64, "flowers", [], f"arrived with SHA-256 {sha256(ok)}, expected {'1' * 64}"),
        (
            CATS_VS_DOGS,
            "ok.tgz",
            sha256(ok),
            "cats",
            [],
            "has no PetImages/ folder: it is not the archive of Microsoft's",
        ),
        (FLOWERS, "ok.tgz", sha256(ok), "mine", [], "is not empty and was not made by this script"),
        (FLOWERS, "one.tgz", sha256(one), "f", [], "one.tgz: flower_photos/ has 1 class folder(s) (daisy), expected"),
        (
            FLOWERS,
            "ok.tgz",
            sha256(ok),
            "f",
            ["--subset", "7"],
            "class daisy has only 6 healthy images; use --subset 6",
        ),
        (FLOWERS, "ok.tgz", sha256(ok), "f", ["--subset", "1"], "class daisy has 1 healthy image(s): too few for"),
        (FLOWERS, "ok.tgz", sha256(ok), "f", ["--cache", str(place / "f" / "dl")], "is inside --out"),
    ]
    for source, name, sha, folder, extra, message in cases:
        assert run_fetch(source, server.url(name), sha, place / folder, cache, *extra) == 1, message
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and error.startswith(f"fetch_{source.name}.py: error: ") and message in error
        assert everything_but_the_cache() == around, message
        assert tree_hashes(place) == before and sorted(p.name for p in place.iterdir()) == [
            "mine",
            "neighbour",
            "notes.txt",
        ]


def test_split_counts() -> None:
    assert split_counts(10, (0.8, 0.1, 0.1), "x") == (8, 1, 1)
    assert split_counts(3, (0.8, 0.1, 0.1), "x") == (1, 1, 1)  # val and test get at least one
    assert split_counts(5, (1.0, 0.0, 0.0), "x") == (5, 0, 0)
    with pytest.raises(FetchError, match="class x has 2 healthy image"):
        split_counts(2, (0.8, 0.1, 0.1), "x")


@pytest.mark.parametrize("script", ["fetch_cats_vs_dogs.py", "fetch_flowers.py"])
def test_scripts_help_and_bad_arguments_without_traceback(script: str) -> None:
    command = [sys.executable, str(REPO_ROOT / "data_scripts" / script)]
    shown = subprocess.run([*command, "--help"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0 and "--subset N" in shown.stdout and "Exit status" in shown.stdout
    for bad, message in ((["--split", "0.9,0.2,0"], "add up to 1"), (["--sha256", "abc"], "64 hexadecimal digits")):
        result = subprocess.run([*command, *bad], capture_output=True, text=True, check=False)
        assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"{script}: error: argument ")
        assert message in result.stderr
