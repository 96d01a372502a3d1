"""`reclaim …` — start the stack or one part of it, load claims, import remittances, add users."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypedDict

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import track

from reclaim.config import SEARCH_ATTRIBUTES, Settings, get_settings
from reclaim.supervisor import CrashLoop, Supervisor, stop_on_signals

if TYPE_CHECKING:
    from sqlmodel import Session

    from reclaim.models import User
    from reclaim.providers import ImportReport

app = typer.Typer(help="Reclaim: denial management on Temporal.", no_args_is_help=True)
claims_app = typer.Typer(help="Claims.", no_args_is_help=True)
users_app = typer.Typer(help="Users.", no_args_is_help=True)
codes_app = typer.Typer(help="Code sets: NCCI edits and MUE limits from CMS files.",
                        no_args_is_help=True)
app.add_typer(claims_app, name="claims")
app.add_typer(users_app, name="users")
providers_app = typer.Typer(help="The practice's provider directory.", no_args_is_help=True)
payers_app = typer.Typer(help="The payers and their terms.", no_args_is_help=True)
app.add_typer(codes_app, name="codes")
app.add_typer(providers_app, name="providers")
app.add_typer(payers_app, name="payers")
console = Console()
PARTS = ("temporal", "smtp", "payer", "worker", "api")


def _settings(*, serves_metrics: bool = False) -> Settings:
    """This process's settings: its install's task queue, and secrets made (embedded stack) or
    checked (any other deployment; reclaim/keys.py) before anything starts."""
    from reclaim.keys import InsecureSetting, secured
    from reclaim.metrics import MetricsSettings

    get_settings.cache_clear()
    settings = _own_task_queue(get_settings())
    try:
        return secured(settings, metrics_token=MetricsSettings().metrics_token,
                       serves_metrics=serves_metrics)
    except InsecureSetting as exc:
        typer.echo(f"reclaim: refusing to start: {exc}", err=True)
        raise typer.Exit(2) from exc


def _configure_logging() -> None:
    from reclaim.logs import configure

    configure()


# ---------------------------------------------------------------- the parts


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (also done by every start)."""
    from reclaim.db import migrate as run

    settings = _settings()
    run(settings.resolved_database_url)
    console.print("schema is current")


@app.command()
def api(port: int | None = None, host: str | None = None,
        workers: int = typer.Option(0, min=0, max=64,
                                    help="API processes; default RECLAIM_API_WORKERS (1)")) -> None:
    """The API and web pages."""
    import uvicorn

    from api.app import create_app
    from reclaim.db import migrate as run_migrations

    _configure_logging()
    settings = _settings(serves_metrics=True)
    run_migrations(settings.resolved_database_url)
    count = workers or settings.api_workers
    bind_host, bind_port = host or settings.api_host, port or settings.api_port
    if count == 1:
        uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="warning",
                    access_log=False)
        return
    # Each process builds its app from the environment (`create_app()` checks the secrets
    # again): hand it this install's task queue, which only this command resolves.
    os.environ["RECLAIM_TASK_QUEUE"] = settings.task_queue
    uvicorn.run("api.app:create_app", factory=True, workers=count, host=bind_host,
                port=bind_port, log_level="warning", access_log=False)


