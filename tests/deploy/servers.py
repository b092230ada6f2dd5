"""Helpers for the tests that run iaxadmin as it runs in production: a throw-away PostgreSQL
database, ``manage.py`` and gunicorn in subprocesses with production settings (``DEBUG`` off),
and a small HTTP client that behaves like a browser without JavaScript (cookies, CSRF, forms
parsed from the HTML it is given).

Nothing here imports Django: every server and command is a separate process, configured only by
its environment, exactly as README.md's "Running in production" says.
"""

from __future__ import annotations

import http.client
import http.cookies
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT = 5
# variables of the test process that must not reach a production-like child
UNSET = {
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "IAXADMIN_ENCRYPTION_KEY",
    "IAXADMIN_ENCRYPTION_KEY_FILE",
    "IAXADMIN_METRICS_TOKEN",
    "IAXADMIN_METRICS_ALLOW",
    "ALLOWED_HOSTS",
    "STATIC_ROOT",
    "LOG_FORMAT",
    "LOG_STREAM",
    "GUNICORN_CMD_ARGS",
}


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def server_url() -> str:
    """The PostgreSQL server the tests may create databases on: the one DATABASE_URL names, else
    IAXADMIN_TEST_POSTGRES (a URL), else postgres@127.0.0.1:5432."""
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme.lower() in {"postgres", "postgresql", "pgsql"}:
        return url
    return os.environ.get("IAXADMIN_TEST_POSTGRES", DEFAULT_SERVER_URL)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()


def _connect(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
        connect_timeout=CONNECT_TIMEOUT,
        autocommit=True,
    )


def postgres_or_skip() -> str:
    url = server_url()
    try:
        _connect(url).close()
    except Exception as exc:  # noqa: BLE001 - any failure: skip, naming it
        where = urlsplit(url)
        pytest.skip(
            f"PostgreSQL is not reachable at {where.hostname}:{where.port or 5432} "
            f"({exc.__class__.__name__}); these tests need a server (DATABASE_URL or IAXADMIN_TEST_POSTGRES)"
        )
    return url


def database_base_name(url: str) -> str:
    """Databases made here are named after the one DATABASE_URL names, so test runs of several
    checkouts on one server never meet (iaxadmin_wt17 -> iaxadmin_wt17_prod_1a2b3c4d)."""
    name = urlsplit(url).path.lstrip("/")
    return name if name and name != "postgres" else "iaxadmin_test"


