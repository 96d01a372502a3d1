"""Portable SQL pieces of the KPI queries: one SQL function compiled for SQLite and
PostgreSQL, conditional counts and sums, and reading an aggregate's rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Executable, Float, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, expression
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session

ZERO = Decimal("0.00")


class days_between(expression.FunctionElement[float]):  # noqa: N801 (a SQL function)
    """Days (fractional) from the first datetime argument to the second."""

    type = Float()
    name = "days_between"
    inherit_cache = True


@compiles(days_between)
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"(julianday({compiler.process(end, **kw)})"
        f" - julianday({compiler.process(start, **kw)}))"
    )


@compiles(days_between, "postgresql")
def _days_between_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)}"
        f" - {compiler.process(start, **kw)})) / 86400.0)"
    )


def fetch_rows(session: Session, query: Executable) -> list[Any]:
    """Run an aggregate (Core) query on the session's connection; its rows as tuples."""
    return list(session.connection().execute(query).all())


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def sum_if(condition: ColumnElement[bool], value: Any) -> ColumnElement[Decimal]:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))