@app.command()
def keygen(kid: str = typer.Option("", help="key id; default k<yyyymmdd>")) -> None:
    """Print a new random payload key ring item (kid:BASE64KEY) for RECLAIM_PAYLOAD_KEY."""
    from datetime import UTC, datetime

    from reclaim.codec import PayloadKeyError, new_key_setting

    try:
        typer.echo(new_key_setting(kid or "k" + datetime.now(UTC).strftime("%Y%m%d")))
    except PayloadKeyError as exc:
        typer.echo(f"reclaim keygen: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def worker() -> None:
    """The Temporal worker on task queue `claims`."""
    from reclaim.db import migrate as run_migrations
    from worker import run_worker

    _configure_logging()
    settings = _settings()
    run_migrations(settings.resolved_database_url)
    asyncio.run(run_worker(settings))


@app.command()
def payer(port: int | None = None, host: str | None = None) -> None:
    """The sandbox payer (clearinghouse + payer) alone."""
    from reclaim.sandbox_payer.app import serve
    from reclaim.sandbox_payer.config import PayerConfig

    _configure_logging()
    settings = _settings()
    serve(PayerConfig.from_env(), host=host or settings.payer_host,
          port=port or settings.payer_port or _port_of(settings.payer_url))


@app.command("smtp-sink")
def smtp_sink(port: int | None = None, host: str = "127.0.0.1") -> None:
    """The local SMTP sink; what it receives shows at /mail."""
    from reclaim.db import get_engine
    from reclaim.db import migrate as run_migrations
    from reclaim.smtp_sink import serve

    settings = _settings()
    run_migrations(settings.resolved_database_url)
    asyncio.run(serve(get_engine(settings.resolved_database_url), host=host,
                      port=port or settings.smtp_port))


@app.command()
def up(
    skip: Annotated[list[str] | None, typer.Option(help=f"leave out one of {PARTS}")] = None,
) -> None:
    """Everything on one machine: Temporal, SMTP sink, sandbox payer, worker, API, demo data."""
    skipped = set(skip or [])
    unknown = skipped - set(PARTS)
    if unknown:
        raise typer.BadParameter(f"unknown part(s) {sorted(unknown)}; choose from {PARTS}")
    from reclaim.db import migrate as run_migrations

    get_settings.cache_clear()
    settings = get_settings()  # the ports only: nothing is made before they are known free
    taken = _ports_taken(_listeners(settings, skipped))
    if taken:
        raise SystemExit("\n".join(taken) + "\nIs Reclaim already running? Stop it, or choose "
                         "other ports with the settings named above.")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # now with this install's task queue and payload key (made on the first start)
    settings = _settings(serves_metrics="api" not in skipped)
    run_migrations(settings.resolved_database_url)
    env = dict(os.environ)
    env["RECLAIM_DATA_DIR"] = str(settings.data_dir.resolve())
    env["RECLAIM_TASK_QUEUE"] = settings.task_queue
    logs = settings.data_dir / "logs"
    logs.mkdir(exist_ok=True)
    supervisor = Supervisor(report=lambda line: console.print(f"[yellow]{line}"))

    def start(name: str, args: list[str], *, last: bool = False) -> None:
        def launch() -> subprocess.Popen[bytes]:
            with (logs / f"{name}.log").open("ab") as out:  # the child keeps its own copy
                return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        supervisor.start(name, launch, last=last)

    me = [sys.executable, "-m", "cli"]
    try:
        if _starts("temporal", settings, skipped):
            # The worker and the API talk to it as they shut down: stopped after them.
            start("temporal", _temporal_command(settings), last=True)
            _wait_port("127.0.0.1", settings.temporal_port, "Temporal", supervisor)
        if _starts("smtp", settings, skipped):
            start("smtp", [*me, "smtp-sink"])
            env["RECLAIM_SMTP_HOST"] = "127.0.0.1"
            _wait_port("127.0.0.1", settings.smtp_port, "SMTP sink", supervisor)
        if "payer" not in skipped:
            start("payer", [*me, "payer"])
            _wait_port("127.0.0.1", _port_of(settings.payer_url), "sandbox payer", supervisor)
        if "worker" not in skipped:
            _refuse_strangers(settings)
            start("worker", [*me, "worker"])
        if "api" not in skipped:
            start("api", [*me, "api"])
            _wait_port(settings.api_host, settings.api_port, "API", supervisor)
        logins = _load_demo(settings) if settings.demo else []
        _banner(settings, skipped, logins)
        _supervise(supervisor)
    finally:
        supervisor.stop_all()


def _own_task_queue(settings: Settings) -> Settings:
    """The embedded stack's task queue carries this install's id (reclaim.install), so every
    command run on this data dir (`up`, `worker`, `claims load`, ...) uses the same one: unless
    RECLAIM_TASK_QUEUE names one, or RECLAIM_TEMPORAL_ADDRESS a Temporal of the operator's."""
    from reclaim.install import install_id, task_queue_for

    if ("RECLAIM_TASK_QUEUE" in os.environ or settings.temporal_address
            or not settings.data_dir.is_dir()):  # nothing started here yet: `up` makes var/
        return settings
    queue = task_queue_for(settings.task_queue, install_id(settings.data_dir))
    return settings.model_copy(update={"task_queue": queue})


def _refuse_strangers(settings: Settings) -> None:
    """Refuse to start our worker beside one already polling our task queue: another
    install's (sharing the queue) or one an earlier `up` left running."""
    from reclaim.install import pollers
    from temporal_client import connect

    async def find() -> list[str]:
        return await pollers(await connect(settings), settings.task_queue)

    try:
        found = asyncio.run(find())
    except Exception as exc:  # the client's errors are many kinds; all mean "no Temporal"
        raise SystemExit(f"cannot ask Temporal at {settings.resolved_temporal_address} who "
                         f"polls task queue {settings.task_queue!r}: {exc}") from exc
    if found:
        raise SystemExit(f"task queue {settings.task_queue!r} on "
                         f"{settings.resolved_temporal_address} is already polled by "
                         f"{', '.join(found)}: a worker not started by this `reclaim up` "
                         "(another install, or one left from an earlier run). Stop it, or set "
                         "RECLAIM_TASK_QUEUE.")


def _temporal_command(settings: Settings) -> list[str]:
    binary = Path(sys.executable).with_name("temporal")
    args = [
        str(binary), "server", "start-dev",
        "--db-filename", str((settings.data_dir / "temporal.db").resolve()),
        "--ip", "127.0.0.1", "--port", str(settings.temporal_port),
        "--ui-port", str(settings.temporal_ui_port),
        "--namespace", settings.temporal_namespace, "--log-level", "warn",
    ]
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args


def _starts(part: str, settings: Settings, skipped: set[str]) -> bool:
    """Whether `reclaim up` starts this part: not skipped, and (for Temporal and the mail sink)
    not replaced by one configured elsewhere."""
    elsewhere = {"temporal": settings.temporal_address, "smtp": settings.smtp_host}
    return part not in skipped and not elsewhere.get(part)


def _listeners(settings: Settings, skipped: set[str]) -> list[tuple[str, str, int, str]]:
    """(part, host, port, the setting that moves it) for each listener `up` will start."""
    wanted: list[tuple[str, str, int, str]] = []
    if _starts("temporal", settings, skipped):
        wanted += [("Temporal", "127.0.0.1", settings.temporal_port, "RECLAIM_TEMPORAL_PORT"),
                   ("Temporal UI", "127.0.0.1", settings.temporal_ui_port,
                    "RECLAIM_TEMPORAL_UI_PORT")]
    if _starts("smtp", settings, skipped):
        wanted.append(("SMTP sink", "127.0.0.1", settings.smtp_port, "RECLAIM_SMTP_PORT"))
    if "payer" not in skipped:
        wanted.append(("sandbox payer", settings.payer_host,
                       settings.payer_port or _port_of(settings.payer_url), "RECLAIM_PAYER_URL"))
    if "api" not in skipped:
        wanted.append(("API", settings.api_host, settings.api_port, "RECLAIM_API_PORT"))
    return wanted


def _ports_taken(wanted: list[tuple[str, str, int, str]]) -> list[str]:
    """A line for each listener whose port something else already holds."""
    taken = []
    for part, host, port, setting in wanted:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                taken.append(f"port {port} for the {part} is not free ({exc.strerror}); "
                             f"set {setting}")
    return taken


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[-1].split("/")[0])


