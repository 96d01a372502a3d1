from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture
def db(fresh_engine: Engine) -> Engine:
    return fresh_engine
