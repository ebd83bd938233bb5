"""The Open311 API server as the tests run it: ``cpted api`` (uvicorn) in a subprocess on
a free loopback port, spoken to with a plain HTTP client (``urllib.request``)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

PREFIX = "/open311/v2"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(db_url: str, log: Path, **env: str) -> Iterator[str]:
    """Run ``cpted api`` on ``db_url`` until the block ends; yield its base URL
    (``http://127.0.0.1:PORT/open311/v2``). ``env`` adds ``CPTED_*`` settings."""
    port = free_port()
    environ = {**os.environ, "CPTED_DB_URL": db_url, "PYTHONPATH": str(ROOT), **env}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cpted.cli", "api", "--port", str(port)],
            env=environ, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}{PREFIX}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"cpted api exited ({proc.returncode}):\n"
                                   + log.read_text(errors="replace"))
            try:
                if get(base + "/discovery.json").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("cpted api did not answer within 90 s:\n"
                                   + log.read_text(errors="replace"))
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _open(req: urllib.request.Request) -> Answer:
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return Answer(r.status, dict(r.headers), r.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        return Answer(e.code, dict(e.headers), e.read().decode("utf-8"))


def get(url: str, params: Mapping[str, Any] | None = None, *,
        headers: Mapping[str, str] | None = None, method: str = "GET") -> Answer:
    if params:
        url += "?" + urllib.parse.urlencode(params)
    return _open(urllib.request.Request(url, headers=dict(headers or {}), method=method))


def post(url: str, fields: Sequence[tuple[str, str]] | Mapping[str, str], *,
         files: Mapping[str, tuple[str, str, bytes]] | None = None,
         headers: Mapping[str, str] | None = None) -> Answer:
    """POST ``fields`` form-encoded, or as multipart/form-data with ``files``
    (field name to (file name, media type, bytes))."""
    items = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
    if files:
        boundary = "----cpted" + secrets.token_hex(8)
        parts = []
        for k, v in items:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"'
                         f"\r\n\r\n{v}\r\n".encode())
        for k, (name, kind, data) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; '
                         f'filename="{name}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
                         + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        kind = f"multipart/form-data; boundary={boundary}"
    else:
        body = urllib.parse.urlencode(items).encode()
        kind = "application/x-www-form-urlencoded; charset=utf-8"
    return _open(urllib.request.Request(url, data=body, method="POST",
                                        headers={"Content-Type": kind, **(headers or {})}))


def all_requests(base: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of ``requests.json`` for ``params``, followed by its ``Link`` header."""
    out: list[dict[str, Any]] = []
    url: str | None = base + "/requests.json?" + urllib.parse.urlencode(params)
    while url:
        got = get(url)
        assert got.status == 200, got.text
        out += got.json()
        link = got.headers.get("link") or got.headers.get("Link")
        url = link.split(">")[0].lstrip("<") if link else None
    return out