def _wait_port(host: str, port: int, what: str,
               supervisor: Supervisor, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in supervisor.children:
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with {proc.returncode}; see var/logs/{name}.log")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not start listening on {host}:{port} within {timeout:.0f}s")


def _load_demo(settings: Settings) -> list[tuple[str, str]]:
    from reclaim.db import get_engine, session_scope
    from reclaim.demo import demo_documents, needs_demo, seed_people

    engine = get_engine(settings.resolved_database_url)
    with session_scope(engine) as session:
        logins = seed_people(session)
        empty = needs_demo(session)
    if empty:
        asyncio.run(_start_claims(settings, demo_documents(date.today())))
    return logins


async def _start_claims(settings: Settings, documents: list) -> None:  # type: ignore[type-arg]
    from reclaim.db import get_engine
    from temporal_client import connect, create_and_start

    client = await connect(settings)
    engine = get_engine(settings.resolved_database_url)
    for document in documents:
        await create_and_start(engine=engine, client=client, settings=settings,
                               document=document)


def _banner(settings: Settings, skipped: set[str], logins: list[tuple[str, str]]) -> None:
    url = settings.resolved_public_url
    console.rule("[bold]Reclaim is running")
    console.print(f"  Web and API   {url}   (OpenAPI: {url}/docs)")
    if _starts("temporal", settings, skipped):
        console.print(f"  Temporal UI   http://127.0.0.1:{settings.temporal_ui_port}")
    if "payer" not in skipped:
        console.print(f"  Sandbox payer {settings.payer_url}/submissions")
    if _starts("smtp", settings, skipped):
        console.print(f"  Mail sink     smtp://127.0.0.1:{settings.smtp_port}"
                      f"  (read at {url}/mail)")
    if logins:
        console.print("  Demo logins (password 'reclaim-demo'): "
                      + ", ".join(f"{u} ({r})" for u, r in logins))
    if settings.admin_token:
        console.print("  Admin API token: the value of RECLAIM_ADMIN_TOKEN")
    console.print(f"  Logs          {settings.data_dir / 'logs'}/   — Ctrl-C stops everything")


