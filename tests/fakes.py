"""Small stand-ins for the real thing, shared by the fetch and health tests: images, archives, an HTTP server."""

from __future__ import annotations

import hashlib
import io
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


def malicious_archive(kind: str, member: str) -> bytes:
    good = {"flower_photos/daisy/a.jpg": photo_bytes(1)}
    if kind == "zip":
        links = {member: "../../outside"} if member.endswith("link") else None
        return make_zip(good | ({} if links else {member: b"evil"}), links)
    if member.endswith("link"):
        return make_tgz(good, [tar_entry(member, tarfile.SYMTYPE, "../../outside")])
    if member.endswith("hard"):
        return make_tgz(good, [tar_entry(member, tarfile.LNKTYPE, "../outside")])
    if member.endswith("tty"):
        return make_tgz(good, [tar_entry(member, tarfile.CHRTYPE)])
    return make_tgz(good | {member: b"evil"})
