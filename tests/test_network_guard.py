"""The guard in conftest.py stops unit tests from reaching any host but this machine."""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.conftest import NetworkAccessError


def test_outside_addresses_are_refused_before_any_packet() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(NetworkAccessError, match="192.0.2.1"),
    ):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1, documentation-only
    with pytest.raises(NetworkAccessError):
        socket.getaddrinfo("example.org", 443)
    with pytest.raises((NetworkAccessError, urllib.error.URLError)):
        urllib.request.urlopen("http://example.org/", timeout=1)


def test_loopback_is_allowed() -> None:
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/", timeout=5) as response:
            assert response.read() == b"hello"
    finally:
        server.shutdown()
        server.server_close()
