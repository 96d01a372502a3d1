from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.kpi.factories import prepare


@pytest.fixture
def db(fresh_engine: Engine) -> Engine:
    return prepare(fresh_engine)
