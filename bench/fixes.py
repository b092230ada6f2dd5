"""Benchmark of one-click fixes on a large host: every endpoint of bench/export.py's generated host
gets a ``nat=yes`` line (a sip.conf option, as an import of a real file leaves them), then

    .venv/bin/python bench/fixes.py --peers 10000 [--database-url URL]

(a) the preview the fixes page shows (the plan, the fixes resolved, the diff of the first
    200 changed sections, masked);
(b) the same preview with the diff of every changed section (what ``iax_fix`` prints);
(c) "fix everything safe" applied: every endpoint rewritten, one history row each, and its query
    count, which must not grow with the number of endpoints (measured again on a host a tenth
    the size);
(d) the registrations page's links (peers.trunks.registration_links) and the overview's
    publish banner once nothing changed since a publish (peers.revisions.publish_state).

Target: the queries of (c) grow only by batches (bulk inserts of a few thousand rows, fewer on
SQLite, whose statements take at most 999 parameters), never per endpoint: fewer than one more
query per 50 more endpoints. Same database choice as bench/export.py
(a temporary SQLite file, or a throw-away database on the PostgreSQL server named by the URL).
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


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=10_000, help="endpoints of the large host")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()

    import export as bench_export  # the generator and the database set-up of bench/export.py

    os.environ.setdefault("LOG_CHANGES", "no")  # not one log line per history row (set yes to measure them)
    database = bench_export.BenchDatabase(args.database_url)
    try:
        bench_export.setup_django(database.url)
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from peers import fixes, services, trunks
        from peers.models import Endpoint, EndpointOption
        from peers.revisions import publish_state

        print(f"database: {database.label}")
        call_command("migrate", verbosity=0, interactive=False)

        def imported(name: str, peers: int):
            host = bench_export.create_host(name, peers)
            ids = Endpoint.objects.filter(host=host, is_template=False).values_list("id", flat=True)
            EndpointOption.objects.bulk_create(
                (EndpointOption(endpoint_id=pk, position=100, name="nat", value="yes") for pk in ids),
                batch_size=5000,
            )
            return host

        def applied(host) -> tuple[float, int, object]:
            with CaptureQueriesContext(connection) as queries:
                seconds, result = timed(lambda: services.apply_fixes(host, actor="bench"))
            return seconds, len(queries), result

        large = imported("bench-fixes", args.peers)
        small = imported("bench-fixes-small", max(1, args.peers // 10))
        page, shown = timed(lambda: fixes.preview(large, limit=fixes.PAGE_SECTIONS))
        full, whole = timed(lambda: fixes.preview(large))
        seconds, queries, result = applied(large)
        _, small_queries, _ = applied(small)
        links, _ = timed(lambda: trunks.registration_links(large))
        services.publish(large, actor="bench", message="fixed")
        with CaptureQueriesContext(connection) as banner_queries:
            banner, state = timed(lambda: publish_state(large))

        print(f"host: {args.peers} endpoints, each with a nat=yes line; {len(whole.outcome.applied)} fixes")
        print(f"(a) preview, page diff     {page * 1000:9.1f} ms   ({len(shown.lines)} diff lines)")
        print(f"(b) preview, whole diff    {full * 1000:9.1f} ms   ({len(whole.lines)} diff lines)")
        print(
            f"(c) apply                  {seconds * 1000:9.1f} ms   {queries} queries, {result.changes} history rows"
        )
        print(f"    apply on {max(1, args.peers // 10)} endpoints     {small_queries} queries")
        print(f"(d) registration links     {links * 1000:9.1f} ms")
        print(f"    publish banner, clean  {banner * 1000:9.1f} ms   {len(banner_queries)} queries")
        more = args.peers - max(1, args.peers // 10)
        per = (queries - small_queries) / more if more else 0.0
        verdict = "PASS" if per < 1 / 50 and not state.unpublished else "FAIL"
        print(
            f"{verdict}: apply queries {queries} at {args.peers} endpoints and {small_queries} at a tenth: "
            f"{per:.4f} more per endpoint (target < 0.02)"
        )
        return 0
    finally:
        database.drop()


if __name__ == "__main__":
    raise SystemExit(main())