def _supervise(supervisor: Supervisor) -> None:
    """Restart what crashes until Ctrl-C/SIGTERM; a crash loop stops everything (exit 1)."""
    stopping = stop_on_signals()
    try:
        supervisor.run(stopping)
    except CrashLoop as exc:
        console.print(f"[red]{exc}. See var/logs/{exc.name}.log")
        raise typer.Exit(1) from exc
    console.print("stopping…")


# ---------------------------------------------------------------- data in


@claims_app.command("load")
def claims_load(file: Path) -> None:
    """Load a JSON list of claim documents and start a workflow for each."""
    from reclaim.claims.schemas import ClaimDocument

    try:
        raw = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise typer.BadParameter(f"{file}: {exc}") from exc
    if not isinstance(raw, list):
        raise typer.BadParameter(f"{file}: expected a JSON list of claim documents")
    documents, refused = [], []
    for i, item in enumerate(raw):
        try:
            documents.append(ClaimDocument.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            refused.append(f"[{i}] {where}: {first['msg']}")
    settings = _settings()
    from reclaim.db import migrate as run_migrations

    run_migrations(settings.resolved_database_url)
    asyncio.run(_start_claims(settings, documents))
    console.print(f"accepted {len(documents)}, refused {len(refused)}")
    for line in refused:
        console.print(f"  refused {line}")
    if refused:
        raise typer.Exit(1)


def _import_csv(file: Path, kind: str, run: Callable[[Session, str], ImportReport]) -> None:
    from reclaim import audit
    from reclaim.db import get_engine, write_scope
    from reclaim.db import migrate as run_migrations

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"{file}: {exc}") from exc
    settings = _settings()
    run_migrations(settings.resolved_database_url)
    # While the stack runs: the worker and the API write too (reclaim/db.py write_scope).
    with write_scope(get_engine(settings.resolved_database_url)) as session:
        report = run(session, text)
        audit.record(session=session, user="cli", action=f"import_{kind}",
                     detail=f"{file.name}: {len(report.created)} added, "
                            f"{len(report.updated)} updated, {len(report.errors)} errors")
    console.print(f"{file}: {len(report.created)} added, {len(report.updated)} updated, "
                  f"{len(report.unchanged)} unchanged, {len(report.errors)} rows refused",
                  soft_wrap=True, highlight=False)
    for error in report.errors:
        console.print(f"  {error}", style="red", soft_wrap=True, highlight=False, markup=False)
    if report.errors:
        raise typer.Exit(1)


@providers_app.command("import")
def providers_import(file: Path) -> None:
    """Import a providers CSV (columns of docs/examples/providers.csv): each row added, or
    updated by its NPI; each bad row reported by row and column (the good ones go in)."""
    from reclaim import providers

    _import_csv(file, "providers",
                lambda session, text: providers.import_csv(session=session, text=text))


@payers_app.command("import")
def payers_import(file: Path) -> None:
    """Import a payers CSV (columns of docs/examples/payers.csv): a new payer added, a known
    one given a new version of its terms when they differ; each bad row reported."""
    from reclaim import payers

    _import_csv(file, "payers",
                lambda session, text: payers.import_csv(session=session, text=text,
                                                        author="cli"))


