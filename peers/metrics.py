"""Prometheus metrics for the people on call: ``GET /metrics``, per host.

===================================================  =======================================================
``iaxadmin_host_revisions_published_total{host}``    revisions published so far
``iaxadmin_host_latest_revision{host}``              number of the latest published revision (0: never)
``iaxadmin_host_applied_revision{host}``             the revision the host's agent last applied successfully
                                                     (from its deployment reports; 0: never)
``iaxadmin_host_behind{host}``                       1 while a published revision is not applied yet
``iaxadmin_host_last_contact_age_seconds{host}``     seconds since the agent last fetched or reported
                                                     (+Inf: never)
``iaxadmin_host_last_deployment_ok{host}``           1/0: whether the agent's last report was a success
                                                     (absent before the first report)
``iaxadmin_host_failing_registrations{host}``        registrations not "Registered" in the last report
``iaxadmin_host_findings{host,severity}``            error / warning findings in the working copy
===================================================  =======================================================

Everything is read from the database on each scrape, so every app server answers the same.
Finding a host's findings means exporting it (``peers.exporter.export_host``, a third of a second
at 10,000 endpoints), so they are computed once per state of the host and kept in Django's cache
framework, in the ``metrics`` cache (a ``DatabaseCache`` table: the database stays the only shared
state), with the *stamp* they were computed for: the number and the highest id of the host's
``Change`` rows, the same for the rows without a host (keys, which any host may use), and a
digest of the validator's code. Every write is recorded as a ``Change`` in the same transaction
(``peers.services``), so any committed change moves the stamp, and the next reader exports that
host again; readers of unchanged hosts export nothing. (The count, not only the highest id:
ids are handed out before commit, so a change committed late can have a lower id than one
already seen.) Two entries per host, written together: the counts (``findings:<id>``, all a
scrape reads) and the findings themselves (``findings-list:<id>``, for the host's findings page,
its overview and the endpoint list's findings filter: ``host_findings``).

Access: ``IAXADMIN_METRICS_TOKEN`` (``Authorization: Bearer <token>``) and/or
``IAXADMIN_METRICS_ALLOW`` (addresses or networks matched against ``REMOTE_ADDR``). With neither
set the endpoint is off (403); with both set, both must pass. A refusal says nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
from collections import Counter
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, transaction
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .api.agent import host_status
from .iaxconf import Finding
from .models import Change, Host, Revision

logger = logging.getLogger("iaxadmin.metrics")

CACHE_ALIAS = "metrics"
NEVER = math.inf


# ---------------------------------------------------------------------------------------------
# Findings counts, cached per host by stamp


@lru_cache(maxsize=1)
def code_stamp() -> str:
    """A digest of the code that decides findings (the domain core and the exporter): a new
    release with a different validator recounts every host once."""
    from . import exporter, iaxconf

    digest = hashlib.sha256()
    core = Path(iaxconf.__file__).parent
    files = sorted(p for p in core.rglob("*") if p.is_file() and p.suffix in {".py", ".json", ".lark"})
    for path in [*files, Path(exporter.__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def change_stamps() -> dict[int | None, tuple[int, int]]:
    """host id (None: rows without a host) -> (number of Change rows, highest id). One query."""
    rows = Change.objects.order_by().values("host_id").annotate(n=Count("id"), last=Max("id"))
    return {row["host_id"]: (row["n"], row["last"]) for row in rows}


def _cache_get_many(keys: list[str]) -> dict:
    try:
        with transaction.atomic():  # a missing cache table must not break an outer transaction
            return caches[CACHE_ALIAS].get_many(keys)
    except DatabaseError as exc:
        logger.warning("findings cache unreadable (run manage.py createcachetable): %s", exc)
        return {}


def _cache_set_many(values: dict) -> None:
    if not values:
        return
    try:
        with transaction.atomic():
            caches[CACHE_ALIAS].set_many(values, timeout=None)
    except DatabaseError as exc:
        logger.warning("findings cache not written (run manage.py createcachetable): %s", exc)


def compute_findings(host: Host) -> list[Finding]:
    """The findings of the host's working copy, computed now (an export; nothing is written)."""
    from . import exporter

    return exporter.export_host(host).findings


def counts_of(findings: list[Finding]) -> dict[str, int]:
    counts = Counter(finding.severity for finding in findings)
    return {"error": counts.get("error", 0), "warning": counts.get("warning", 0)}


