"""Reads of a big host, as the browser and the API see them: the API's endpoint list (one page, and
every page in turn), the host overview and its findings page, at 10,000 endpoints.

    .venv/bin/python bench/reads.py --peers 10000 [--database-url URL] [--repeat 5]

The host is bench/export.py's (N endpoints, half of them from a template, keys, registrations,
limits). Requests go through Django's test client in this process (the whole middleware stack,
no network), as a viewer with a session or with a user token. Each figure is the best of
``--repeat`` after a warm-up (the median in brackets):

* (a) ``GET /api/v1/hosts/H/endpoints`` (the default page, 100 endpoints);
* (b) every page of that list in turn, following its ``Link`` header, at the default page size
  and at the maximum (1,000); beside (c) ``export_host(H)`` in this process;
* (d) the host overview ``GET /hosts/H/`` (its findings counts known for the host's state);
* (e) the findings page ``GET /hosts/H/findings/`` (known: kept in the database cache), and (e0)
  the same right after a change of the host (computed once, then kept);
* (f) the iax.conf the overview loads on demand (``GET /hosts/H/conf/``), without a target.

Targets: (a), (d) and (e) under 0.3 s each; (b) within 3x (c). Exits 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from export import BenchDatabase, create_host, setup_django  # noqa: E402

PAGE_TARGET = 0.3
ALL_PAGES_TARGET = 3.0


def timed(repeat: int, fn) -> tuple[float, float]:
    """(best, median) seconds of ``repeat`` calls after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    database = BenchDatabase(args.database_url)
    try:
        return measure(args, database)
    finally:
        database.drop()


def measure(args, database: BenchDatabase) -> int:
    os.environ.setdefault("LOG_REQUESTS", "no")  # the request log line is not what is measured
    setup_django(database.url)
    from django.contrib.auth import get_user_model
    from django.core.cache import caches
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from peers import metrics, services
    from peers.exporter import export_host
    from peers.security.roles import set_role

    setup_test_environment()  # the test client's host name is allowed
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    print(f"database: {database.label}; Python {sys.version.split()[0]}")
    start = time.perf_counter()
    host = create_host(f"bench-{args.peers}", args.peers)
    print(f"host: {args.peers} endpoints + 2 templates, generated in {time.perf_counter() - start:.1f} s")

    user = get_user_model().objects.create_user("bench-viewer")
    set_role(user, "viewer")
    _, token = services.create_user_token(user, "bench", actor="bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    browser = Client()
    browser.force_login(user)
    base = f"/api/v1/hosts/{host.name}/endpoints"

    def get(client, url, **headers):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        return response

    def all_pages(limit: int) -> int:
        url, count = f"{base}?limit={limit}", 0
        while url:
            response = get(api, url)
            count += len(response.json())
            link = response.get("Link", "")
            url = next(
                (part.split(">")[0].lstrip("<") for part in link.split(", ") if 'rel="next"' in part), ""
            )
        assert count == args.peers, count
        return count

    results = {}
    results["(a) API, one page (100)"] = timed(args.repeat, lambda: get(api, base))
    results["(b) API, every page of 100"] = timed(max(1, args.repeat // 2), lambda: all_pages(100))
    results["(b) API, every page of 1,000"] = timed(max(1, args.repeat // 2), lambda: all_pages(1000))
    results["(c) export_host()"] = timed(args.repeat, lambda: export_host(host).text)
    overview = f"/hosts/{host.name}/"
    get(browser, f"/hosts/{host.name}/findings/summary/")  # the counts are known for this state
    results["(d) host overview"] = timed(args.repeat, lambda: get(browser, overview))
    findings = f"/hosts/{host.name}/findings/"
    results["(e) findings page, known"] = timed(args.repeat, lambda: get(browser, findings))

    def after_a_change():
        caches[metrics.CACHE_ALIAS].clear()  # as after a change of the host: computed once
        get(browser, findings)

    results["(e0) findings page, after a change"] = timed(max(1, args.repeat // 2), after_a_change)
    results["(f) iax.conf on demand"] = timed(
        max(1, args.repeat // 2), lambda: get(browser, f"/hosts/{host.name}/conf/", HX_Request="true")
    )

    print(f"\nreads of a host of {args.peers} endpoints, best of the runs after a warm-up (median):")
    for name, (best, median) in results.items():
        print(f"  {name:<36} {best * 1000:9.1f} ms  ({median * 1000:.1f})")
    export_best = results["(c) export_host()"][0]
    verdicts = []
    print()
    for name in ("(a) API, one page (100)", "(d) host overview", "(e) findings page, known"):
        ok = results[name][0] < PAGE_TARGET
        verdicts.append(ok)
        print(f"  {name:<36} target < {PAGE_TARGET} s: {'PASS' if ok else 'FAIL'}")
    for name in ("(b) API, every page of 100", "(b) API, every page of 1,000"):
        ratio = results[name][0] / export_best
        ok = ratio <= ALL_PAGES_TARGET
        verdicts.append(ok)
        print(
            f"  {name:<36} {ratio:5.2f}x the export, target <= {ALL_PAGES_TARGET:g}: {'PASS' if ok else 'FAIL'}"
        )
    print()
    print("PASS" if all(verdicts) else "FAIL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
