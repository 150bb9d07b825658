"""`upload:` in a request: a repository directory zipped at run time, sent as multipart."""

import io
import zipfile
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.scenarios.loader import LoadedScenario, parse_scenario
from sandbox.scenarios.runner import Runner
from sandbox.scenarios.uploads import zip_directory
from services.kernel.testing import serve_on_loopback
from tests.scenarios.test_format import HEADER, error_of

APP_DIR = "scenarios/apps/facility-finder"


def test_a_directory_is_zipped_by_relative_path_and_the_same_every_time(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "index.html").write_text("<p>hi</p>")
    (tmp_path / "css" / "a.css").write_text("p {}")
    data = zip_directory(tmp_path)
    assert data == zip_directory(tmp_path)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["css/a.css", "index.html"]
        assert archive.read("css/a.css") == b"p {}"


def test_an_upload_must_be_a_repository_directory_and_excludes_other_bodies() -> None:
    outside = error_of(
        """
steps:
  - title: Install
    actor: A
    boundary: b
    request: {service: sectoral_platform, method: POST, path: /api/apps, upload: {zip_dir: ../etc}}
"""
    )
    assert "`upload.zip_dir` '../etc': no such directory in the repository" in outside
    both = error_of(
        f"""
steps:
  - title: Both
    actor: A
    boundary: b
    request: {{service: consent, json: {{}}, upload: {{zip_dir: {APP_DIR}}}}}
"""
    )
    assert "exclude each other" in both


@pytest.fixture
def receiver() -> Iterator[str]:
    app = FastAPI()

    @app.post("/upload")
    async def upload(request: Request) -> JSONResponse:
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + await request.body())
        (part,) = list(message.iter_parts())
        assert part.get_param("name", header="content-disposition") == "file"
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        names = zipfile.ZipFile(io.BytesIO(payload)).namelist()
        return JSONResponse({"filename": part.get_filename(), "names": names})

    with serve_on_loopback(app) as url:
        yield url


def test_the_runner_sends_the_zip_as_a_multipart_file(receiver: str) -> None:
    text = (
        HEADER
        + f"""
steps:
  - title: Upload
    actor: A
    boundary: b
    request:
      {{service: sectoral_platform, method: POST, path: /upload, upload: {{zip_dir: {APP_DIR}}}}}
    expect:
      json:
        filename: facility-finder.zip
        names: {{contains: manifest.webapp}}
"""
    )
    scenario = parse_scenario(Path("upload.yaml"), text)
    result = Runner(urls=lambda _: receiver).run(
        LoadedScenario("upload", Path("upload.yaml"), scenario)
    )
    assert result.ok, result.failure_message()
    call = result.steps[0].call
    assert call is not None and call.request_body == {
        "upload": "file",
        "filename": "facility-finder.zip",
        "zip_dir": APP_DIR,
    }
