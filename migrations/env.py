"""Alembic environment: the SQLModel metadata of reclaim.models (and the code-set tables)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import reclaim.codes.ncci  # noqa: F401  (registers the NCCI/MUE tables)
import reclaim.denials.store  # noqa: F401  (routing table versions)
import reclaim.models  # noqa: F401
from reclaim.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
