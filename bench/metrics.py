"""Benchmark of a /metrics scrape (peers/metrics.py): what the findings cache saves.

    .venv/bin/python bench/metrics.py --peers 10000 [--hosts 20] [--database-url URL]

One host of --peers endpoints and --hosts small hosts of 20 endpoints each are generated (bench/
export.py's generator, same database choice: a temporary SQLite file, or a throw-away database on
the PostgreSQL server --database-url names), then the exposition is timed:

(a) cold: the findings cache empty, so every host is exported once;
(b) warm: nothing changed since, so no host is exported (best of 5), and its query count;
(c) after one change to one small host: that host alone is exported again.

Target: (a) / (b) >= 10, i.e. a scrape of unchanged hosts costs a tenth of one that has to count
the findings. Prints PASS/FAIL and exits 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TARGET = 10.0
SMALL = 20


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=10_000, help="endpoints of the large host")
    parser.add_argument("--hosts", type=int, default=20, help=f"small hosts of {SMALL} endpoints each")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()

    import export as bench_export  # the generator and the database set-up of bench/export.py

    database = bench_export.BenchDatabase(args.database_url)
    try:
        bench_export.setup_django(database.url)
        from django.core.cache import caches
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from peers import metrics, services
        from peers.iaxconf import Entry, Section

        print(f"database: {database.label}")
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
        bench_export.create_host("bench-large", args.peers)
        small = [bench_export.create_host(f"bench-small-{i}", SMALL) for i in range(args.hosts)]
        print(f"hosts: 1 of {args.peers} endpoints, {args.hosts} of {SMALL}")

        caches[metrics.CACHE_ALIAS].clear()
        cold, (body, _) = timed(metrics.exposition)
        warm = min(timed(metrics.exposition)[0] for _ in range(5))
        with CaptureQueriesContext(connection) as queries:
            metrics.exposition()
        if small:
            services.save_general(small[0], Section("general", [Entry("bindport", "4570")]), actor="bench")
            changed, _ = timed(metrics.exposition)
        samples = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))

        print(f"(a) cold scrape           {cold * 1000:9.1f} ms   ({samples} samples)")
        print(f"(b) warm scrape           {warm * 1000:9.1f} ms   {len(queries)} queries")
        if small:
            print(f"(c) one small host changed {changed * 1000:8.1f} ms")
        ratio = cold / warm
        print(f"cold / warm = {ratio:.1f} (target >= {TARGET:g}): {'PASS' if ratio >= TARGET else 'FAIL'}")
        return 0
    finally:
        database.drop()


if __name__ == "__main__":
    raise SystemExit(main())
