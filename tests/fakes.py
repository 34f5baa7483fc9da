"""Small stand-ins for the real thing, shared by the fetch and health tests: images, archives, an HTTP server."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image


def photo_bytes(seed: int, size: int = 48, fmt: str = "JPEG") -> bytes:
    """A small noise image: different seeds give different content (and so different hashes)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def tree_snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (folders, files, links, not following links): its kind and content or target."""
    entries = {}
    for directory, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(directory) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                entries[relative] = "link -> " + os.readlink(path)
            elif path.is_dir():
                entries[relative] = "folder"
            else:
                entries[relative] = sha256(path.read_bytes())
    return entries


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArchiveServer:
    """Serves ``files`` by name; honours ``Range: bytes=N-`` unless ``ignore_range``; cuts ``cuts`` responses."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.ignore_range = False
        self.cuts = 0  # how many of the next responses stop after ``cut_after`` bytes of body
        self.cut_after = 1000
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                name = self.path.lstrip("/")
                wanted = self.headers.get("Range")
                server.requests.append((name, wanted))
                if name not in server.files:
                    self.send_error(404, "Not Found")
                    return
                data = server.files[name]
                start = int(wanted[6:-1]) if wanted and not server.ignore_range else 0
                if start >= len(data) and wanted and not server.ignore_range:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                body = data[start:]
                if server.cuts > 0:
                    server.cuts -= 1
                    body = body[: server.cut_after]  # then the connection closes: a cut transfer
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.http.server_port}/{name}"


def cats_members() -> dict[str, bytes]:
    """A small PetImages: 8 good photos per class and the kinds of trouble the real archive has."""
    members = {
        f"PetImages/{name}/{index}.jpg": photo_bytes(1000 + 50 * n + index)
        for n, name in enumerate(("Cat", "Dog"))
        for index in range(8)
    }
    members |= {
        "PetImages/Cat/100.jpg": photo_bytes(7)[:900],  # truncated
        "PetImages/Cat/101.jpg": b"",  # zero bytes
        "PetImages/Cat/102.jpg": b"<html>not found</html>",  # not an image
        "PetImages/Cat/103.jpg": encoded(Image.new("CMYK", (48, 48), (0, 90, 200, 10)), "JPEG"),
        "PetImages/Dog/104.jpg": encoded(Image.new("L", (48, 48), 77), "JPEG"),
        "PetImages/Dog/105.jpg": photo_bytes(1050),  # the same photo as Dog/0.jpg
        "PetImages/Dog/106.png": encoded(Image.fromarray(np.full((48, 48), 4000, dtype=np.uint16)), "PNG"),
        "PetImages/Dog/Thumbs.db": b"\x00\x01",
        "readme[1].txt": b"about the data",
    }
    return members


def flowers_members() -> dict[str, bytes]:
    members = {
        f"flower_photos/{name}/{name}_{index}.jpg": photo_bytes(2000 + 20 * n + index)
        for n, name in enumerate(("daisy", "roses", "tulips"))
        for index in range(6)
    }
    return members | {
        "flower_photos/LICENSE.txt": b"All images are CC-BY; photographers: ...",
        "flower_photos/tulips/cut.jpg": photo_bytes(8)[:700],
        "flower_photos/tulips/zero.jpg": b"",
        "flower_photos/tulips/readme.jpg": b"plain text",
        "flower_photos/roses/deep.png": encoded(Image.fromarray(np.full((48, 48), 9000, dtype=np.uint16)), "PNG"),
    }


