"""Extract a zip or tar archive without letting it write anywhere but the folder it is extracted to.

Image datasets need nothing but folders and regular files, so every other member kind is refused:
symbolic and hard links (the way every known escape works, CVE-2025-4517's PATH_MAX chain among them),
device files and FIFOs. Every member's path is resolved here, by this module, not by ``tarfile``'s
filters (which some Python 3.11 patch levels lack or get wrong): no absolute path, no ``..``, no
Windows drive. All of that is checked before the first byte is written, together with the space the
archive needs and how far it expands (a "zip bomb" is refused). Files are then created with
``O_NOFOLLOW``, inside folders this module made, with the declared number of bytes and no more.
"""

from __future__ import annotations

import gzip
import lzma
import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from data_scripts.download import FetchError

# Photos barely compress (JPEG is compressed already): real dataset archives expand about 1.0-1.1x.
MAX_EXPANSION = 50  # declared size over the archive's size; a zip bomb of zeros is about 1,000x
SMALL_ARCHIVE_BYTES = 64 << 20  # below this total, any ratio is fine (a small archive cannot fill a disk)
COPY_BYTES = 1 << 20
# What a damaged archive starts with, when the zip and tar readers no longer recognise it.
SIGNATURES = {b"PK\x03\x04": "zip", b"\x1f\x8b": "gzip file", b"BZh": "bzip2 file", b"\xfd7zXZ\x00": "xz file"}


@dataclass(frozen=True)
class Member:
    """One archive entry, checked: its safe relative path, whether it is a folder, its declared size."""

    name: str  # as the archive spells it (for messages)
    parts: tuple[str, ...]  # the path inside the destination, one folder name per part
    is_folder: bool
    size: int
    open: Callable[[], AbstractContextManager[IO[bytes]]] | None  # None for folders


def _unsafe(archive: Path, member: str, why: str) -> FetchError:
    return FetchError(
        f"{archive.name}: refusing member {member!r}: {why}. Nothing was extracted; the archive is damaged "
        "or malicious, get it from a trusted source."
    )


def readable_name(name: str) -> str:
    """A member name as real text: bytes that are not UTF-8 (an old Latin-1 archive) are read as Latin-1."""
    raw = name.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _parts(archive: Path, name: str) -> tuple[str, ...]:
    """The folder names of a member's path, refusing absolute paths, drives, ``..`` and control characters."""
    text = readable_name(name)
    normalised = text.replace("\\", "/")  # a Windows-made zip: PetImages\Cat\1.jpg is folders, not one name
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised):
        raise _unsafe(archive, text, "its path is absolute")
    parts = tuple(part for part in normalised.split("/") if part not in ("", "."))
    if ".." in parts:
        raise _unsafe(archive, text, "its path climbs out of the folder with '..'")
    if not all(character.isprintable() for character in text):  # C0, DEL, C1: terminal escapes hide in names
        raise _unsafe(archive, text.encode("unicode_escape").decode("ascii"), "its name contains control characters")
    if not parts:
        raise _unsafe(archive, text, "its path is empty")
    return parts


def _zip_members(archive: Path, zf: zipfile.ZipFile) -> Iterator[Member]:
    for info in zf.infolist():
        mode = info.external_attr >> 16
        parts = _parts(archive, info.filename)
        if stat.S_ISLNK(mode):
            raise _unsafe(
                archive,
                info.filename,
                "it is a link; an image dataset needs none, and links are how archives write outside their folder",
            )
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # zip tools often set no type bits
            raise _unsafe(archive, info.filename, "it is a device file or FIFO")
        folder = info.is_dir() or stat.S_ISDIR(mode) or info.filename.replace("\\", "/").endswith("/")
        yield Member(
            info.filename,
            parts,
            folder,
            0 if folder else info.file_size,
            None if folder else (lambda info=info: zf.open(info)),
        )


def _tar_members(archive: Path, tf: tarfile.TarFile) -> Iterator[Member]:
    for member in tf:  # one at a time: a member's declared size is checked before tarfile seeks past it
        parts = _parts(archive, member.name)
        if member.issym() or member.islnk():
            kind = "hard link" if member.islnk() else "link"
            raise _unsafe(
                archive,
                readable_name(member.name),
                f"it is a {kind} to {readable_name(member.linkname)!r}; an image dataset needs none, and links are "
                "how archives write outside their folder",
            )
        if not (member.isfile() or member.isdir()):
            raise _unsafe(archive, readable_name(member.name), "it is a device file or FIFO")
        yield Member(
            member.name,
            parts,
            member.isdir(),
            0 if member.isdir() else member.size,
            None if member.isdir() else (lambda member=member: tf.extractfile(member)),
        )


def _expansion_checked(archive: Path, members: Iterator[Member]) -> list[Member]:
    """All members, refusing the archive as soon as their declared sizes add up to a "zip bomb"."""
    packed, total, checked = max(archive.stat().st_size, 1), 0, []
    for member in members:
        total += member.size
        if total > SMALL_ARCHIVE_BYTES and total > MAX_EXPANSION * packed:
            raise FetchError(
                f"{archive.name} declares at least {total / 1e9:,.1f} GB of content from {packed / 1e6:,.1f} MB, "
                f"more than {MAX_EXPANSION} times its own size; photos barely compress, so it is a damaged archive "
                "or a 'zip bomb'. Nothing was extracted; get it from a trusted source."
            )
        checked.append(member)
    return checked


