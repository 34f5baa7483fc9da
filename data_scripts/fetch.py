"""Fetch a real image dataset: download, verify, extract safely, check every image, write train/val/test.

Shared by ``fetch_cats_vs_dogs.py`` and ``fetch_flowers.py``. The target folder ends up as::

    <out>/original/...                      the archive's content, untouched
    <out>/{train,val,test}/<class>/<file>   copies of the healthy images (seeded, stratified split)
    <out>/health.txt                        every problem found in the archive's images
    <out>/manifest.json                     settings, counts and a digest of every copied file

Everything is built in a hidden folder next to ``<out>`` and renamed into place only when complete.
Nothing outside ``<out>`` is changed except the download cache; a second run with the same settings
does nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit

from data_scripts.download import FetchError, download
from data_scripts.layout import select_healthy, write_splits
from data_scripts.safe_extract import extract_archive
from helpers.command_line import OneLineParser, non_negative_int, positive_int, printable_output
from helpers.datasets import REPO_ROOT, data_root, digest_files, display_path, intact
from helpers.images import ImageFolderError

MARKER = "fitgen-kit fetch"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "downloads"


@dataclass(frozen=True)
class Source:
    """Where a dataset comes from and how its archive is laid out."""

    name: str  # default folder name under data/
    title: str
    url: str
    sha256: str
    size: int  # bytes of the archive, for the --help text
    classes_in: str  # folder inside the archive that holds one sub-folder per class
    license_file: str | None = None  # copied next to the splits when the archive has it


@dataclass(frozen=True)
class Options:
    out: Path
    cache: Path
    url: str
    sha256: str
    subset: int | None = None  # healthy images per class; None: all of them
    seed: int = 42
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    quiet: bool = False

    def settings(self) -> dict:
        return {"subset": self.subset, "seed": self.seed, "split": list(self.split)}


def check_target(target: Path, options: Options) -> dict | None:
    """The manifest when ``target`` already holds this dataset (nothing to do), None when it is free.

    Raises :class:`FetchError` for a folder that is not ours, ours with other settings, or changed since.
    """
    if target.exists() and not target.is_dir():
        raise FetchError(f"{target} is a file, not a folder; choose another --out.")
    if not target.exists() or not any(target.iterdir()):
        return None
    try:
        manifest = json.loads((target / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("fetched_by") != MARKER:
        raise FetchError(
            f"{target} is not empty and was not made by this script (no manifest.json of ours); nothing was "
            "written. Choose an empty or new --out folder."
        )
    if manifest.get("archive_sha256") != options.sha256:
        raise FetchError(
            f"{target} holds a dataset fetched from another archive (SHA-256 {manifest.get('archive_sha256')}); "
            "nothing was written. Choose another --out folder, or move that one away first."
        )
    if manifest.get("settings") != options.settings():
        raise FetchError(
            f"{target} holds this dataset fetched with {describe_settings(manifest.get('settings'))}; you asked for "
            f"{describe_settings(options.settings())}. Nothing was written: choose another --out folder, or move "
            "that one away first."
        )
    try:
        unchanged = intact(target, manifest)
    except (KeyError, TypeError):
        unchanged = False
    if not unchanged:
        raise FetchError(
            f"{target} was fetched by this script but its files changed since (missing or edited); nothing was "
            "written. Move that folder away and rerun to fetch a fresh copy."
        )
    return manifest


def fetch_dataset(source: Source, options: Options, note: Callable[[str], None] = lambda text: None) -> dict:
    """Do everything (see the module docstring); returns the manifest with ``status`` added."""
    target = Path(options.out)
    cache = Path(options.cache)
    if cache.resolve().is_relative_to(target.resolve()):
        raise FetchError(f"--cache {cache} is inside --out {target}; choose a download folder outside it.")
    present = check_target(target, options)
    if present is not None:
        return {**present, "status": "already present"}
    archive_name = PurePosixPath(urlsplit(options.url).path).name or f"{source.name}.archive"
    archive = cache / archive_name
    cached = archive.exists()
    note(f"using {display_path(archive)}" if cached else f"downloading {options.url} to {display_path(archive)}")
    status = download(options.url, archive, options.sha256, quiet=options.quiet)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    umask = os.umask(0o022)
    os.umask(umask)
    os.chmod(building, 0o777 & ~umask)  # mkdtemp makes it private; the dataset should be readable like any folder
    try:
        note(f"SHA-256 verified; extracting {archive_name}")
        (building / "original").mkdir()
        extract_archive(archive, building / "original")
        classes_root = building / "original" / source.classes_in
        if not classes_root.is_dir():
            raise FetchError(
                f"{archive} has no {source.classes_in}/ folder: it is not the archive of {source.title}; check --url."
            )
        classes = [p.name for p in sorted(classes_root.iterdir()) if p.is_dir() and p.name[0] not in "._"]
        if len(classes) < 2:
            raise FetchError(
                f"{archive}: {source.classes_in}/ has {len(classes)} class folder(s) ({', '.join(classes) or 'none'}), "
                f"expected at least two: it is not the archive of {source.title}; check --url."
            )
        chosen, report = select_healthy(classes_root, options.subset, options.seed, options.quiet)
        counts, files = write_splits(chosen, building, options.split)
        license_path = building / "original" / source.license_file if source.license_file else None
        if license_path and license_path.is_file():
            shutil.copyfile(license_path, building / "LICENSE.txt")
        (building / "health.txt").write_text(
            f"Health check of {source.classes_in}/ in {archive_name} (files checked: {report.images:,}).\n"
            "Files with errors were not copied; nor was a second copy of the same image.\n\n"
            f"{report.describe()}\n"
        )
        manifest = {
            "fetched_by": MARKER,
            "dataset": source.name,
            "url": options.url,
            "archive_sha256": options.sha256,
            "settings": options.settings(),
            "classes": sorted(chosen),
            "counts": counts,
            "checked": report.images,
            "left_out": len({f.path for f in report.findings if f.severity == "error" or f.problem == "duplicate"}),
            "sha256": digest_files(building, files),
            "files": files,
        }
        (building / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        if target.exists():
            target.rmdir()  # empty (checked above): make way for the rename
        os.rename(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)  # our own half-built folder, never the user's
        raise
    return {**manifest, "status": status, "summary": report.summary()}


def describe_result(manifest: dict, target: Path) -> str:
    """What the script prints at the end: where, how many per split, what was left out."""
    lines = []
    for split, per_class in manifest["counts"].items():
        lines.append(f"  {split:<5} " + ", ".join(f"{name} {count:,}" for name, count in per_class.items()))
    total = sum(sum(per_class.values()) for per_class in manifest["counts"].values())
    head = f"{display_path(target)}: {total:,} images in {len(manifest['classes'])} classes, "
    return "\n".join([head + describe_settings(manifest["settings"]), *lines])


def describe_settings(settings: object) -> str:
    """``seed 42, split 0.8/0.1/0.1, subset 100`` (or ``all images``) from a manifest's settings."""
    if not isinstance(settings, dict):
        return "unknown settings"
    subset = f"subset {settings.get('subset')}" if settings.get("subset") else "all images"
    split = "/".join(map(str, settings.get("split", [])))
    return f"seed {settings.get('seed')}, split {split}, {subset}"