def count_findings(host: Host) -> dict[str, int]:
    """{"error": n, "warning": m} for the host's working copy, computed now."""
    return counts_of(compute_findings(host))


_FIELDS = tuple(f.name for f in fields(Finding))


def _entries(host: Host, stamp: list, findings: list[Finding]) -> dict:
    """The two cache entries of a host's findings for a stamp: the counts and the findings."""
    rows = [tuple(getattr(f, name) for name in _FIELDS) for f in findings]
    return {
        f"findings:{host.pk}": {"stamp": stamp, "counts": counts_of(findings)},
        f"findings-list:{host.pk}": {"stamp": stamp, "fields": _FIELDS, "rows": rows},
    }


def findings_counts(hosts: list[Host]) -> dict[int, dict[str, int] | None]:
    """host id -> {"error": n, "warning": m}: the cached counts of each host whose stamp still
    matches, a fresh count (then cached, with the findings) for the others; None for a host that
    cannot be exported (logged). The stamps are read before any export, so a change committed
    meanwhile only causes one more count on the next scrape. One query to read the cache, one to
    write it."""
    stamps = change_stamps()
    shared = list(stamps.get(None, (0, 0)))
    code = code_stamp()
    keys = {host.pk: f"findings:{host.pk}" for host in hosts}
    cached = _cache_get_many(list(keys.values()))
    counts, fresh = {}, {}
    for host in hosts:
        stamp = [list(stamps.get(host.pk, (0, 0))), shared, code]
        entry = cached.get(keys[host.pk])
        if isinstance(entry, dict) and entry.get("stamp") == stamp:
            counts[host.pk] = entry["counts"]
            continue
        try:
            findings = compute_findings(host)
        except Exception:  # a host that cannot be exported (e.g. a key that does not decrypt)
            logger.exception("findings of host %s could not be counted", host.name)
            counts[host.pk] = None
            continue
        counts[host.pk] = counts_of(findings)
        fresh.update(_entries(host, stamp, findings))
    _cache_set_many(fresh)
    return counts


def host_stamp(host: Host) -> list:
    """The stamp of one host's state (the ``findings_counts`` stamp): one query."""
    rows = (
        Change.objects.filter(Q(host=host) | Q(host__isnull=True))
        .order_by()
        .values("host_id")
        .annotate(n=Count("id"), last=Max("id"))
    )
    found = {row["host_id"]: [row["n"], row["last"]] for row in rows}
    return [found.get(host.pk, [0, 0]), found.get(None, [0, 0]), code_stamp()]


def cached_counts(host: Host) -> dict[str, int] | None:
    """The host's findings counts if they are known for its current state, else None (nothing is
    computed: a page shows them when they are, and asks for them on demand otherwise)."""
    entry = _cache_get_many([f"findings:{host.pk}"]).get(f"findings:{host.pk}")
    if isinstance(entry, dict) and entry.get("stamp") == host_stamp(host):
        return entry["counts"]
    return None


def host_findings(host: Host) -> list[Finding]:
    """The findings of the host's working copy, computed once per state of the host (stamp) and
    kept in the database cache with its counts; an export only when the host changed since."""
    stamp = host_stamp(host)
    key = f"findings-list:{host.pk}"
    entry = _cache_get_many([key]).get(key)
    if isinstance(entry, dict) and entry.get("stamp") == stamp and entry.get("fields") == _FIELDS:
        return [Finding(*row) for row in entry["rows"]]
    findings = compute_findings(host)
    _cache_set_many(_entries(host, stamp, findings))
    return findings


# ---------------------------------------------------------------------------------------------
# What is measured


@dataclass(frozen=True)
class HostMetrics:
    host: str
    revisions: int
    latest_revision: int  # 0: never published
    applied_revision: int  # 0: never applied
    behind: bool
    last_contact_age: float  # seconds; NEVER (+Inf) when the host never made contact
    last_deployment_ok: bool | None  # None: no report yet
    failing_registrations: int
    findings: dict[str, int] | None  # None: the host could not be exported (logged)


