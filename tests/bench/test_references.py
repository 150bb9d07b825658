"""The benchmarks' reference processes: nginx answering the provider's fixed JSON (the replicas
benchmark's provider) serves exactly that body, and refuses a body it could not quote."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from bench.common import free_port, stop
from bench.interop_layer import ITEMS, PATH
from bench.interop_references import nginx_binary, start_static_provider


def test_a_body_nginx_could_not_quote_is_refused(tmp_path: Path) -> None:
    for body in (b'{"name": "o\'brien"}', b'"C:\\\\"'):
        with pytest.raises(ValueError, match="unescaped"):
            start_static_provider("/items", body, free_port(), tmp_path)
    assert not list(tmp_path.iterdir())  # nothing started, nothing written


@pytest.mark.skipif(
    nginx_binary() is None, reason="nginx is not installed (`apt-get install nginx`; .ci/run does)"
)
def test_the_static_provider_answers_the_providers_json(tmp_path: Path) -> None:
    port = free_port()
    body = orjson.dumps(ITEMS)
    process = start_static_provider("/items", body, port, tmp_path)
    assert process is not None
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}{PATH}")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == ITEMS
        assert httpx.get(f"http://127.0.0.1:{port}/other").status_code == 404
    finally:
        stop(process)
