"""The rules file loads, and a bad one fails with the file and the key named; the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from reclaim.sandbox_payer.config import PACKAGED_RULES, PayerConfig, PayerConfigError
from reclaim.sandbox_payer.rules import RulesError, load_rules

GOOD = """
[fee_schedules.BASIC]
"99213" = 90

[payers.TESTPAYER]
name = "TEST PAYER"
tax_id = "990000009"
timely_filing_days = 90
fee_schedule = "BASIC"
"""


def test_packaged_rules_have_the_three_payers() -> None:
    rules = load_rules(PACKAGED_RULES)
    assert set(rules.payers) == {"SANDBOX", "ACMEHEALTH", "MCAREDEMO"}
    sandbox = rules.payers["SANDBOX"]
    assert (sandbox.random_denial_percent, sandbox.coinsurance_percent) == (0, 0)
    assert sandbox.timely_filing_days == 365
    assert rules.payers["ACMEHEALTH"].random_denial_percent == 12
    assert rules.payers["MCAREDEMO"].random_denial_percent == 8
    assert rules.payer("sandbox") is sandbox


def test_a_small_rules_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(GOOD)
    payer = load_rules(path).payers["TESTPAYER"]
    assert str(payer.fee_schedule["99213"]) == "90.00"
    assert payer.default_allowed_percent == 100


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("coinsurance_percent = 120\n", "payers.TESTPAYER.coinsurance_percent"),
        ('filing_indicator = "C"\n', "payers.TESTPAYER.filing_indicator"),
        ('colour = "red"\n', "payers.TESTPAYER.colour"),
        ("random_denial_percent = 5\n", "random_denials list"),
        (
            'bundled_pairs = [{ column1 = "80053" }]\n',
            "payers.TESTPAYER.bundled_pairs.0.column2",
        ),
        (
            'random_denials = [{ reason = "16", weight = 0 }]\n',
            "payers.TESTPAYER.random_denials.0.weight",
        ),
        (
            'ineligible_members = [{ member_id = "X", group = "ZZ", reason = "27" }]\n',
            "payers.TESTPAYER.ineligible_members.0.group",
        ),
    ],
)
def test_bad_rules_name_the_key(tmp_path: Path, change: str, named: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(GOOD.replace('fee_schedule = "BASIC"\n', 'fee_schedule = "BASIC"\n' + change))
    with pytest.raises(RulesError, match=named.replace(".", r"\.")) as error:
        load_rules(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (GOOD.replace('fee_schedule = "BASIC"', 'fee_schedule = "GOLD"'), "fee_schedules.GOLD"),
        (GOOD.replace("[payers.TESTPAYER]", "[payer.TESTPAYER]"), "'payer'"),
        ("[fee_schedules.X]\n", "no \\[payers"),
        ("payers = [", "not valid TOML"),
    ],
)
def test_bad_rules_structure_is_named(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(RulesError, match=named):
        load_rules(path)


def test_missing_rules_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="nope.toml"):
        load_rules(tmp_path / "nope.toml")


def test_config_from_env() -> None:
    config = PayerConfig.from_env(
        {
            "RECLAIM_DATA_DIR": "/tmp/x",
            "RECLAIM_PAYER_ACK_DELAY": "0",
            "RECLAIM_PAYER_ERA_DELAY": "0.5",
            "RECLAIM_PAYER_RULES": "/etc/rules.toml",
            "RECLAIM_PAYER_SEED": "42",
        }
    )
    assert config.database_path == Path("/tmp/x/payer.db")
    assert (config.ack_delay, config.era_delay, config.seed) == (0, 0.5, 42)
    assert config.resolved_rules_path == Path("/etc/rules.toml")
    defaults = PayerConfig.from_env({})
    assert (defaults.data_dir, defaults.ack_delay, defaults.era_delay) == (Path("var"), 2, 5)
    assert defaults.resolved_rules_path == PACKAGED_RULES
    assert not defaults.fast_mode
    assert PayerConfig(ack_delay=0, era_delay=0).fast_mode


@pytest.mark.parametrize(
    ("name", "value"), [("RECLAIM_PAYER_ACK_DELAY", "soon"), ("RECLAIM_PAYER_ERA_DELAY", "-1")]
)
def test_bad_setting_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(PayerConfigError, match=name):
        PayerConfig.from_env({name: value})
