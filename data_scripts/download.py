"""Download one file with a progress bar, resume after an interruption (HTTP Range) and a SHA-256 check.

The data goes to ``<name>.part`` first and gets its real name only once its SHA-256 matches, so a file
with the real name is always complete and verified. A server that ignores Range gets a clean restart.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

CHUNK_BYTES = 1 << 16
ATTEMPTS = 3  # tries per run; each one resumes where the last stopped
TIMEOUT_SECONDS = 60


class FetchError(Exception):
    """Downloading, checking or extracting failed; the message names the file or value and the fix."""


class _Interrupted(Exception):
    """The connection ended before the whole file arrived (worth another try from where it stopped)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _transfer(url: str, part: Path, quiet: bool) -> None:
    """Append the rest of ``url`` to ``part`` (or start over if the server ignores Range)."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "fitgen-kit", **({"Range": f"bytes={offset}-"} if offset else {})}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            return  # nothing left to send: the part is already whole (its checksum decides)
        raise FetchError(f"{url} answered HTTP {error.code} {error.reason}; check the address (--url).") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise FetchError(
            f"cannot reach {urlsplit(url).netloc} ({reason}). Check the network or proxy, or download {url} "
            f"another way and save it as {part.with_name(part.name.removesuffix('.part'))}: the script checks it."
        ) from None
    with response:
        start = 0
        if response.status == 206:
            match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
            start = int(match.group(1)) if match else -1
        elif response.status != 200:
            raise FetchError(f"{url} answered HTTP {response.status}; expected 200 or 206. Check --url.")
        if start != offset and response.status == 206:
            part.write_bytes(b"")  # an unexpected range: start over on the next try
            raise _Interrupted("the server sent another range than asked")
        length = response.headers.get("Content-Length")
        total = start + int(length) if length else None
        received = 0
        with (
            part.open("ab" if start else "wb") as stream,  # "wb": a server that ignores Range restarts cleanly
            tqdm(total=total, initial=start, unit="B", unit_scale=True, desc=part.stem, disable=quiet) as bar,
        ):
            while True:
                try:
                    block = response.read(CHUNK_BYTES)
                except (http.client.IncompleteRead, OSError) as error:
                    raise _Interrupted(str(error) or type(error).__name__) from None
                if not block:
                    break
                stream.write(block)
                received += len(block)
                bar.update(len(block))
        if length and received < int(length):
            raise _Interrupted("the connection closed early")


def _fetch(url: str, part: Path, quiet: bool, attempts: int) -> None:
    reason = ""
    for _ in range(attempts):
        try:
            _transfer(url, part, quiet)
            return
        except _Interrupted as error:
            reason = str(error)
    got = part.stat().st_size if part.exists() else 0
    raise FetchError(
        f"the download of {url} stopped after {got:,} bytes ({attempts} tries; last: {reason}). "
        f"Rerun the same command to resume from there (kept in {part})."
    )


def download(url: str, destination: Path, sha256: str, quiet: bool = False, attempts: int = ATTEMPTS) -> str:
    """Make ``destination`` a verified copy of ``url``; returns "cached" (already there) or "downloaded"."""
    destination = Path(destination)
    if os.path.lexists(destination):
        actual = sha256_of(destination) if destination.is_file() else "not a file"
        if actual == sha256:
            return "cached"
        raise FetchError(
            f"{destination} is already there but its SHA-256 is {actual}, expected {sha256}. Move it away and "
            f"rerun to download it again, or rerun with --sha256 {actual} if you trust that file."
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    resumed = part.exists() and part.stat().st_size > 0
    _fetch(url, part, quiet, attempts)
    actual = sha256_of(part)
    if actual != sha256 and resumed:  # the old part may come from another version of the file: start over once
        part.write_bytes(b"")
        _fetch(url, part, quiet, attempts)
        actual = sha256_of(part)
    if actual != sha256:
        raise FetchError(
            f"{url} arrived with SHA-256 {actual}, expected {sha256}: damaged in transit or changed by its "
            f"publisher. Rerun to download it again, or rerun with --sha256 {actual} if you trust it (kept in {part})."
        )
    os.replace(part, destination)
    return "downloaded"
