"""Prometheus metrics: what the database knows, computed at scrape time, and counters of events.

- Gauges from the database (`DatabaseCollector`), one GROUP BY each per scrape, so every API
  replica reports the same truth and nothing is lost on a restart: claims by status, denials by
  route, open work items by queue and age, the oldest open item per queue, the mail outbox.
- Counters of events (`edi_file_processed`, `smtp_failure`, `claim_submitted`), counted in the
  process where they happen. In the API they show at `/metrics`; in a worker started with
  `worker_runtime(...)` they are also recorded on the Temporal SDK's meter, so the worker's one
  Prometheus endpoint (`RECLAIM_WORKER_METRICS_PORT`) carries them next to the SDK's own worker
  metrics (task slots, poll latency, activity and workflow task outcomes).

Labels are codes and statuses only: never a claim id, a name or a member id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, case, func
from sqlmodel import Session, col, select
from temporalio.common import MetricCounter, MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from reclaim.config import Settings
from reclaim.models import Claim, Denial, MailMessage, WorkItem, utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Open work item age buckets: (label, lower bound in days); the last one is open-ended.
WORK_ITEM_AGES: tuple[tuple[str, int], ...] = (
    ("lt_1d", 0), ("1d_3d", 1), ("3d_7d", 3), ("7d_30d", 7), ("ge_30d", 30),
)
EDI_OUTCOMES = ("processed", "duplicate", "failed", "refused")


class MetricsSettings(BaseSettings):
    """Metrics settings (RECLAIM_ prefix) kept beside the metrics, as reclaim.config is shared.

    `RECLAIM_METRICS_TOKEN`: when set, GET /metrics needs `Authorization: Bearer <token>`.
    `RECLAIM_WORKER_METRICS_PORT` / `_HOST`: where a worker serves Prometheus text (unset: none).
    """

    model_config = SettingsConfigDict(env_prefix="RECLAIM_", extra="ignore")

    metrics_token: str | None = None
    worker_metrics_port: int | None = None
    worker_metrics_host: str = "0.0.0.0"


# ---------------------------------------------------------------- counters


COUNTERS = CollectorRegistry(auto_describe=True)


class _EventCounter:
    """A prometheus_client counter, mirrored on the Temporal SDK meter once a worker runtime
    exists (the SDK exports it on the worker's Prometheus port)."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str] = ()) -> None:
        self.name, self.documentation, self.labels = name, documentation, tuple(labels)
        self.counter = Counter(name, documentation, self.labels, registry=COUNTERS)
        self._sdk: MetricCounter | None = None

    def inc(self, **labels: str) -> None:
        if self.labels:
            self.counter.labels(**labels).inc()
        else:
            self.counter.inc()
        if _Sdk.meter is not None:
            if self._sdk is None:
                self._sdk = _Sdk.meter.create_counter(f"{self.name}_total", self.documentation)
            self._sdk.add(1, dict(labels))


class _Sdk:
    """The SDK meter counters are mirrored on (process-wide: activities run in threads)."""

    meter: MetricMeter | None = None

EDI_FILES = _EventCounter("reclaim_edi_files", "EDI files received, by type and outcome",
                          ("type", "outcome"))
SMTP_FAILURES = _EventCounter("reclaim_smtp_failures",
                              "Attempts to hand a message to the SMTP server that failed")
CLAIMS_SUBMITTED = _EventCounter("reclaim_claims_submitted",
                                 "Claims sent to the clearinghouse, by claim frequency code",
                                 ("frequency",))


def edi_file_processed(*, file_type: str | None, outcome: str) -> None:
    """One EDI file through ingestion. outcome: processed | duplicate | failed (read, refused
    with a 4xx) | refused (not stored: too large, empty)."""
    if outcome not in EDI_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(EDI_OUTCOMES)}, not {outcome!r}")
    EDI_FILES.inc(type=file_type or "unknown", outcome=outcome)


def smtp_failure() -> None:
    SMTP_FAILURES.inc()


def claim_submitted(*, frequency_code: str) -> None:
    CLAIMS_SUBMITTED.inc(frequency=frequency_code)


# ---------------------------------------------------------------- from the database


