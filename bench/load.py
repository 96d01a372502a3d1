"""Twenty people at work at once: signed-in clients against `reclaim api` on a big database.

    .venv/bin/python bench/load.py                       # 20 clients, 100,000 claims, SQLite
    .venv/bin/python bench/load.py --clients 20 --requests 40 --db postgresql+psycopg://postgres@127.0.0.1/test

Fills a fresh database as bench/pages.py does (`--n` claims with their events, submissions,
remittances, denials and work items), starts `reclaim api` as an operator runs it (its own
process, uvicorn on a free port, the embedded settings, a metrics token), and signs in
`--clients` users through the sign-in form: a quarter of them managers, the rest coders.
`reclaim api` runs `--api-workers` processes (RECLAIM_API_WORKERS; default one per core). Each
client then sends `--requests` requests one after the other (a redirect followed, as a
browser does: a coder's `/` leads to `/work`), as fast as the server answers (no
think time, harsher than people; `--think S` waits S x 0.5..1.5 between requests), cycling
through `/claims`, `/work`, `/` and `/api/v1/claims`
from a random starting point and with random claim-list pages and filters. Timed: each request
from send to the last byte of the answer; an answer other than 200 is an error.

Prints figures per path, then one JSON line:
{"bench": "load", "clients", "requests", "errors", "p95_ms", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import emit, free_port, machine, percentile, say
from pages import drop_schema, fill, fresh_database
from sqlmodel import Session

from reclaim.auth import hash_password
from reclaim.db import get_engine, migrate
from reclaim.models import User

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-bench-Passphrase-7"  # noqa: S105 (a throwaway user's password)
PAYERS = ("SANDBOX", "AETNA", "BCBSIL", "CIGNA", "MEDICARE", "UHC")
STATUSES = ("denied", "paid", "needs_correction", "appealing", "partially_paid")
PATHS = ("/claims", "/work", "/", "/api/v1/claims")


def add_people(url: str, clients: int) -> list[tuple[str, str]]:
    """`clients` users, a quarter managers (the dashboard is theirs), the rest coders."""
    engine = get_engine(url)
    hashed = hash_password(PASSWORD)
    people = [(f"load{i:02d}", "manager" if i % 4 == 0 else "coder") for i in range(clients)]
    with Session(engine) as session:
        for name, role in people:
            session.add(User(username=name, role=role, password_hash=hashed))
        session.commit()
    engine.dispose()
    return people


def start_api(url: str, data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    env.update({
        "RECLAIM_DATABASE_URL": url,
        "RECLAIM_DATA_DIR": str(data_dir),
        "RECLAIM_API_PORT": str(port),
        "RECLAIM_API_HOST": "127.0.0.1",
        "RECLAIM_METRICS_TOKEN": "load-bench-metrics-token",
        "RECLAIM_DEMO": "false",
        "RECLAIM_API_WORKERS": str(workers),
    })
    log = (data_dir / "api.log").open("wb")
    return subprocess.Popen([str(Path(sys.executable).with_name("reclaim")), "api"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


async def wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    async with httpx.AsyncClient(base_url=base, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"reclaim api exited:\n{log.read_text(errors='replace')}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("reclaim api did not answer /healthz within 180 s")


async def sign_in(http: httpx.AsyncClient, username: str) -> None:
    """Through the sign-in form, as a browser: its CSRF token, then the POST."""
    page = await http.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    data = {"username": username, "password": PASSWORD}
    if found:
        data["csrf_token"] = found.group(1)
    answer = await http.post("/login", data=data)
    if answer.status_code not in (200, 303) or "reclaim_session" not in http.cookies:
        raise SystemExit(f"signing in {username}: HTTP {answer.status_code} "
                         f"{answer.text[:300]}")


def next_url(path: str, rng: random.Random, n: int) -> str:
    """The path with what people vary: a claim-list page, a status, a payer, a search."""
    if path not in ("/claims", "/api/v1/claims"):
        return path
    pick = rng.random()
    if pick < 0.3:
        return path
    if pick < 0.55:
        return f"{path}?status={rng.choice(STATUSES)}"
    if pick < 0.75:
        return f"{path}?payer={rng.choice(PAYERS)}&page={rng.randint(1, max(1, n // 2000))}"
    if pick < 0.9:
        return f"{path}?q={rng.choice(('lee', 'okafor', 'M0000123', 'patel'))}"
    return f"{path}?page={rng.randint(1, 50)}"


async def one_client(base: str, username: str, role: str, *, requests: int, seed: int, n: int,
                     samples: dict[str, list[float]], errors: list[str],
                     think: float = 0.0) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=True) as http:
        await sign_in(http, username)
        start = rng.randrange(len(PATHS))
        for i in range(requests):
            path = PATHS[(start + i) % len(PATHS)]
            url = next_url(path, rng, n)
            started = time.perf_counter()
            try:
                answer = await http.get(url)
                await answer.aread()
                ok = answer.status_code == 200
                why = f"{url} as {role}: HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                ok, why = False, f"{url} as {role}: {type(exc).__name__}"
            elapsed = (time.perf_counter() - started) * 1000
            samples.setdefault(path, []).append(elapsed)
            if not ok:
                errors.append(why)
            if think:
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def drive(base: str, people: list[tuple[str, str]], *, requests: int, n: int,
                think: float) -> dict[str, Any]:
    samples: dict[str, list[float]] = {}
    errors: list[str] = []
    # Warm the server once per path before the clock starts.
    await one_client(base, people[0][0], people[0][1], requests=len(PATHS), seed=0, n=n,
                     samples={}, errors=[])
    started = time.perf_counter()
    await asyncio.gather(*(one_client(base, name, role, requests=requests, seed=i + 1, n=n,
                                      samples=samples, errors=errors, think=think)
                           for i, (name, role) in enumerate(people)))
    seconds = time.perf_counter() - started
    every = [ms for values in samples.values() for ms in values]
    by_path = {path: {"p50": round(statistics.median(v), 1), "p95": round(percentile(v, 95), 1)}
               for path, v in samples.items()}
    for path, figures in by_path.items():
        say(f"{path:16s} p50 {figures['p50']:7.1f} ms   p95 {figures['p95']:7.1f} ms")
    for why in sorted(set(errors))[:10]:
        say(f"error: {why}")
    return {"requests": len(every), "errors": len(errors), "seconds": round(seconds, 2),
            "requests_per_s": round(len(every) / seconds, 1),
            "p50_ms": round(statistics.median(every), 1), "p95_ms": round(percentile(every, 95), 1),
            "p99_ms": round(percentile(every, 99), 1), "by_path": by_path}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="claims in the database")
    parser.add_argument("--clients", type=int, default=20, help="signed-in clients at once")
    parser.add_argument("--requests", type=int, default=40, help="requests per client")
    parser.add_argument("--db", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--api-workers", type=int, default=os.cpu_count() or 1,
                        help="RECLAIM_API_WORKERS: API processes (default: one per core)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds each client waits between requests (default 0)")
    args = parser.parse_args()
    if min(args.n, args.clients, args.requests, args.api_workers) < 1 or args.think < 0:
        parser.error("--n, --clients, --requests and --api-workers must be positive, "
                     "--think not negative")
    with tempfile.TemporaryDirectory(prefix="reclaim-load-") as tmp:
        url = fresh_database(args.db, Path(tmp))
        try:
            emit(run(url, Path(tmp), args))
        finally:
            if args.db:
                get_engine(url).dispose()
                drop_schema(args.db, url)


def run(url: str, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    migrate(url)
    engine = get_engine(url)
    loaded = fill(engine, args.n)
    engine.dispose()
    people = add_people(url, args.clients)
    say(f"loaded {loaded}")
    port = free_port()
    data_dir = tmp / "var"
    data_dir.mkdir()
    process = start_api(url, data_dir, port, args.api_workers)
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_healthy(base, process, data_dir / "api.log"))
        result = asyncio.run(drive(base, people, requests=args.requests, n=args.n,
                                   think=args.think))
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    return {"bench": "load", "clients": args.clients, **result, "claims": args.n,
            "api_workers": args.api_workers, "think_s": args.think,
            "db": url.split(":", 1)[0].split("+", 1)[0], **machine()}


if __name__ == "__main__":
    main()