@claims_app.command("import")
def claims_import(
    files: list[Path],
    as_json: Annotated[bool, typer.Option("--json", help="print each file's answer as JSON "
                                                        "(as POST /api/v1/claims/import)")] = False,
) -> None:
    """Import 837P/837I files from the practice's own system: each good claim created and its
    workflow started; each bad one listed with its segment number and the reason."""
    settings = _settings()
    from reclaim.db import migrate as run_migrations

    run_migrations(settings.resolved_database_url)
    answers = asyncio.run(_import_claims(settings, files))
    if as_json:
        typer.echo(json.dumps(answers, indent=2))
    else:
        _print_imports(answers)
    if any(a.get("error") or a.get("refused") for a in answers):
        raise typer.Exit(1)


async def _import_claims(settings: Settings, files: list[Path]) -> list[dict[str, object]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    from reclaim.db import get_engine
    from temporal_client import connect, import_claims

    engine = get_engine(settings.resolved_database_url)
    client = await connect(settings)
    answers: list[dict[str, object]] = []
    # On stderr: `--json` keeps stdout for the answer.
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        for path in files:
            task = bar.add_task(path.name, total=None)
            try:
                data = path.read_bytes()
            except OSError as exc:
                answers.append({"file": str(path), "error": {"detail": str(exc)}})
                continue

            def advance(done: int, total: int, task: TaskID = task) -> None:
                bar.update(task, completed=done, total=total)

            result = await import_claims(engine=engine, client=client, settings=settings,
                                         raw=data, filename=path.name, username="cli",
                                         progress=advance)
            bar.update(task, total=max(len(result.accepted) + result.duplicates, 1),
                       completed=max(len(result.accepted) + result.duplicates, 1))
            answers.append({"file": str(path), **result.as_dict()})
    return answers


def _print_imports(answers: list[dict[str, object]]) -> None:
    totals = {"accepted": 0, "refused": 0, "duplicates": 0}
    for answer in answers:
        error = answer.get("error")
        if isinstance(error, dict):
            console.print(f"{answer['file']}: not imported: {error.get('detail')}")
            continue
        accepted, refused = answer["accepted"], answer["refused"]
        duplicates = answer["duplicates"]
        if not isinstance(accepted, list) or not isinstance(refused, list):
            raise TypeError("an import answer lists its claims")
        if not isinstance(duplicates, int):
            raise TypeError("an import answer counts its duplicates")
        totals["accepted"] += len(accepted)
        totals["refused"] += len(refused)
        totals["duplicates"] += duplicates
        console.print(f"{answer['file']}: {answer['file_type']}  accepted {len(accepted)}  "
                      f"refused {len(refused)}  duplicates {duplicates}")
        for claim in refused:
            console.print(f"  refused {claim['patient_control_number']} (segment "
                          f"{claim['segment']}): {claim['reason']}", markup=False)
    console.print(f"files: {len(answers)}  accepted: {totals['accepted']}  refused: "
                  f"{totals['refused']}  duplicates: {totals['duplicates']}")


@app.command("import-era")
def import_era(files: list[Path]) -> None:
    """Import 835 (or 999/277CA) files: store, match to claims, signal their workflows."""
    settings = _settings()
    from reclaim.db import migrate as run_migrations

    run_migrations(settings.resolved_database_url)
    summary = asyncio.run(_import(settings, files))
    console.print(
        f"files: {summary['files']}  accepted: {summary['accepted']}  "
        f"refused: {len(summary['refused'])}  duplicates: {summary['duplicates']}  "
        f"claims matched: {summary['matched']}  unmatched: {summary['unmatched']}"
    )
    for line in summary["refused"]:
        console.print(f"  refused {line}")
    if summary["refused"]:
        raise typer.Exit(1)


class ImportSummary(TypedDict):
    files: int
    accepted: int
    refused: list[str]
    duplicates: int
    matched: int
    unmatched: int


async def _import(settings: Settings, files: list[Path]) -> ImportSummary:
    from reclaim.db import get_engine, session_scope
    from reclaim.edi.ingest import ingest_file
    from reclaim.edi.outbox import deliver_signals, mark_signalled
    from temporal_client import connect

    engine = get_engine(settings.resolved_database_url)
    client = None
    summary: ImportSummary = {"files": len(files), "accepted": 0, "refused": [],
                              "duplicates": 0, "matched": 0, "unmatched": 0}
    for path in track(files, description="importing", console=console):
        try:
            data = path.read_bytes()
        except OSError as exc:
            summary["refused"].append(f"{path}: {exc}")
            continue
        with session_scope(engine) as session:
            result = ingest_file(session=session, raw=data, source="cli", filename=path.name)
        if result.error is not None:
            summary["refused"].append(f"{path}: {result.error.get('detail')}")
            continue
        summary["accepted"] += 1
        summary["duplicates"] += int(result.duplicate)
        summary["matched"] += result.matched
        summary["unmatched"] += result.unmatched
        if result.signals:
            client = client or await connect(settings)
            await deliver_signals(client, result.signals)
        if client is not None or not result.signals:
            with session_scope(engine) as session:
                mark_signalled(session=session, file_id=result.file_id)
    return summary


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="coder, front_desk, biller, manager or admin")],
    email: Annotated[str | None, typer.Option()] = None,
    password: Annotated[str | None, typer.Option(prompt=True, hide_input=True,
                                                 confirmation_prompt=True)] = None,
) -> None:
    """Add a user; prints its API token once."""
    from reclaim.auth import UserError, check_password, create_user
    from reclaim.db import get_engine, session_scope
    from reclaim.db import migrate as run_migrations

    settings = _settings()
    try:
        if password:  # from the prompt or --password: the policy applies (demo users do not)
            check_password(password, user_inputs=(username, email or ""))
    except UserError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    run_migrations(settings.resolved_database_url)
    try:
        with session_scope(get_engine(settings.resolved_database_url)) as session:
            user, token = create_user(session=session, username=username, role=role,
                                      password=password, email=email)
    except UserError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    console.print(f"user {user.username} ({user.role}) created; API token: {token}")