class DatabaseCollector(Collector):
    """Gauges computed with one GROUP BY each when Prometheus scrapes."""

    def __init__(self, engine: Engine, *, now: datetime | None = None) -> None:
        self.engine = engine
        self.now = now

    def describe(self) -> Iterable[Metric]:
        return []  # computed per scrape: no database query when registering

    def collect(self) -> Iterator[Metric]:
        now = self.now or utcnow()
        with Session(self.engine) as session:
            yield self._claims(session)
            yield self._denials(session)
            yield from self._work_items(session, now)
            yield self._outbox(session)

    def _claims(self, session: Session) -> Metric:
        family = GaugeMetricFamily("reclaim_claims", "Claims by status", labels=["status"])
        for status, count in session.exec(
            select(Claim.status, func.count()).group_by(Claim.status)
        ):
            family.add_metric([status], count)
        return family

    def _denials(self, session: Session) -> Metric:
        family = GaugeMetricFamily("reclaim_denials", "Denials by route and whether resolved",
                                   labels=["route", "resolved"])
        resolved = case((col(Denial.resolved_at).is_(None), "false"), else_="true")
        for route, is_resolved, count in session.exec(
            select(Denial.route, resolved, func.count()).group_by(Denial.route, resolved)
        ):
            family.add_metric([route or "unrouted", is_resolved], count)
        return family

    def _work_items(self, session: Session, now: datetime) -> Iterator[Metric]:
        by_age = GaugeMetricFamily("reclaim_open_work_items",
                                   "Open work items by queue and age", labels=["queue", "age"])
        whens = [(col(WorkItem.created_at) > now - timedelta(days=WORK_ITEM_AGES[i + 1][1]),
                  label) for i, (label, _) in enumerate(WORK_ITEM_AGES[:-1])]
        age = case(*whens, else_=WORK_ITEM_AGES[-1][0])
        for queue, bucket, count in session.exec(
            select(WorkItem.queue, age, func.count())
            .where(WorkItem.status == "open").group_by(WorkItem.queue, age)
        ):
            by_age.add_metric([queue, bucket], count)
        yield by_age
        oldest = GaugeMetricFamily("reclaim_oldest_open_work_item_age_seconds",
                                   "Age of the oldest open work item per queue", labels=["queue"])
        for queue, first in session.exec(
            select(WorkItem.queue, func.min(WorkItem.created_at))
            .where(WorkItem.status == "open").group_by(WorkItem.queue)
        ):
            oldest.add_metric([queue], max((now - _aware(first, now)).total_seconds(), 0.0))
        yield oldest

    def _outbox(self, session: Session) -> Metric:
        family = GaugeMetricFamily("reclaim_mail_messages", "Outgoing mail by status",
                                   labels=["status"])
        for status, count in session.exec(
            select(MailMessage.status, func.count()).group_by(MailMessage.status)
        ):
            family.add_metric([status], count)
        return family


def _aware(moment: datetime | str, now: datetime) -> datetime:
    # SQLite hands MIN() of a datetime column back as text and drops the zone.
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.replace(tzinfo=now.tzinfo) if value.tzinfo is None else value


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        return iter(self.registry.collect())


def exposition(engine: Engine, *, include_process: bool = True) -> bytes:
    """Prometheus text for GET /metrics: database gauges, this process's counters, and the
    Python process metrics (memory, CPU, GC)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(engine))
    registry.register(_Forward(COUNTERS))
    if include_process:
        registry.register(_Forward(REGISTRY))
    return generate_latest(registry)


# ---------------------------------------------------------------- the worker


def worker_runtime(settings: Settings, *,
                   metrics: MetricsSettings | None = None) -> Runtime | None:
    """A Temporal runtime whose metrics (the SDK's worker metrics and Reclaim's event counters)
    are served as Prometheus text on RECLAIM_WORKER_METRICS_PORT; None when it is unset.

    worker.py: `runtime = worker_runtime(settings)` before connecting, then
    `Client.connect(..., runtime=runtime)` when it is not None (one runtime per process).
    """
    del settings  # the worker's other settings do not change where metrics go
    metrics = metrics or MetricsSettings()
    if metrics.worker_metrics_port is None:
        return None
    address = f"{metrics.worker_metrics_host}:{metrics.worker_metrics_port}"
    runtime = Runtime(telemetry=TelemetryConfig(
        metrics=PrometheusConfig(bind_address=address, counters_total_suffix=False),
        global_tags={"service": "reclaim-worker"},
    ))
    use_meter(runtime.metric_meter)
    return runtime


def use_meter(meter: MetricMeter | None) -> None:
    """Mirror the event counters on this SDK meter from now on (all threads: activities run in
    a thread pool)."""
    _Sdk.meter = meter
    for counter in (EDI_FILES, SMTP_FAILURES, CLAIMS_SUBMITTED):
        counter._sdk = None
