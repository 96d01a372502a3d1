"""Secrets at start: the embedded stack makes its payload key (0600, reused); every other
deployment must bring its own payload key and metrics token, or nothing starts."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from reclaim.codec import KeyRing, key_from_passphrase
from reclaim.config import Settings
from reclaim.keys import DEFAULT_PAYLOAD_KEY, InsecureSetting, secured

TOKEN = "metrics-token-of-this-deployment"


def test_the_embedded_stack_makes_its_key_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    first = secured(settings)
    key_file = tmp_path / "var" / "payload_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.payload_key != DEFAULT_PAYLOAD_KEY
    ring = KeyRing.from_setting(first.payload_key)
    assert len(ring.primary.secret) == 32
    assert len(ring.keys) == 1
    again = secured(Settings(data_dir=tmp_path / "var"))
    assert again.payload_key == first.payload_key  # reused, not remade
    other = secured(Settings(data_dir=tmp_path / "elsewhere"))
    assert other.payload_key != first.payload_key  # random per install


def test_an_explicit_key_wins_in_the_embedded_stack(tmp_path: Path) -> None:
    mine = "my own passphrase for the laptop"
    assert secured(Settings(data_dir=tmp_path, payload_key=mine)).payload_key == mine
    assert not (tmp_path / "payload_key").exists()


def test_an_install_from_before_generated_keys_still_opens_its_histories(tmp_path: Path) -> None:
    (tmp_path / "reclaim.db").write_bytes(b"")  # the data dir of an earlier run
    ring = KeyRing.from_setting(secured(Settings(data_dir=tmp_path)).payload_key)
    legacy = key_from_passphrase(DEFAULT_PAYLOAD_KEY)
    assert ring.primary.kid != legacy.kid  # new payloads: the new key
    assert ring.get(legacy.kid).secret == legacy.secret  # old payloads still decrypt


@pytest.mark.parametrize(("key", "says"), [
    (DEFAULT_PAYLOAD_KEY, "default published"),
    ("demo-only payload passphrase - change me", "default published"),
    ("", "empty"),
    ("   ", "empty"),
    ("short passphrase 1234", "at least 32"),
    ("k1:not*base64", "RECLAIM_PAYLOAD_KEY item 1"),
])
def test_a_shared_deployment_refuses_a_weak_payload_key(key: str, says: str) -> None:
    settings = Settings(temporal_address="temporal:7233", payload_key=key)
    with pytest.raises(InsecureSetting, match="RECLAIM_PAYLOAD_KEY") as raised:
        secured(settings, metrics_token=TOKEN, serves_metrics=True)
    assert says in str(raised.value)


def test_a_shared_deployment_needs_a_metrics_token_where_metrics_are_served() -> None:
    settings = Settings(temporal_address="temporal:7233",
                        payload_key="k1:" + "A" * 43 + "=")
    for token in (None, "", "short"):
        with pytest.raises(InsecureSetting, match="RECLAIM_METRICS_TOKEN"):
            secured(settings, metrics_token=token, serves_metrics=True)
    assert secured(settings, metrics_token=TOKEN, serves_metrics=True) == settings
    assert secured(settings, metrics_token=None) == settings  # a worker serves no /metrics


def test_reclaim_api_refuses_to_start_and_names_the_setting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLAIM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECLAIM_TEMPORAL_ADDRESS", "temporal:7233")
    monkeypatch.delenv("RECLAIM_PAYLOAD_KEY", raising=False)
    monkeypatch.delenv("RECLAIM_METRICS_TOKEN", raising=False)
    monkeypatch.setenv("RECLAIM_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    for command in (["api"], ["worker"]):
        result = CliRunner().invoke(cli.app, command)
        assert result.exit_code == 2, result.output
        assert "refusing to start" in result.output
        assert "RECLAIM_PAYLOAD_KEY" in result.output
    monkeypatch.setenv("RECLAIM_PAYLOAD_KEY", "cli test payload passphrase, 32 characters+")
    result = CliRunner().invoke(cli.app, ["api"])
    assert result.exit_code == 2
    assert "RECLAIM_METRICS_TOKEN" in result.output
    assert not (tmp_path / "never.db").exists()  # refused before anything was touched


def test_keygen_prints_a_usable_ring_item() -> None:
    result = CliRunner().invoke(cli.app, ["keygen", "--kid", "k2027a"])
    assert result.exit_code == 0
    ring = KeyRing.from_setting(result.output.strip())
    assert ring.primary.kid == "k2027a"
    assert len(ring.primary.secret) == 32
    bad = CliRunner().invoke(cli.app, ["keygen", "--kid", "bad id"])
    assert bad.exit_code == 2