def _change_user(username: str, change: Callable[[Session, User], str]) -> None:
    from sqlmodel import select

    from reclaim import audit
    from reclaim.auth import UserError
    from reclaim.db import get_engine, session_scope
    from reclaim.db import migrate as run_migrations
    from reclaim.models import User as UserRow

    settings = _settings()
    run_migrations(settings.resolved_database_url)
    try:
        with session_scope(get_engine(settings.resolved_database_url)) as session:
            user = session.exec(select(UserRow).where(UserRow.username == username)).first()
            if user is None:
                raise UserError(f"no user {username!r}")
            action = change(session, user)
            audit.record(session=session, user="cli", action=action, detail=username)
    except UserError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    console.print(f"{username}: {action.replace('_', ' ')}; every session of the user ended")


@users_app.command("passwd")
def users_passwd(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)],
) -> None:
    """Set a user's password (the policy applies) and end its sessions."""
    from reclaim.sessions import set_password

    def change(session: Session, user: User) -> str:
        set_password(session=session, user=user, password=password)
        return "change_password"

    _change_user(username, change)


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: its sessions and API token stop working at once."""
    from reclaim.sessions import set_active

    def change(session: Session, user: User) -> str:
        set_active(session=session, user=user, active=False)
        return "disable_user"

    _change_user(username, change)


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Enable a disabled user again (it signs in anew)."""
    from reclaim.sessions import set_active

    def change(session: Session, user: User) -> str:
        set_active(session=session, user=user, active=True)
        return "enable_user"

    _change_user(username, change)


@codes_app.command("import-ncci")
def import_ncci_cmd(file: Path) -> None:
    """Load CMS NCCI procedure-to-procedure edits."""
    _import_codes(file, "ncci")


@codes_app.command("import-mue")
def import_mue_cmd(file: Path) -> None:
    """Load CMS medically unlikely edits (MUE limits)."""
    _import_codes(file, "mue")


def _import_codes(file: Path, kind: str) -> None:
    from reclaim.codes.ncci import import_mue, import_ncci
    from reclaim.db import get_engine, session_scope
    from reclaim.db import migrate as run_migrations

    settings = _settings()
    run_migrations(settings.resolved_database_url)
    loader = import_ncci if kind == "ncci" else import_mue
    try:
        with session_scope(get_engine(settings.resolved_database_url)) as session:
            count = loader(session=session, path=file)
    except (OSError, ValueError) as exc:
        console.print(f"[red]{file}: {exc}")
        raise typer.Exit(2) from exc
    console.print(f"{count} rows loaded from {file}")


if __name__ == "__main__":
    app()
