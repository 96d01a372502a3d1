"""Settings of the sandbox payer (`RECLAIM_DATA_DIR`, `RECLAIM_PAYER_*`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

PACKAGED_RULES = Path(__file__).with_name("rules.toml")


class PayerConfigError(ValueError):
    """A payer setting that cannot be used; the message names the variable."""


class PayerConfig(BaseModel):
    data_dir: Path = Path("var")
    ack_delay: float = Field(default=2.0, ge=0)  # seconds from receipt to the 277CA
    era_delay: float = Field(default=5.0, ge=0)  # seconds from receipt to the 835
    rules_path: Path | None = None  # None: the packaged rules.toml
    seed: int = 0
    tick: float = Field(default=0.2, gt=0)  # how often due outputs are released

    @property
    def resolved_rules_path(self) -> Path:
        return self.rules_path or PACKAGED_RULES

    @property
    def database_path(self) -> Path:
        return self.data_dir / "payer.db"

    @property
    def fast_mode(self) -> bool:
        return self.ack_delay == 0 and self.era_delay == 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PayerConfig:
        env = os.environ if environ is None else environ
        names = {
            "data_dir": "RECLAIM_DATA_DIR",
            "ack_delay": "RECLAIM_PAYER_ACK_DELAY",
            "era_delay": "RECLAIM_PAYER_ERA_DELAY",
            "rules_path": "RECLAIM_PAYER_RULES",
            "seed": "RECLAIM_PAYER_SEED",
        }
        values = {field: env[var] for field, var in names.items() if env.get(var, "") != ""}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0])
            raise PayerConfigError(
                f"{names.get(field, field)}={values.get(field)!r}: {first['msg']}"
            ) from exc
