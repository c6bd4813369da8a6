"""Prometheus metrics of every worker process, served by `gatehouse serve` on GATEHOUSE_METRICS_PORT.

prometheus_client's multiprocess mode: each process writes its samples to files in one directory, and the
exporter in the serving process adds them up at each scrape, so two workers count as one service. The mode
is fixed when prometheus_client first creates a value, so the metrics are made on first use, after
`prepare_multiprocess` has put the directory in the environment; without it they count in memory only.

Labels are route templates, methods, statuses, actions and outcomes: never a user, token, email or address.
Metrics are process-wide by nature (one registry per process, one file per process), so they are module
state rather than a dependency every capability would have to carry.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True, slots=True)
class Metrics:
    requests: Histogram
    events: Counter
    refresh_rotations: Counter
    introspections: Counter
    refusals: Counter
    backend_errors: Counter
    argon2_queue_wait: Histogram
    postgres_pool: Gauge


# Counters: (name, what it counts, labels).
_COUNTERS = {
    "events": (
        "gatehouse_events",
        (
            "Audited events by action: logins by outcome (login.succeeded, login.failed, login.locked_out), "
            "second-factor steps, password changes, lockouts."
        ),
        ("action",),
    ),
    "refresh_rotations": (
        "gatehouse_refresh_rotations",
        (
            "Refresh-token rotations by outcome: rotated, grace (a replay inside the grace window), reuse (a retired "
            "token: its session ended), invalid."
        ),
        ("outcome",),
    ),
    "introspections": ("gatehouse_introspections", "Token introspections by result: active or inactive.", ("result",)),
    "refusals": ("gatehouse_refusals", "Requests refused by a throttle or an attempt limit (429), by code.", ("code",)),
    "backend_errors": ("gatehouse_backend_errors", "PostgreSQL or Redis unreachable or failing.", ("backend",)),
}


@cache
def metrics() -> Metrics:
    from prometheus_client import Counter, Gauge, Histogram

    counters = {field: Counter(*spec, registry=None) for field, spec in _COUNTERS.items()}
    return Metrics(
        requests=Histogram(
            "gatehouse_http_request_duration_seconds",
            "HTTP requests by route template, method and status, with their latency.",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=None,
        ),
        argon2_queue_wait=Histogram(
            "gatehouse_argon2_queue_wait_seconds",
            "Time a password hash waited for a hashing thread.",
            buckets=_LATENCY_BUCKETS,
            registry=None,
        ),
        postgres_pool=Gauge(
            "gatehouse_postgres_pool_connections",
            "PostgreSQL connections of the workers' pools, by state (open, idle).",
            ["state"],
            multiprocess_mode="livesum",  # a worker that died keeps its last value until the service restarts
            registry=None,
        ),
        **counters,
    )


def prepare_multiprocess() -> None:
    """A fresh, empty directory for this run's samples, in the environment the workers inherit."""
    os.environ[MULTIPROCESS_DIRECTORY] = tempfile.mkdtemp(prefix="gatehouse-metrics-")


def serve_metrics(host: str, port: int) -> None:
    """The exporter, on a thread of the serving process: every worker's samples, added up at each scrape."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped
    start_http_server(port, addr=host, registry=registry)


# --- Webhooks (service.events): how far the outbox is behind, and how long an event takes to arrive -----------
_WEBHOOK_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


@dataclass(frozen=True, slots=True)
class WebhookMetrics:
    outbox_depth: Gauge
    delivery_latency: Histogram
    attempts: Counter


@cache
def webhook_metrics() -> WebhookMetrics:
    from prometheus_client import Counter, Gauge, Histogram

    return WebhookMetrics(
        outbox_depth=Gauge(
            "gatehouse_webhook_outbox_depth",
            "Webhook deliveries not yet delivered nor given up (due, in flight or backing off), of every tenant.",
            multiprocess_mode="livemax",  # every delivering worker counts the same rows: one number, not a sum
            registry=None,
        ),
        delivery_latency=Histogram(
            "gatehouse_webhook_delivery_latency_seconds",
            "From an event's commit to the 2xx answer of its delivery, retries included.",
            buckets=_WEBHOOK_LATENCY_BUCKETS,
            registry=None,
        ),
        attempts=Counter(
            "gatehouse_webhook_attempts",
            "Webhook delivery attempts by outcome: delivered, or failed (retried later or given up).",
            ["outcome"],
            registry=None,
        ),
    )
