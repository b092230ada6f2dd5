"""Benchmark of the list of peers and users (peers/effective.py): effective values for a whole host.

    .venv/bin/python bench/endpoint_list.py --peers 10000 [--database-url URL]

One host of --peers endpoints is generated (bench/export.py's generator: two templates, most
sections inheriting from one; same database choice: a temporary SQLite file, or a throw-away
database on the PostgreSQL server --database-url names), then the list page is requested through
Django's test client (best of 3 each):

(a) the first page, no filter (effective values worked out for its 50 rows only);
(b) "Address: dynamic" (every section's effective host, inherited ones included);
(c) a search on a context (every section's effective context).

and the number of queries of each, which must be the same at any size. Target: (b) under 1 s at
10,000 endpoints. Prints PASS/FAIL and exits 0 whatever the numbers.
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
TARGET = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=10_000, help="endpoints of the host")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()

    import export as bench_export  # the generator and the database set-up of bench/export.py

    database = bench_export.BenchDatabase(args.database_url)
    try:
        bench_export.setup_django(database.url)
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext, setup_test_environment

        from peers.security.roles import set_role

        setup_test_environment()
        print(f"database: {database.label}")
        call_command("migrate", verbosity=0, interactive=False)
        host = bench_export.create_host("bench-list", args.peers)
        user = get_user_model().objects.create_user("bench")
        set_role(user, "viewer")
        client = Client()
        client.force_login(user)
        url = f"/hosts/{host.name}/endpoints/"
        worst = 0.0
        for label, params in (
            ("(a) first page", {}),
            ("(b) address=dynamic", {"address": "dynamic"}),
            ("(c) search a context", {"q": "from-"}),
        ):
            best = None
            for _ in range(3):
                with CaptureQueriesContext(connection) as queries:
                    start = time.perf_counter()
                    response = client.get(url, params)
                    spent = time.perf_counter() - start
                assert response.status_code == 200, response.status_code
                best = spent if best is None else min(best, spent)
            count = response.context["page"].paginator.count
            print(f"{label:24} {best * 1000:9.1f} ms   {len(queries)} queries   {count} sections")
            if label.startswith("(b)"):
                worst = best
        print(
            f"{'PASS' if worst < TARGET else 'FAIL'}: (b) = {worst:.2f} s (target < {TARGET:g} s at 10,000)"
        )
        return 0
    finally:
        database.drop()


if __name__ == "__main__":
    raise SystemExit(main())
