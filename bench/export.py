"""Export benchmark: how close is ``export_host`` to the cheapest possible "read and write text"?

    .venv/bin/python bench/export.py --peers 10000 [--database-url URL] [--memory-peers 100000]

* Builds a realistic host with bulk_create: [general] with ~18 options, 2 templates, N endpoints
  (friend/peer/user, half inheriting a template, 4-6 option rows each), RSA keys referenced by
  inkeys/outkey/register, register lines and call-number limits. Asserts it validates with no
  error finding.
* (a) the full export, ``export_host(host).text`` (read, validate, render), against
  (b) the floor: one raw SQL query over the endpoint table LEFT JOINed with its option rows and a
  plain string join. Best of 5 after one warm-up each; target (a)/(b) <= 3.
* Memory: a fresh host with --memory-peers endpoints is exported in a subprocess (so nothing this
  process allocated counts): peak RSS of the child and tracemalloc peak; target < 500 MB. The
  children are started before anything is generated, because Linux carries a parent's peak RSS
  over exec() into the child's ru_maxrss.
* --profile adds a cProfile of one export (top 15 by cumulative and by own time).

Database: --database-url, else $DATABASE_URL, else a temporary SQLite file. For PostgreSQL the URL
names a server: a throw-away database iaxadmin_bench_<pid> is created there and dropped at the end.
A SQLite URL must name a file that does not exist yet (it is created and left in place).
Exits 0 whatever the numbers (it measures, it does not test); 1 if the generated config does not
validate (then the numbers would mean nothing); 2 on a bad argument.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RATIO_TARGET = 3.0
MEMORY_TARGET_MB = 500
REPEATS = 5

# ---------------------------------------------------------------------------------------------
# Database set-up (before django.setup(): the settings read DATABASE_URL once)


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme.lower() in {"postgres", "postgresql", "pgsql"}


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _pg_admin(server_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql)


class BenchDatabase:
    """Chooses and creates the database; ``url`` is what DATABASE_URL is set to."""

    def __init__(self, requested: str | None) -> None:
        self.server_url: str | None = None
        self.pg_name: str | None = None
        self.tmpdir: str | None = None
        if requested and _is_postgres(requested):
            self.server_url = requested
            self.pg_name = f"iaxadmin_bench_{os.getpid()}"
            _pg_admin(requested, f'CREATE DATABASE "{self.pg_name}"')
            self.url = _with_database(requested, self.pg_name)
            self.label = f"PostgreSQL (throw-away database {self.pg_name})"
        elif requested:
            parts = urlsplit(requested)
            if parts.scheme.lower() != "sqlite":
                raise ValueError(f"--database-url {requested!r}: use postgres://... or sqlite:///path")
            path = parts.path[1:] if parts.path.startswith("/") else parts.path
            if not path or path == ":memory:":
                raise ValueError("an in-memory SQLite database cannot be shared with the memory subprocess")
            if Path(path).exists():
                raise ValueError(f"{path} exists; the benchmark wants a fresh database file")
            self.url = requested
            self.label = f"SQLite file {path}"
        else:
            self.tmpdir = tempfile.mkdtemp(prefix="iaxadmin-bench-")
            self.url = f"sqlite:///{self.tmpdir}/bench.sqlite3"
            self.label = "SQLite (temporary file)"

    def drop(self) -> None:
        if self.pg_name:
            from django.db import connections

            connections.close_all()
            _pg_admin(self.server_url, f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


def setup_django(database_url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "iaxadmin.test_settings"
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------
# Data generation

GENERAL_LINES = [
    ("bindport", "4569"),
    ("bindaddr", "0.0.0.0"),
    ("iaxthreadcount", "20"),
    ("tos", "ef"),
    ("bandwidth", "high"),
    ("disallow", "all"),
    ("allow", "g722"),
    ("allow", "ulaw"),
    ("allow", "alaw"),
    ("jitterbuffer", "yes"),
    ("maxjitterbuffer", "1000"),
    ("autokill", "yes"),
    ("delayreject", "yes"),
    ("calltokenoptional", "192.0.2.0/255.255.255.0"),
    ("maxcallnumbers", "512"),
    ("minregexpire", "60"),
    ("maxregexpire", "300"),
    ("srvlookup", "yes"),
]
KEY_NAMES = ("bench-pbx", "bench-hq", "bench-branch1", "bench-branch2")  # bench-pbx has the private half
_ALPHABET = string.ascii_letters + string.digits + "-_!#%"


def _secret(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(16))


def _endpoint_row(i: int, rng: random.Random, templates: dict[str, int]) -> tuple[dict, list[int], list[str]]:
    """Column values, base ids and inkey names of endpoint number i."""
    name = f"ext{i:06d}"
    cols: dict = {"name": name}
    bases: list[int] = []
    inkeys: list[str] = []
    if i % 4 == 0:  # a desk phone from the template: type, host, qualify, context come from it
        bases = [templates["desk-phone"]]
        cols.update(kind="friend", secret=_secret(rng), auth="md5")
    elif i % 4 == 2:  # a trunk from the template: trunk, qualify, auth, encryption come from it
        bases = [templates["iax-trunk"]]
        cols.update(
            kind="peer",
            peer_host=f"gw{i}.trunks.example.net" if i % 8 == 2 else f"203.0.{(i // 256) % 256}.{i % 256}",
            port=4569,
            username=f"pbx{i}",
            secret=_secret(rng),
            context="from-trunks",
        )
    else:
        kind = ("friend", "peer", "user")[(i // 2) % 3]
        cols.update(kind=kind, context="from-" + kind + "s", requirecalltoken="auto", transfer="yes")
        if kind == "friend":
            cols.update(peer_host="dynamic", secret=_secret(rng), auth="md5", qualify="yes", trunk=False)
            if i % 5 == 1:
                cols["defaultip"] = f"198.51.100.{i % 250 + 1}"
        elif kind == "peer":
            cols.update(
                peer_host=f"10.{(i >> 16) % 256}.{(i >> 8) % 256}.{i % 256}", port=4569, qualify="2000"
            )
            if i % 6 == 3:  # signs with our key, verifies theirs
                cols.update(auth="rsa", outkey="bench-pbx")
                inkeys = ["bench-branch1"]
            else:
                cols.update(auth="md5", secret=_secret(rng), username=f"pbx{i}", trunk=True)
        else:
            if i % 5 == 0:
                cols.update(auth="rsa")
                inkeys = ["bench-hq", "bench-branch2"]
            else:
                cols.update(auth="md5", secret=_secret(rng), encryption="aes128")
    return cols, bases, inkeys


def _option_rows(i: int) -> list[tuple[str, str, str]]:
    rows = [("disallow", "all", ""), ("allow", "ulaw", ""), ("allow", "g722", "")]
    rows.append(("callerid", f'"Extension {i}" <{100000 + i}>', " front desk" if i % 97 == 0 else ""))
    acl = [("deny", "0.0.0.0/0.0.0.0", ""), ("permit", f"10.{(i >> 8) % 256}.{i % 256}.0/255.255.255.0", "")]
    return rows + acl[: i % 3]


def create_host(name: str, peers: int, *, seed: int = 7):
    """A host with [general], 2 templates, ``peers`` endpoints, registrations and limits."""
    from peers import keys as rsa_keys
    from peers.models import (
        CallNumberLimit,
        Endpoint,
        EndpointBase,
        EndpointInKey,
        EndpointOption,
        GeneralOption,
        GeneralSettings,
        Host,
        Key,
        Registration,
    )

    rng = random.Random(seed)
    keys = {k.name: k for k in Key.objects.filter(name__in=KEY_NAMES)}
    if len(keys) < len(KEY_NAMES):
        material = rsa_keys.generate(None)  # once; several Key rows share the PEM
        for key_name in KEY_NAMES:
            if key_name not in keys:
                keys[key_name] = Key.objects.create(
                    name=key_name,
                    public_pem=material.public_pem,
                    private_pem=material.private_pem if key_name == "bench-pbx" else "",
                    private_encrypted=False,
                    bits=material.bits,
                    fingerprint=material.fingerprint,
                )

    host = Host.objects.create(name=name, description=f"benchmark host, {peers} endpoints")
    general = GeneralSettings.objects.create(host=host, comment=" benchmark PBX")
    GeneralOption.objects.bulk_create(
        GeneralOption(general=general, position=p, name=n, value=v) for p, (n, v) in enumerate(GENERAL_LINES)
    )
    Registration.objects.bulk_create(
        [
            Registration(
                host=host, position=0, username="bench", key=keys["bench-pbx"], remote_host="iax.example.net"
            ),
            Registration(
                host=host, position=1, username="bench2", key=keys["bench-pbx"], remote_host="198.51.100.7"
            ),
            Registration(
                host=host, position=2, username="b1", secret="Rg7-tw2PqLx9", remote_host="pbx1.example.org"
            ),
            Registration(
                host=host,
                position=3,
                username="b2",
                secret="Kq3-zz8WmPa1",
                remote_host="203.0.113.5",
                remote_port=4570,
            ),
        ]
    )
    CallNumberLimit.objects.bulk_create(
        CallNumberLimit(host=host, position=p, network=net, limit=lim)
        for p, (net, lim) in enumerate(
            [("203.0.113.10/32", 2048), ("198.51.100.0/255.255.255.0", 256), ("10.0.0.0/8", 1024)]
        )
    )

    desk = Endpoint.objects.create(
        host=host,
        name="desk-phone",
        is_template=True,
        kind="friend",
        position=0,
        comment=" every desk phone",
        peer_host="dynamic",
        qualify="yes",
        requirecalltoken="auto",
        transfer="mediaonly",
        context="from-office",
    )
    trunk = Endpoint.objects.create(
        host=host,
        name="iax-trunk",
        is_template=True,
        kind="peer",
        position=1,
        qualify="2000",
        trunk=True,
        auth="md5",
        encryption="aes128",
        requirecalltoken="yes",
        transfer="no",
    )
    EndpointOption.objects.bulk_create(
        [
            EndpointOption(endpoint=desk, position=0, name="jitterbuffer", value="yes"),
            EndpointOption(endpoint=desk, position=1, name="mailbox", value="100@default"),
            EndpointOption(endpoint=trunk, position=0, name="jitterbuffer", value="no"),
        ]
    )
    templates = {"desk-phone": desk.pk, "iax-trunk": trunk.pk}

    batch = 5000
    for start in range(0, peers, batch):
        specs = [_endpoint_row(i, rng, templates) for i in range(start, min(start + batch, peers))]
        endpoints = []
        for i, (cols, _, _) in zip(range(start, start + batch), specs, strict=False):
            outkey = cols.pop("outkey", None)
            endpoints.append(
                Endpoint(
                    host=host,
                    position=2 + i,
                    outkey=keys[outkey] if outkey else None,
                    comment=f" endpoint {i}" if i % 50 == 0 else "",
                    column_comments={"secret": " rotated yearly"}
                    if i % 200 == 0 and cols.get("secret")
                    else {},
                    **cols,
                )
            )
        Endpoint.objects.bulk_create(endpoints, batch_size=1000)
        options, bases, inkeys = [], [], []
        for i, endpoint, (_, base_ids, inkey_names) in zip(
            range(start, start + batch), endpoints, specs, strict=False
        ):
            options.extend(
                EndpointOption(endpoint_id=endpoint.pk, position=p, name=n, value=v, comment=c)
                for p, (n, v, c) in enumerate(_option_rows(i))
            )
            bases.extend(
                EndpointBase(endpoint_id=endpoint.pk, base_id=b, position=p) for p, b in enumerate(base_ids)
            )
            inkeys.extend(
                EndpointInKey(endpoint_id=endpoint.pk, key=keys[k], position=p)
                for p, k in enumerate(inkey_names)
            )
        EndpointOption.objects.bulk_create(options, batch_size=2000)
        EndpointBase.objects.bulk_create(bases, batch_size=2000)
        EndpointInKey.objects.bulk_create(inkeys, batch_size=2000)
    return host


# ---------------------------------------------------------------------------------------------
# What is measured

TYPED = (
    ("type", "kind"),
    ("host", "peer_host"),
    ("port", "port"),
    ("defaultip", "defaultip"),
    ("context", "context"),
    ("username", "username"),
    ("secret", "secret"),
    ("auth", "auth"),
    ("qualify", "qualify"),
    ("trunk", "trunk"),
    ("transfer", "transfer"),
    ("requirecalltoken", "requirecalltoken"),
    ("encryption", "encryption"),
)


def floor_sql():
    from peers.models import Endpoint, EndpointOption

    e, o = Endpoint._meta.db_table, EndpointOption._meta.db_table
    typed = ", ".join(f"e.{column}" for _, column in TYPED)
    return (
        f"SELECT e.id, e.name, {typed}, o.name, o.value FROM {e} e "
        f"LEFT JOIN {o} o ON o.endpoint_id = e.id WHERE e.host_id = %s ORDER BY e.position, e.id, o.position"
    )


def floor_export(host_id: int, sql: str) -> str:
    """The cheapest "read the same rows and write text": one query, one string join."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, [host_id])
        rows = cursor.fetchall()
    names = [directive for directive, _ in TYPED]
    out = []
    last = None
    for row in rows:
        if row[0] != last:
            last = row[0]
            out.append(f"\n[{row[1]}]")
            for directive, value in zip(names, row[2:-2], strict=True):
                if value is not None and value != "":
                    out.append(f"{directive}={value}")
        if row[-2] is not None:
            out.append(f"{row[-2]}={row[-1]}")
    return "\n".join(out) + "\n"


