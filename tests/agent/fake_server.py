"""A tiny fake of the iaxadmin host API (the agent's contract), served from a thread.

GET  /api/v1/hosts/<host>/bundle.tar.gz   Bearer token, If-None-Match -> 200 / 304 / 401 / 404 / 409
POST /api/v1/hosts/<host>/deployments     JSON body, recorded              -> 201
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def revision_sha256(conf: bytes, keys: dict[str, bytes]) -> str:
    """The contract's checksum, written independently of the agent's copy: iax.conf's bytes, then
    per key file sorted by name (the name inside keys/): name, NUL, content."""
    data = conf + b"".join(name.encode() + b"\0" + keys[name] for name in sorted(keys))
    return hashlib.sha256(data).hexdigest()


def make_tar(members: list[tarfile.TarInfo | tuple[str, bytes, int]]) -> bytes:
    """A gzip tar from (name, content, mode) tuples and/or ready TarInfo objects (links etc.)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
                continue
            name, content, mode = member
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = mode
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


@dataclass
class Bundle:
    revision: int
    sha256: str
    body: bytes

    @classmethod
    def build(cls, revision: int, conf: bytes, keys: dict[str, bytes] | None = None) -> Bundle:
        keys = keys or {}
        members = [("iax.conf", conf, 0o644)]
        members += [
            (f"keys/{name}", content, 0o600 if name.endswith(".key") else 0o644)
            for name, content in sorted(keys.items())
        ]
        return cls(revision, revision_sha256(conf, keys), make_tar(members))


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class FakeIaxadmin:
    host: str = "pbx1"
    token: str = "host-token-0123456789abcdef"
    bundle: Bundle | None = None
    bundle_status: tuple[int, str] | None = None  # force an error answer: (status, reason)
    deployment_status: int = 201
    requests: list[Request] = field(default_factory=list)
    deployments: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeIaxadmin:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()

    def bundle_requests(self) -> list[Request]:
        return [r for r in self.requests if r.method == "GET"]

    # ----------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(method, handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)
        with self._lock:
            self.requests.append(request)
        prefix = "/api/v1/hosts/"
        path = handler.path.split("?", 1)[0]
        if not path.startswith(prefix):
            return self._text(handler, 404, "not found")
        host, _, rest = path[len(prefix) :].partition("/")
        auth = handler.headers.get("Authorization", "")
        if auth != f"Bearer {self.token}":
            return self._text(handler, 401, "missing or invalid host token")
        if host != self.host:
            return self._text(handler, 404, f"unknown host {host!r}")
        if method == "GET" and rest == "bundle.tar.gz":
            if self.bundle_status:
                return self._text(handler, *self.bundle_status)
            if self.bundle is None:
                return self._text(handler, 409, f"host {host!r} has never been published")
            etag = f'"{self.bundle.sha256}"'
            if handler.headers.get("If-None-Match") == etag:
                handler.send_response(304)
                handler.send_header("ETag", etag)
                handler.end_headers()
                return None
            handler.send_response(200)
            handler.send_header("Content-Type", "application/gzip")
            handler.send_header("Content-Length", str(len(self.bundle.body)))
            handler.send_header("ETag", etag)
            handler.send_header("X-Iaxadmin-Revision", str(self.bundle.revision))
            handler.send_header("X-Iaxadmin-Sha256", self.bundle.sha256)
            handler.end_headers()
            handler.wfile.write(self.bundle.body)
            return None
        if method == "POST" and rest == "deployments":
            if handler.headers.get("Content-Type") != "application/json":
                return self._text(handler, 400, "expected application/json")
            with self._lock:
                self.deployments.append(json.loads(body))
            if self.deployment_status != 201:
                return self._text(handler, self.deployment_status, "deployments are broken today")
            return self._json(handler, 201, {"id": len(self.deployments)})
        return self._text(handler, 404, "not found")

    @staticmethod
    def _text(handler: BaseHTTPRequestHandler, status: int, reason: str) -> None:
        data = (reason + "\n").encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, status: int, value: dict) -> None:
        data = json.dumps(value).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