def _sha256_text(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise argparse.ArgumentTypeError(f"expected 64 hexadecimal digits (a SHA-256), got {text!r}")
    return text.lower()


def _url_text(text: str) -> str:
    if not re.match(r"https?://[^/]", text):
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// address, got {text!r}")
    return quote(text, safe=":/?#[]@!$&'()*+,;=%~")  # a pasted address may hold spaces or accents


def _split_text(text: str) -> tuple[float, float, float]:
    """Three fractions TRAIN,VAL,TEST that add up to 1, e.g. 0.8,0.1,0.1 (VAL or TEST may be 0)."""
    try:
        fractions = tuple(float(part) for part in text.split(","))
    except ValueError:
        fractions = ()
    if len(fractions) != 3 or min(fractions) < 0 or fractions[0] <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise argparse.ArgumentTypeError(
            f"expected three fractions TRAIN,VAL,TEST that add up to 1 (train above 0), e.g. 0.8,0.1,0.1; got {text!r}"
        )
    return fractions  # type: ignore[return-value]


def parse_arguments(source: Source, argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(
        prog=f"fetch_{source.name}.py",
        description=f"Download {source.title}, {source.size / 1e6:,.0f} MB; check its SHA-256, extract it safely, "
        "check every image, and copy the healthy ones into a seeded, stratified train/val/test layout for "
        f"flow_from_directory in data/{source.name}/ (under $FITGEN_DATA if set). The archive's own files are "
        "kept untouched in original/. A second run with the same settings does nothing.",
        epilog="Exit status: 0 done or nothing to do, 1 error (one line on stderr), 2 bad arguments, 130 interrupted.",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help=f"target folder (default: data/{source.name})")
    parser.add_argument("--url", type=_url_text, default=source.url, help="where to download the archive from")
    parser.add_argument(
        "--sha256", type=_sha256_text, default=source.sha256, metavar="HEX", help="expected SHA-256 of the archive"
    )
    parser.add_argument(
        "--subset", type=positive_int, metavar="N", help="only N healthy images per class (fast classroom copy)"
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=42, metavar="N", help="seed for the subset and split (default 42)"
    )
    parser.add_argument(
        "--split",
        type=_split_text,
        default=(0.8, 0.1, 0.1),
        metavar="TRAIN,VAL,TEST",
        help="fractions of each class per split (default 0.8,0.1,0.1)",
    )
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, metavar="DIR", help="download folder (default: .cache/downloads)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or step messages")
    return parser.parse_args(argv)


def main(source: Source, argv: list[str] | None = None) -> int:
    """The command line of a fetch script: one line on stderr and exit 1 for every error of ours."""
    printable_output()
    arguments = parse_arguments(source, argv)
    prog = f"fetch_{source.name}.py"
    target = arguments.out or data_root() / source.name
    options = Options(
        out=target,
        cache=arguments.cache,
        url=arguments.url,
        sha256=arguments.sha256,
        subset=arguments.subset,
        seed=arguments.seed,
        split=arguments.split,
        quiet=arguments.quiet,
    )
    try:
        manifest = fetch_dataset(source, options, note=(lambda text: None) if arguments.quiet else print)
    except (FetchError, ImageFolderError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # full disk, read-only folder, ...
        print(
            f"{prog}: error: cannot write {error.filename or target}: {error.strerror or error}. Choose a folder "
            "you can write to with --out and --cache (or set FITGEN_DATA), with enough free space.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; rerun the same command to resume (a partial download is kept).", file=sys.stderr)
        return 130
    if manifest["status"] == "already present":
        print(f"{display_path(target)} already holds this dataset (same archive and settings); nothing to do.")
    else:
        print(f"health check of the archive: {manifest['summary']}")
        print(f"details: {display_path(target / 'health.txt')}")
    print(describe_result(manifest, target))
    for leftover in sorted(target.parent.glob(f".{target.name}.partial-*")):
        print(f"note: {display_path(leftover)} is left over from an interrupted run; you may delete it.")
    return 0