def full_export(host) -> str:
    from peers.exporter import export_host

    return export_host(host).text


def best_of(fn, *args) -> tuple[float, float, object, float]:
    """(warm-up seconds, best of REPEATS seconds, last result, median seconds)."""
    gc.collect()
    start = time.perf_counter()
    result = fn(*args)
    warm = time.perf_counter() - start
    times = []
    for _ in range(REPEATS):
        gc.collect()
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return warm, min(times), result, statistics.median(times)


def profile_export(host, top: int = 15) -> None:
    """cProfile of one export_host(host).text, sorted by cumulative time, then by own time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    full_export(host)
    profiler.disable()
    for order in ("cumulative", "tottime"):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats(order).print_stats(top)
        print(f"\ncProfile of export_host(host).text, top {top} by {order}:")
        print("\n".join(line for line in stream.getvalue().splitlines() if line.strip())[:20000])


# ---------------------------------------------------------------------------------------------
# Memory. On Linux a process's ru_maxrss survives exec(): a child started by a parent that has
# grown to 500 MB reports at least 500 MB whatever it does itself. So both children are started
# first, while this process is small (no Django, no data), and wait on stdin for the host name.


def child(use_tracemalloc: bool) -> None:
    setup_django(os.environ["DATABASE_URL"])
    from peers.models import Host

    host_name = sys.stdin.readline().strip()
    if not host_name:  # the parent gave up before the memory test
        return
    host = Host.objects.get(name=host_name)
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start()
    start = time.perf_counter()
    text = full_export(host)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if use_tracemalloc else 0
    hwm_kib = 0
    with open("/proc/self/status", encoding="ascii") as fh:  # peak RSS of this image, for a cross-check
        for line in fh:
            if line.startswith("VmHWM:"):
                hwm_kib = int(line.split()[1])
    print(f"{base_kib} {peak} {seconds:.3f} {len(text)} {hwm_kib}")


class MemoryChildren:
    """Two waiting children: one plain (its peak RSS is the measurement), one with tracemalloc."""

    def __init__(self, database_url: str) -> None:
        env = dict(os.environ, DATABASE_URL=database_url)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child"]
        pipes = dict(
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.plain = subprocess.Popen(cmd, **pipes)
        self.traced = subprocess.Popen([*cmd, "--tracemalloc"], **pipes)

    def _run(self, proc: subprocess.Popen, host_name: str) -> list[str] | None:
        out, err = proc.communicate(host_name + "\n")
        if proc.returncode != 0 or not out.strip():
            print(f"  memory child failed ({proc.returncode}):\n{err[-3000:]}")
            return None
        return out.split()

    def measure(self, host_name: str) -> None:
        plain = self._run(self.plain, host_name)
        rss_kib = resource.getrusage(
            resource.RUSAGE_CHILDREN
        ).ru_maxrss  # KiB on Linux; only this child so far
        traced = self._run(self.traced, host_name)
        if plain is None or traced is None:
            return
        base_kib, _, seconds, size, hwm_kib = plain
        rss_mb = rss_kib / 1024
        print(f"  export time in child:        {float(seconds):8.2f} s   output {int(size) / 1e6:.1f} MB")
        print(f"  peak RSS of the child:       {rss_mb:8.1f} MB   (getrusage RUSAGE_CHILDREN ru_maxrss)")
        print(
            f"    of which before the export {int(base_kib) / 1024:8.1f} MB   (Python + Django + one Host row)"
        )
        print(f"    cross-check, VmHWM         {int(hwm_kib) / 1024:8.1f} MB")
        print(
            f"  tracemalloc peak (Python):   {int(traced[1]) / 2**20:8.1f} MB   (second child, tracemalloc on)"
        )
        verdict = "PASS" if rss_mb < MEMORY_TARGET_MB else "FAIL"
        print(f"  {verdict}: peak RSS {rss_mb:.0f} MB, target < {MEMORY_TARGET_MB} MB")

    def close(self) -> None:
        for proc in (self.plain, self.traced):
            if proc.poll() is None:
                try:
                    proc.communicate("", timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--peers", type=int, default=10000, help="endpoints in the timed host (default 10000)"
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"), help="default $DATABASE_URL"
    )
    parser.add_argument(
        "--memory-peers", type=int, default=100000, help="endpoints for the memory test; 0 skips"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of export_host (top 15)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.tracemalloc)
        return 0
    if args.peers < 1 or args.memory_peers < 0:
        parser.error("--peers must be at least 1 and --memory-peers at least 0")

    try:
        database = BenchDatabase(args.database_url)
    except ValueError as exc:
        parser.error(str(exc))
    children = None
    try:
        if args.memory_peers:
            children = MemoryChildren(database.url)
        return run(args, database, children)
    finally:
        if children is not None:
            children.close()
        database.drop()


def run(args, database: BenchDatabase, children: MemoryChildren | None) -> int:
    setup_django(database.url)
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from peers.exporter import export_host

    print(f"database: {database.label}; Python {sys.version.split()[0]}")
    call_command("migrate", verbosity=0, interactive=False)

    start = time.perf_counter()
    host = create_host(f"bench-{args.peers}", args.peers)
    print(f"generated {args.peers} endpoints + 2 templates in {time.perf_counter() - start:.1f} s")

    export = export_host(host)
    errors = export.errors
    warnings = [f for f in export.findings if not f.is_error]
    if errors:
        print(f"FAIL: the generated config has {len(errors)} error finding(s); the benchmark is meaningless:")
        for finding in errors[:20]:
            print(f"  {finding}")
        return 1
    counts: dict[str, int] = {}
    for finding in warnings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    print(
        f"validates: 0 errors, {len(warnings)} warnings ({', '.join(f'{c} {n}' for c, n in sorted(counts.items()))})"
    )

    with CaptureQueriesContext(connection) as queries:
        text = export_host(host).text
    sql = floor_sql()
    floor_text = floor_export(host.pk, sql)

    a_warm, a_best, _, a_median = best_of(full_export, host)
    b_warm, b_best, _, b_median = best_of(floor_export, host.pk, sql)
    ratio = a_best / b_best
    print()
    print(f"export of {args.peers} endpoints, best of {REPEATS} after one warm-up (median in brackets):")
    print(
        f"  (a) export_host().text       {a_best * 1000:9.1f} ms  ({a_median * 1000:.1f})  first run {a_warm * 1000:.1f} ms"
    )
    print(
        f"  (b) floor: 1 query + join    {b_best * 1000:9.1f} ms  ({b_median * 1000:.1f})  first run {b_warm * 1000:.1f} ms"
    )
    print(f"  ratio (a)/(b)                {ratio:9.2f}")
    print(f"  queries in (a)               {len(queries):9d}")
    print(f"  output (a)                   {len(text.encode()):9d} bytes, {text.count(chr(10))} lines")
    print(
        f"  output (b)                   {len(floor_text.encode()):9d} bytes, {floor_text.count(chr(10))} lines"
    )
    verdict = "PASS" if ratio <= RATIO_TARGET else "FAIL"
    print(f"  {verdict}: ratio {ratio:.2f}, target <= {RATIO_TARGET:g}")

    if args.profile:
        profile_export(host)

    if children is not None:
        print()
        start = time.perf_counter()
        big = create_host(f"bench-memory-{args.memory_peers}", args.memory_peers, seed=11)
        print(f"memory: generated {args.memory_peers} endpoints in {time.perf_counter() - start:.1f} s")
        connection.close()  # the child opens its own connection; SQLite must see committed data
        children.measure(big.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