@contextmanager
def scratch_database(label: str):
    """A new, empty PostgreSQL database; yields its URL and drops it afterwards."""
    server = postgres_or_skip()
    name = f"{database_base_name(server)}_{label}_{uuid.uuid4().hex[:8]}"
    with _connect(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        with _connect(server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------------
# Commands and servers


def generate_key() -> str:
    import base64

    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def production_env(database_url: str, static_root: Path, **extra: str) -> dict[str, str]:
    """The environment of a production app server: DEBUG off, its own SECRET_KEY and encryption
    key, plain HTTP on loopback (SECURE_SSL_REDIRECT off: there is no TLS proxy in front here)."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="no",
        SECRET_KEY=secrets.token_urlsafe(50),
        IAXADMIN_ENCRYPTION_KEY=generate_key(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="no",
        STATIC_ROOT=str(static_root),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def deploy(env: dict) -> None:
    """The deploy step of README.md (and `make serve`): check --deploy, migrate, the cache table,
    collectstatic."""
    manage(env, "check", "--deploy", "--fail-level", "ERROR")
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")


def gunicorn_or_skip() -> None:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        pytest.skip("gunicorn is not installed (pip install -e .)")


@dataclass
class Server:
    """gunicorn with deploy/gunicorn.conf.py on a loopback port picked at run time. The listening
    socket is made here and handed over (``--bind fd://N``), so no other process can take the port
    between choosing and binding it."""

    env: dict
    log_path: Path
    workers: int = 2
    proc: subprocess.Popen | None = None
    port: int = 0
    _log: object = field(default=None, repr=False)

    def start(self, timeout: float = 60) -> Server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(REPO / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"fd://{sock.fileno()}",
            "--workers",
            str(self.workers),
        ]
        try:
            self.proc = subprocess.Popen(
                argv,
                cwd=REPO,
                env=self.env,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
                start_new_session=True,
            )
        finally:
            sock.close()
        self._wait_healthy(timeout)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if request(self.url, "GET", "/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)  # polling for the server to come up, not waiting for a result
        raise AssertionError(f"gunicorn did not answer /healthz within {timeout:g} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of the workers it started
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


# ---------------------------------------------------------------------------------------------
# HTTP


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def request(
    base: str, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
) -> Response:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        raw = conn.getresponse()
        data = raw.read()
        return Response(
            status=raw.status,
            headers={k.lower(): v for k, v in raw.getheaders()},
            set_cookies=raw.headers.get_all("Set-Cookie") or [],
            body=data,
        )
    finally:
        conn.close()


@dataclass
class Form:
    action: str
    method: str
    enctype: str
    fields: list[tuple[str, str]]

    def values(self, **changes: str) -> list[tuple[str, str]]:
        """The fields as a browser would send them, with some set to new values (a field named
        in ``changes`` is sent once, with the new value; one the form lacks is added)."""
        out, done = [], set()
        for name, value in self.fields:
            if name in changes:
                if name not in done:
                    out.append((name, changes[name]))
                    done.add(name)
            else:
                out.append((name, value))
        return out + [(k, v) for k, v in changes.items() if k not in done]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower(), a.get("enctype", ""), [])
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self._form.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = (a["name"], [])
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], [])
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "selected" in a, []]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._option is not None:
            self._option[2].append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            text = "".join(parts)
            self._form.fields.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "option" and self._option is not None:
            value, selected, text = self._option
            self._select[1].append((value if value is not None else "".join(text).strip(), selected))
            self._option = None
        elif tag == "select" and self._select is not None:
            name, options = self._select
            chosen = [v for v, selected in options if selected] or [v for v, _ in options[:1]]
            self._form.fields.extend((name, v) for v in chosen)
            self._select = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form_to(html: str, action: str, *, page: str = "", having: str = "") -> Form:
    """The one form of a page that posts to ``action`` (a form without an action posts to the
    page it is on, ``page``); where several do, the one with a field named ``having``."""

    def target(form: Form) -> str:
        return urlsplit(urljoin(page or "/", form.action or page)).path

    found = [
        f
        for f in forms(html)
        if target(f) == action and (not having or any(n == having for n, _ in f.fields))
    ]
    assert len(found) == 1, f"expected one form posting to {action}, found {[target(f) for f in forms(html)]}"
    return found[0]


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = f"----iaxadmin{uuid.uuid4().hex}"
    out = []
    for name, value in fields:
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, filename, content in files:
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


class Browser:
    """Cookies (kept whatever their Secure flag: these servers speak plain HTTP on loopback),
    forms and redirects, against any of several servers: one user's session can move between app
    servers the way a load balancer without sticky sessions moves it."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _keep(self, response: Response) -> None:
        for line in response.set_cookies:
            jar = http.cookies.SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, server: Server, path: str) -> Response:
        response = request(server.url, "GET", path, headers=self._headers())
        self._keep(response)
        return response

    def post(self, server: Server, path: str, fields, files=(), referer: str | None = None) -> Response:
        if files:
            body, content_type = multipart(list(fields), list(files))
        else:
            body, content_type = urlencode(list(fields)).encode(), "application/x-www-form-urlencoded"
        headers = self._headers(
            {"Content-Type": content_type, "Referer": urljoin(server.url, referer or path)}
        )
        response = request(server.url, "POST", path, body=body, headers=headers)
        self._keep(response)
        return response

    def submit(self, server: Server, page_path: str, form: Form, files=(), **changes: str) -> Response:
        action = urlsplit(urljoin(page_path, form.action or page_path)).path
        return self.post(server, action, form.values(**changes), files=files, referer=page_path)

    def login(self, server: Server, username: str, password: str) -> None:
        page = self.get(server, "/login/")
        assert page.status == 200, page.status
        form = form_to(page.text, "/login/")
        done = self.submit(server, "/login/", form, username=username, password=password)
        assert done.status == 302, f"login refused ({done.status}): {done.text[:500]}"
