"""Extract a zip or tar archive without letting it write anywhere but the folder it is extracted to.

Every member is checked before anything is written: absolute paths, ``..``, links that point outside,
and device files or FIFOs are refused with a message naming the member. Tar members then also go
through Python's ``data`` extraction filter (it drops set-uid bits and re-checks every link).
"""

from __future__ import annotations

import posixpath
import re
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path

from data_scripts.download import FetchError


def _unsafe(archive: Path, member: str, why: str) -> FetchError:
    return FetchError(
        f"{archive.name}: refusing member {member!r}: {why}. Nothing was extracted; the archive is damaged "
        "or malicious, get it from a trusted source."
    )


def _check_path(archive: Path, name: str) -> None:
    """Refuse absolute paths (also Windows drive letters) and any ``..`` step."""
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised):
        raise _unsafe(archive, name, "its path is absolute")
    if ".." in normalised.split("/"):
        raise _unsafe(archive, name, "its path climbs out of the folder with '..'")


def _leaves(start: str, link: str) -> bool:
    """True when ``link``, followed from folder ``start`` inside the archive, ends outside it."""
    if link.startswith("/") or re.match(r"^[A-Za-z]:", link):
        return True
    joined = posixpath.normpath(posixpath.join(start, link.replace("\\", "/")))
    return joined == ".." or joined.startswith("../")


def _check_zip(archive: Path, zf: zipfile.ZipFile) -> int:
    total = 0
    for info in zf.infolist():
        _check_path(archive, info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            target = zf.read(info).decode("utf-8", "replace")
            if _leaves(posixpath.dirname(info.filename), target):
                raise _unsafe(archive, info.filename, f"it is a link to {target!r}, outside the folder")
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
            raise _unsafe(archive, info.filename, "it is a device file or FIFO")
        total += info.file_size
    return total


def _check_tar(archive: Path, tf: tarfile.TarFile) -> int:
    total = 0
    for member in tf.getmembers():
        _check_path(archive, member.name)
        if member.ischr() or member.isblk() or member.isfifo():
            raise _unsafe(archive, member.name, "it is a device file or FIFO")
        if member.issym() and _leaves(posixpath.dirname(member.name), member.linkname):
            raise _unsafe(archive, member.name, f"it is a link to {member.linkname!r}, outside the folder")
        if member.islnk() and _leaves("", member.linkname):  # hard links are relative to the archive root
            raise _unsafe(archive, member.name, f"it is a hard link to {member.linkname!r}, outside the folder")
        total += member.size if member.isfile() else 0
    return total


def _extract_zip(zf: zipfile.ZipFile, destination: Path) -> None:
    """Like ``extractall``, but a Windows-made name like ``PetImages\\Cat\\1.jpg`` becomes folders, not one name."""
    for info in zf.infolist():
        name = info.filename.replace("\\", "/")
        path = destination / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as source, path.open("wb") as target:
            shutil.copyfileobj(source, target)


def _check_space(archive: Path, destination: Path, needed: int) -> None:
    free = shutil.disk_usage(destination).free
    if needed > free:
        raise FetchError(
            f"{archive.name} needs {needed / 1e9:.1f} GB to extract but only {free / 1e9:.1f} GB are free at "
            f"{destination}; free some space or choose another --out."
        )


def extract_archive(archive: Path, destination: Path) -> None:
    """Extract ``archive`` (zip, tar, tar.gz ...) into the existing, empty folder ``destination``.

    Raises :class:`FetchError` (before writing anything) when a member is unsafe or the archive is damaged.
    """
    archive, destination = Path(archive), Path(destination)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                _check_space(archive, destination, _check_zip(archive, zf))
                _extract_zip(zf, destination)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                _check_space(archive, destination, _check_tar(archive, tf))
                tf.extractall(destination, filter="data")
        else:
            raise FetchError(f"{archive} is not a zip or tar archive; check --url (or move that file away).")
    except tarfile.FilterError as error:
        raise _unsafe(archive, error.tarinfo.name, str(error)) from None
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, RuntimeError, ValueError) as error:
        raise FetchError(f"{archive} is damaged ({error}); move it away and rerun to download it again.") from None