def _check_all(archive: Path, members: list[Member], destination: Path) -> None:
    """Refuse clashes (a file where a folder goes) or more than the free space, before writing."""
    kinds: dict[tuple[str, ...], bool] = {}
    for member in members:
        for depth in range(1, len(member.parts)):
            if kinds.setdefault(member.parts[:depth], True) is False:
                raise _unsafe(archive, readable_name(member.name), "it lies inside a member that is a file")
        if kinds.setdefault(member.parts, member.is_folder) != member.is_folder:
            raise _unsafe(archive, readable_name(member.name), "it is both a file and a folder")
    total = sum(member.size for member in members)
    free = shutil.disk_usage(destination).free
    if total > free:
        raise FetchError(
            f"{archive.name} needs {total / 1e9:,.1f} GB to extract but only {free / 1e9:,.1f} GB are free at "
            f"{destination}. Nothing was extracted; free some space or choose another --out."
        )


def _write(member: Member, path: Path, archive: Path) -> None:
    """Create ``path`` (never through a link, never over a file) with at most the member's declared bytes."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    if os.path.lexists(path):  # a tar may hold the same name twice: the later copy wins, as with tar itself
        path.unlink()
    assert member.open is not None
    with member.open() as source, os.fdopen(os.open(path, flags, 0o666), "wb") as target:
        left = member.size
        while block := source.read(min(COPY_BYTES, left + 1)):
            left -= len(block)
            if left < 0:
                raise FetchError(f"{archive.name}: member {readable_name(member.name)!r} holds more than it declares")
            target.write(block)


def _extract(archive: Path, members: list[Member], destination: Path) -> None:
    """Write every member under ``destination``; on any failure remove what was written, then say so."""
    inside = destination.resolve()
    made: list[Path] = []  # what this call created, in order, so that a failure can take it back
    try:
        for member in members:
            path = inside.joinpath(*member.parts)
            for folder in [*reversed(path.parents[: len(member.parts) - 1]), *([path] if member.is_folder else [])]:
                if not folder.is_dir() or folder.is_symlink():
                    folder.mkdir()
                    made.append(folder)
            if not path.parent.resolve().is_relative_to(inside):  # cannot happen without links; checked anyway
                raise _unsafe(archive, readable_name(member.name), "its folder resolves outside the destination")
            if not member.is_folder:
                if not os.path.lexists(path):
                    made.append(path)  # before writing: a failure halfway through this file removes it too
                _write(member, path, archive)
    except BaseException as error:
        for path in reversed(made):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        if isinstance(error, KeyboardInterrupt | FetchError) and not made:
            raise
        if isinstance(error, KeyboardInterrupt):
            raise
        reason = str(error) if isinstance(error, FetchError) else f"{type(error).__name__}: {error}"
        undone = f"the {len(made):,} files and folders it had written into {destination} were removed again"
        raise FetchError(
            f"{archive.name}: extraction stopped ({reason}); {undone if made else 'nothing was written'}. Move the "
            "archive away and rerun to download it again, or get it from a trusted source."
        ) from None


def extract_archive(archive: Path, destination: Path) -> None:
    """Extract ``archive`` (zip, tar, tar.gz ...) into the existing, empty folder ``destination``.

    Raises :class:`FetchError` (before writing anything) when a member is unsafe, the archive is damaged,
    expands too far or does not fit; a failure while writing removes what was written and says so.
    """
    archive, destination = Path(archive), Path(destination)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                members = _expansion_checked(archive, _zip_members(archive, zf))
                _check_all(archive, members, destination)
                _extract(archive, members, destination)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members = _expansion_checked(archive, _tar_members(archive, tf))
                _check_tar_end(tf)
                _check_all(archive, members, destination)
                _extract(archive, members, destination)
        else:
            with archive.open("rb") as stream:
                head = stream.read(6)
            kind = next((name for magic, name in SIGNATURES.items() if head.startswith(magic)), None)
            if kind is not None:
                raise FetchError(f"{archive} is a damaged {kind} (cut short?); move it away and rerun to download it.")
            raise FetchError(f"{archive} is not a zip or tar archive; check --url (or move that file away).")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, RuntimeError, ValueError, zipfile.LargeZipFile,
            zlib.error, lzma.LZMAError, gzip.BadGzipFile) as error:  # fmt: skip
        raise FetchError(f"{archive} is damaged ({error}); move it away and rerun to download it again.") from None


def _check_tar_end(tf: tarfile.TarFile) -> None:
    """A tar ends with a block of zeros, and a compressed one with its checksum; ``tarfile`` takes a cut-short
    archive (or a damaged header) for the end, so a truncated download would extract in part and look fine."""
    stream = tf.fileobj
    stream.seek(tf.offset)
    if stream.read(tarfile.BLOCKSIZE) != bytes(tarfile.BLOCKSIZE):
        raise tarfile.ReadError("it ends before its end-of-archive block: cut short, or a damaged header")
    while stream.read(1 << 20):  # a compressed stream checks its length and checksum only at its very end
        pass