def host_metrics(now=None) -> list[HostMetrics]:
    """One HostMetrics per host, by name."""
    now = now or timezone.now()
    hosts = list(Host.objects.order_by("name"))
    findings = findings_counts(hosts)
    revisions = dict(
        Revision.objects.order_by().values("host_id").annotate(n=Count("id")).values_list("host_id", "n")
    )
    result = []
    for host in hosts:
        status = host_status(host)
        contact = status.last_contact
        result.append(
            HostMetrics(
                host=host.name,
                revisions=revisions.get(host.pk, 0),
                latest_revision=status.latest_revision or 0,
                applied_revision=status.deployed_revision or 0,
                behind=status.behind,
                last_contact_age=max(0.0, (now - contact).total_seconds()) if contact else NEVER,
                last_deployment_ok=status.last_report.ok if status.last_report else None,
                failing_registrations=len(status.failing_registrations),
                findings=findings[host.pk],
            )
        )
    return result


class HostCollector:
    """A prometheus_client collector over ``host_metrics()`` (read on each collect)."""

    def __init__(self, now=None) -> None:
        self.now = now

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        def gauge(name, documentation, labels=("host",)):
            return GaugeMetricFamily(name, documentation, labels=list(labels))

        published = CounterMetricFamily(
            "iaxadmin_host_revisions_published", "Revisions published for the host.", labels=["host"]
        )
        latest = gauge("iaxadmin_host_latest_revision", "Number of the latest published revision (0: never).")
        applied = gauge(
            "iaxadmin_host_applied_revision",
            "Revision the host's agent last reported as applied successfully (0: never).",
        )
        behind = gauge(
            "iaxadmin_host_behind", "1 while the latest published revision is not applied on the host."
        )
        contact = gauge(
            "iaxadmin_host_last_contact_age_seconds",
            "Seconds since the host's agent last fetched its export or reported (+Inf: never).",
        )
        last_ok = gauge(
            "iaxadmin_host_last_deployment_ok",
            "1 when the agent's last deployment report was a success, else 0.",
        )
        failing = gauge(
            "iaxadmin_host_failing_registrations",
            "Registrations not Registered in the agent's last report (iax2 show registry).",
        )
        findings = gauge(
            "iaxadmin_host_findings",
            "Findings in the host's working copy, by severity (errors block publishing).",
            labels=("host", "severity"),
        )
        for row in host_metrics(self.now):
            published.add_metric([row.host], row.revisions)
            latest.add_metric([row.host], row.latest_revision)
            applied.add_metric([row.host], row.applied_revision)
            behind.add_metric([row.host], int(row.behind))
            contact.add_metric([row.host], row.last_contact_age)
            if row.last_deployment_ok is not None:
                last_ok.add_metric([row.host], int(row.last_deployment_ok))
            failing.add_metric([row.host], row.failing_registrations)
            if row.findings is not None:
                for severity in ("error", "warning"):
                    findings.add_metric([row.host, severity], row.findings[severity])
        yield from (published, latest, applied, behind, contact, last_ok, failing, findings)


def exposition(accept: str = "", now=None) -> tuple[bytes, str]:
    """(body, content type) in the format the Accept header asks for (Prometheus text by default)."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import choose_encoder

    registry = CollectorRegistry(auto_describe=False)  # only these metrics: nothing per process
    registry.register(HostCollector(now))
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type


# ---------------------------------------------------------------------------------------------
# Access


def _refused(status: int) -> HttpResponse:
    response = HttpResponse(
        "unauthorized\n" if status == 401 else "forbidden\n",
        status=status,
        content_type="text/plain; charset=utf-8",
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    response["Cache-Control"] = "no-store"
    return response


def _networks(items) -> list:
    return [ipaddress.ip_network(item, strict=False) for item in items]


def refusal(request) -> int | None:
    """None when the request may read the metrics, else the status to refuse with: 403 when the
    endpoint is off or the address is not allowed, 401 without the right token."""
    token = getattr(settings, "IAXADMIN_METRICS_TOKEN", "") or ""
    allow = getattr(settings, "IAXADMIN_METRICS_ALLOW", ()) or ()
    if not token and not allow:
        return 403
    if allow:
        try:
            networks = _networks(allow)
        except ValueError as exc:
            logger.error("IAXADMIN_METRICS_ALLOW: %s; /metrics refuses everyone", exc)
            return 403
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return 403
        if not any(address in network for network in networks):
            return 403
    if token:
        scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return 401
    return None


@require_GET
def metrics_view(request):
    status = refusal(request)
    if status is not None:
        return _refused(status)
    body, content_type = exposition(request.META.get("HTTP_ACCEPT", ""))
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
