"""HTTP export benchmark: the agent's 304 path and a full bundle fetch against a trivial Django view.

    .venv/bin/python bench/export_http.py [--seconds 5] [--threads 4] [--workers 2]

* A temporary SQLite database is migrated and seeded with the demo host (peers.demo: endpoints,
  templates, RSA keys, registrations), which is published as revision 1; a host token is created.
* gunicorn (sync workers, 127.0.0.1, a free port) serves the app with bench/http_settings.py, whose
  urlconf (bench/http_urls.py) adds /bench/trivial, a view that returns "ok": the floor of a Django
  request on this server (same middleware, same worker model). Database connections are kept
  between requests (CONN_MAX_AGE=600, as a production deployment should); --conn-max-age 0 shows
  the cost of opening one per request, which the trivial view (no query) never pays.
* A client loop (http.client, one connection per thread, reused whenever the server keeps it open;
  loopback only) measures requests per second for a fixed time each, after a 1 s warm-up:
  (a) GET bundle.tar.gz with the token and If-None-Match of the current revision -> 304,
  (b) the same without If-None-Match -> 200 with the whole bundle,
  (c) GET /bench/trivial.
  Every answer's status is checked (a wrong status counts as an error and is reported).
* Target: (a) within 1.5x of (c), i.e. rps(c) / rps(a) <= 1.5. Prints PASS/FAIL; exits 0 whatever
  the numbers (it measures, it does not test), 1 if the server did not come up or answered wrongly.
The server is stopped and the temporary files removed at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 1.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(env: dict) -> tuple[str, str, str]:
    """Migrate and seed in a child process (so this one never imports Django); (host, token, etag)."""
    code = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from peers.demo import seed_demo\n"
        "from peers import services\n"
        "host = seed_demo()\n"
        "revision = services.publish(host, actor='bench', message='bench')\n"
        "_, token = services.create_host_token(host, 'bench', actor='bench')\n"
        "print(host.name, token, revision.sha256)\n"  # the ETag the export serves
    )
    out = subprocess.run(  # its audit log lines go to stderr: stdout is the answer read below
        [sys.executable, "-c", code],
        env={**env, "LOG_STREAM": "stderr"},
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    host, token, sha = out.stdout.split()
    return host, token, sha


def wait_up(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/bench/trivial")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer in time")


def measure(
    port: int, path: str, headers: dict, expect: int, seconds: float, threads: int
) -> tuple[float, int]:
    """(requests per second, wrong answers) over `seconds`, after a 1 s warm-up."""
    counts = [0] * threads
    wrong = [0] * threads
    state = {"counting": False, "stop": False}

    def loop(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while not state["stop"]:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == expect
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                ok = False
            if state["counting"]:
                counts[i] += 1
                wrong[i] += not ok
        conn.close()

    workers = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(threads)]
    for t in workers:
        t.start()
    time.sleep(1.0)
    state["counting"] = True
    start = time.perf_counter()
    time.sleep(seconds)
    state["counting"] = False
    elapsed = time.perf_counter() - start
    state["stop"] = True
    for t in workers:
        t.join(timeout=15)
    return sum(counts) / elapsed, sum(wrong)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--conn-max-age", type=int, default=600, help="Django's CONN_MAX_AGE for the server")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="iaxadmin-bench-http-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.http_settings",
        "IAXADMIN_BENCH_DB": str(tmp / "db.sqlite3"),
        "PYTHONPATH": str(REPO),
        "IAXADMIN_BENCH_CONN_MAX_AGE": str(args.conn_max_age),
    }
    env.pop("DATABASE_URL", None)
    proc = None
    try:
        host, token, sha = seed(env)
        port = free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        proc = subprocess.Popen(
            [
                str(gunicorn),
                "--workers",
                str(args.workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "iaxadmin.wsgi:application",
            ],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,  # a log line per request, not on the terminal
        )
        wait_up(port, proc)
        auth = {"Authorization": f"Bearer {token}"}
        bundle = f"/api/v1/hosts/{host}/bundle.tar.gz"
        print(
            f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; client: {args.threads} threads, "
            f"{args.seconds:g} s each; CONN_MAX_AGE={args.conn_max_age}; host {host} revision 1 (sha256 {sha[:12]}...)"
        )
        results = {}
        for label, path, headers, expect in (
            ("(a) 304 If-None-Match", bundle, {**auth, "If-None-Match": f'"{sha}"'}, 304),
            ("(b) 200 full bundle", bundle, auth, 200),
            ("(c) trivial view", "/bench/trivial", {}, 200),
        ):
            rps, wrong = measure(port, path, headers, expect, args.seconds, args.threads)
            results[label[:3]] = rps
            print(f"{label:24} {rps:9.0f} req/s" + (f"   {wrong} WRONG ANSWERS" if wrong else ""))
            if wrong:
                return 1
        ratio = results["(c)"] / results["(a)"]
        verdict = "PASS" if ratio <= TARGET else "FAIL"
        print(f"trivial / 304 = {ratio:.2f} (target <= {TARGET}): {verdict}")
        print(f"trivial / 200 bundle = {results['(c)'] / results['(b)']:.2f}")
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        if isinstance(exc, subprocess.CalledProcessError):
            print(exc.stderr, file=sys.stderr)
        return 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