def make_zip(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def make_tgz(members: dict[str, bytes], special: list[tarfile.TarInfo] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for info in special or []:
            archive.addfile(info)
    return buffer.getvalue()


def tar_entry(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def tar_bytes(entries: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w") -> bytes:
    """A tar archive of the given entries in this order (``mode`` "w:gz" compresses); data sets each file's size."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode, format=tarfile.PAX_FORMAT) as archive:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def tar_file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def pathmax_chain() -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """CVE-2025-4517's shape: 16 links to 247-character folders make a path longer than PATH_MAX, where
    ``os.path.realpath`` stops resolving (and so ``filter="data"`` before Python 3.11.13 stops checking); a
    link through it climbs out, a hard link through that one reaches a file outside, and data overwrites it."""
    long_name, steps, path = "d" * 247, "abcdefghijklmnop", ""
    entries: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for step in steps:
        entries.append((tar_entry(f"{path}{long_name}", tarfile.DIRTYPE), None))
        entries.append((tar_entry(f"{path}{step}", tarfile.SYMTYPE, long_name), None))
        path += long_name + "/"
    chain = "/".join(steps)
    entries.append((tar_entry(chain, tarfile.SYMTYPE, "../" * len(steps)), None))
    entries.append((tar_entry("escape", tarfile.SYMTYPE, chain + "/../.."), None))
    entries.append((tar_entry("flaglink", tarfile.LNKTYPE, "escape/outside.txt"), None))
    entries.append((tar_file("flaglink"), b"overwritten through a hard link"))
    entries.append((tar_file("escape/created.txt"), b"created outside"))
    return entries


def dot_link_chain() -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """A link whose text looks inside but climbs out for real: 'x' is '.', so 'x/x/x/up' -> '../../..' is 3 up."""
    return [
        (tar_entry("x", tarfile.SYMTYPE, "."), None),
        (tar_entry("x/x/x/up", tarfile.SYMTYPE, "../../.."), None),
        (tar_file("x/x/x/up/created.txt"), b"created outside"),
    ]


def bomb_zip(megabytes: int) -> bytes:
    """An honest zip bomb: ``megabytes`` MB of zeros, about a thousand times smaller compressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("zeros.jpg", "w") as member:
        block = bytes(1 << 20)
        for _ in range(megabytes):
            member.write(block)
    return buffer.getvalue()


def huge_declared_tar() -> bytes:
    """A tar whose one member declares 10**15 bytes (the data is simply missing)."""
    info = tar_file("flower_photos/daisy/huge.jpg")
    info.size = 10**15
    header = info.tobuf(tarfile.PAX_FORMAT)
    return header + bytes(1024)


GOOD = {"flower_photos/daisy/a.jpg": photo_bytes(1)}
GOOD_NAME = next(iter(GOOD))


def archive_corpus() -> dict[str, tuple[str, bytes, str]]:
    """Every kind of member that must not be written, as {label: (suffix, archive bytes, what the refusal says)}."""
    good = [(tar_file(name), data) for name, data in GOOD.items()]

    def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> bytes:
        return tar_bytes([*good, (tar_entry(name, kind, target), None)], "w:gz")

    return {
        "zip dot-dot": ("zip", make_zip(GOOD | {"../evil.txt": b"evil"}), "climbs out of the folder with '..'"),
        "zip backslash dot-dot": ("zip", make_zip(GOOD | {"a\\..\\..\\evil.txt": b"e"}), "climbs out"),
        "zip absolute": ("zip", make_zip(GOOD | {"/tmp/evil.txt": b"evil"}), "its path is absolute"),
        "zip drive": ("zip", make_zip(GOOD | {"C:/evil.txt": b"evil"}), "its path is absolute"),
        "zip link out": ("zip", make_zip(GOOD, {"PetImages/link": "../../outside"}), "it is a link"),
        "zip link in": ("zip", make_zip(GOOD, {"flower_photos/b.jpg": "daisy/a.jpg"}), "it is a link"),
        "tar dot-dot": ("tgz", tar_bytes([*good, (tar_file("flower_photos/../../evil.txt"), b"e")]), "climbs out"),
        "tar absolute": ("tgz", tar_bytes([*good, (tar_file("/tmp/evil.txt"), b"evil")]), "its path is absolute"),
        "tar link out": ("tgz", link("flower_photos/link", "../../outside"), "it is a link to '../../outside'"),
        "tar link in": ("tgz", link("flower_photos/b.jpg", "daisy/a.jpg"), "it is a link to 'daisy/a.jpg'"),
        "tar hard link out": ("tgz", link("flower_photos/hard", "../outside", tarfile.LNKTYPE), "it is a hard link"),
        "tar hard link in": ("tgz", link("flower_photos/h.jpg", GOOD_NAME, tarfile.LNKTYPE), "it is a hard link"),
        "tar device": ("tgz", link("flower_photos/tty", "", tarfile.CHRTYPE), "it is a device file or FIFO"),
        "tar fifo": ("tgz", link("flower_photos/pipe", "", tarfile.FIFOTYPE), "it is a device file or FIFO"),
        "tar PATH_MAX chain": ("tar", tar_bytes(pathmax_chain()), "it is a link"),
        "tar dot-link chain": ("tar", tar_bytes(dot_link_chain()), "it is a link"),
        "tar file then folder": (
            "tar",
            tar_bytes([*good, (tar_file("flower_photos/daisy/a.jpg/b.jpg"), b"b")]),
            "it lies inside a member that is a file",
        ),
        "zip bomb": ("zip", bomb_zip(100), "more than 50 times its own size"),
        "tar declaring 10**15 bytes": ("tar", huge_declared_tar(), "more than 50 times its own size"),
    }
