"""The browser fixture itself: pages load from loopback and anything else is refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PAGE = b"""<!doctype html><html><head><title>probe</title>
<script src="https://cdn.example.org/lib.js"></script></head>
<body><p id="local">served from loopback</p></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def loopback_page_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_loopback_loads_and_the_internet_is_refused(
    offline_page: tuple[Any, list[str]], loopback_page_url: str
) -> None:
    page, refused = offline_page
    page.goto(loopback_page_url)
    assert page.text_content("#local") == "served from loopback"
    assert refused == ["https://cdn.example.org/lib.js"]
