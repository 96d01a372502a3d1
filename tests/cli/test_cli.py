"""`reclaim claims load` and `reclaim import-era`: summaries of what was accepted, refused (and
why) and unmatched."""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from cli import app
from tests.conftest import fresh_database_url
from tests.ports import free_port
from tests.support import claim_doc

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "x12"


@pytest.fixture
def cli_env(tmp_path: Path, dev_env: WorkflowEnvironment,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECLAIM_DATABASE_URL", fresh_database_url(tmp_path))
    monkeypatch.setenv("RECLAIM_TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    monkeypatch.setenv("RECLAIM_PAYLOAD_KEY", "cli test payload passphrase, 32 characters+")
    monkeypatch.setenv("RECLAIM_TASK_QUEUE", f"cli-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("RECLAIM_DATA_DIR", str(tmp_path))
    return tmp_path


def test_claims_load_accepts_the_good_and_names_what_is_wrong(cli_env: Path) -> None:
    bad = claim_doc()
    del bad["patient"]["birth_date"]
    path = cli_env / "claims.json"
    path.write_text(json.dumps([claim_doc(), bad, claim_doc()]))
    result = CliRunner().invoke(app, ["claims", "load", str(path)])
    assert result.exit_code == 1, result.output
    assert "accepted 2, refused 1" in result.output
    assert "[1] patient.birth_date" in result.output


def test_import_era_summarises_accepted_refused_and_unmatched(cli_env: Path) -> None:
    garbled = cli_env / "garbled.835"
    garbled.write_bytes(b"ISA*00*nope~")
    good = FIXTURES / "835" / "pyx12-835_mult_loops.txt"
    result = CliRunner().invoke(app, ["import-era", str(good), str(garbled), str(good)])
    assert result.exit_code == 1, result.output
    assert "files: 3  accepted: 2  refused: 1  duplicates: 1" in result.output
    assert "unmatched: " in result.output
    assert "unmatched: 0" not in result.output
    assert "garbled.835" in result.output


def test_up_names_a_port_already_taken_and_starts_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "var"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        monkeypatch.setenv("RECLAIM_DATA_DIR", str(data))
        monkeypatch.setenv("RECLAIM_DATABASE_URL", fresh_database_url(tmp_path))
        monkeypatch.setenv("RECLAIM_API_PORT", str(port))
        monkeypatch.setenv("RECLAIM_PAYER_URL", f"http://127.0.0.1:{free_port()}")
        result = CliRunner().invoke(app, ["up", "--skip", "temporal", "--skip", "smtp"])
    assert result.exit_code != 0
    message = str(result.exception) if isinstance(result.exception, SystemExit) else ""
    assert f"port {port} for the API is not free" in message, result.output
    assert "RECLAIM_API_PORT" in message
    assert "sandbox payer" not in message
    assert not data.exists()


SAMPLES = Path("/work/shared/samples/x12")


def test_claims_import_lists_accepted_refused_and_duplicates(cli_env: Path) -> None:
    good = SAMPLES / "837I" / "lfh-two-claims-single-provider.837i"
    broken = cli_env / "broken.837"
    broken.write_text((SAMPLES / "837P" / "uhin-837.edi").read_text().replace(
        "CLM*1606*2*", "CLM*1606*20*"))
    result = CliRunner().invoke(app, ["claims", "import", str(good), str(broken), str(good)])
    assert result.exit_code == 1, result.output
    assert "files: 3  accepted: 2  refused: 1  duplicates: 2" in result.output
    assert "refused 1606 (segment 21): CLM02 total charge 20" in result.output

    again = CliRunner().invoke(app, ["claims", "import", "--json", str(good)])
    assert again.exit_code == 0, again.output
    [answer] = json.loads(again.stdout)
    assert (answer["file_type"], answer["accepted"], answer["duplicates"]) == ("837I", [], 2)
