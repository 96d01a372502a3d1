"""GET /metrics: Prometheus text that parses, reflects the rows in the database, counts events,
needs no session, and honours RECLAIM_METRICS_TOKEN; the worker's SDK metrics endpoint."""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from api.app import create_app
from reclaim import metrics
from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import create_claim
from reclaim.config import Settings
from reclaim.db import session_scope
from reclaim.models import Denial, MailMessage, Remittance, WorkItem, utcnow
from tests.ports import free_port
from tests.support import claim_doc

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum over the samples of `name` whose labels include `labels` (the SDK adds its own)."""
    return sum(v for (n, have), v in samples.items()
               if n == name and set(labels.items()) <= set(have))


@pytest.fixture
async def scraper(fresh_engine: Engine, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    url = fresh_engine.url.render_as_string(hide_password=False)
    app = create_app(settings.model_copy(update={"database_url": url}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        yield client


def add_rows(engine: Engine) -> None:
    """Two claims (one denied with a coder route, one paid), open work items of several ages."""
    now = utcnow()
    with session_scope(engine) as session:
        ids = []
        for status in ("denied", "paid"):
            claim = create_claim(session=session,
                                 document=ClaimDocument.model_validate(claim_doc()))
            claim.status = status
            ids.append(claim.id)
        denied = ids[0]
        assert denied is not None
        remittance = Remittance(edi_file_id=_edi_file(session), position=1, claim_id=denied,
                                patient_control_number=f"RC{denied}-1", status_code="4",
                                charge=150, paid=0, patient_responsibility=0, data={})
        session.add(remittance)
        session.flush()
        assert remittance.id is not None
        for carc, route, resolved in (("11", "coder", None), ("16", "coder", now),
                                      ("50", "appeal", None)):
            session.add(Denial(claim_id=denied, remittance_id=remittance.id, attempt=1,
                               level="claim", group="CO", carc=carc, amount=150, route=route,
                               payer_id="SANDBOX", resolved_at=resolved))
        for n, (queue, age, status) in enumerate((
            ("coder", timedelta(hours=2), "open"), ("coder", timedelta(days=4), "open"),
            ("coder", timedelta(days=40), "open"), ("front_desk", timedelta(days=2), "open"),
            ("coder", timedelta(days=50), "done"),
        )):
            session.add(WorkItem(key=f"obs-{n}", claim_id=denied, queue=queue, kind="denial",
                                 status=status, title="t", created_at=now - age))
        session.add(MailMessage(key="obs-mail", to="cody@example.org", subject="s", text="t"))


def _edi_file(session) -> int:  # type: ignore[no-untyped-def]
    from reclaim.models import EdiFile

    edi = EdiFile(sha256="0" * 64, raw="ISA", size=3, status="processed", type="835")
    session.add(edi)
    session.flush()
    assert edi.id is not None
    return edi.id


async def test_metrics_parse_and_reflect_the_database(scraper: httpx.AsyncClient,
                                                      fresh_engine: Engine) -> None:
    empty = await scraper.get("/metrics")
    assert empty.status_code == 200
    assert empty.headers["content-type"].startswith("text/plain")
    assert value(parse(empty.text), "reclaim_claims", status="paid") == 0
    add_rows(fresh_engine)
    samples = parse((await scraper.get("/metrics")).text)
    assert value(samples, "reclaim_claims", status="denied") == 1
    assert value(samples, "reclaim_claims", status="paid") == 1
    assert value(samples, "reclaim_denials", route="coder", resolved="false") == 1
    assert value(samples, "reclaim_denials", route="coder", resolved="true") == 1
    assert value(samples, "reclaim_denials", route="appeal", resolved="false") == 1
    assert value(samples, "reclaim_open_work_items", queue="coder", age="lt_1d") == 1
    assert value(samples, "reclaim_open_work_items", queue="coder", age="3d_7d") == 1
    assert value(samples, "reclaim_open_work_items", queue="coder", age="ge_30d") == 1
    assert value(samples, "reclaim_open_work_items", queue="front_desk", age="1d_3d") == 1
    oldest = value(samples, "reclaim_oldest_open_work_item_age_seconds", queue="coder")
    assert timedelta(days=40) <= timedelta(seconds=oldest) < timedelta(days=41)
    assert value(samples, "reclaim_mail_messages", status="queued") == 1
    assert any(name == "process_resident_memory_bytes" or name.startswith("python_gc")
               for name, _ in samples)


async def test_event_counters(scraper: httpx.AsyncClient) -> None:
    before = parse((await scraper.get("/metrics")).text)
    metrics.edi_file_processed(file_type="835", outcome="processed")
    metrics.edi_file_processed(file_type=None, outcome="failed")
    metrics.smtp_failure()
    metrics.claim_submitted(frequency_code="7")
    after = parse((await scraper.get("/metrics")).text)
    for name, labels in (
        ("reclaim_edi_files_total", {"type": "835", "outcome": "processed"}),
        ("reclaim_edi_files_total", {"type": "unknown", "outcome": "failed"}),
        ("reclaim_smtp_failures_total", {}),
        ("reclaim_claims_submitted_total", {"frequency": "7"}),
    ):
        assert value(after, name, **labels) == value(before, name, **labels) + 1, name
    with pytest.raises(ValueError, match="outcome"):
        metrics.edi_file_processed(file_type="835", outcome="exploded")


async def test_metrics_need_no_session_but_honour_the_token(
    fresh_engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECLAIM_METRICS_TOKEN", "scrape-me")
    url = fresh_engine.url.render_as_string(hide_password=False)
    app = create_app(settings.model_copy(update={"database_url": url}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert right.status_code == 200
        assert "reclaim_claims" in right.text


def test_no_phi_in_labels(fresh_engine: Engine) -> None:
    add_rows(fresh_engine)
    text = metrics.exposition(fresh_engine, include_process=False).decode()
    labels = {v for family in text_string_to_metric_families(text) for s in family.samples
              for v in s.labels.values()}
    assert labels <= {"denied", "paid", "coder", "appeal", "front_desk", "true", "false",
                      "queued", "lt_1d", "1d_3d", "3d_7d", "7d_30d", "ge_30d", "835",
                      "unknown", "processed", "failed", "duplicate", "refused", "1", "7", "8",
                      "999", "277CA", "837P", "837I"}


def test_worker_runtime_serves_sdk_and_reclaim_counters(settings: Settings) -> None:
    assert metrics.worker_runtime(settings, metrics=metrics.MetricsSettings()) is None
    port = free_port()
    runtime = metrics.worker_runtime(settings, metrics=metrics.MetricsSettings(
        worker_metrics_port=port, worker_metrics_host="127.0.0.1"))
    assert runtime is not None
    try:
        metrics.smtp_failure()
        metrics.claim_submitted(frequency_code="1")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        samples = parse(text)
        assert total(samples, "reclaim_smtp_failures_total", service="reclaim-worker") >= 1
        assert total(samples, "reclaim_claims_submitted_total", frequency="1",
                     service="reclaim-worker") >= 1
    finally:
        metrics.use_meter(None)
