"""The contracts hold: every activity stub the workflows call has an implementation the worker
registers under the same name with the same types, and the layers import one way."""

from __future__ import annotations

import ast
import inspect
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity

from activities.claims import ClaimActivities
from activities.edi import EdiActivities
from activities.work import WorkActivities
from contracts import activities as stubs

ROOT = Path(__file__).resolve().parents[2]
IMPLEMENTATIONS = (ClaimActivities, WorkActivities, EdiActivities)


def _name(fn: Callable[..., Any]) -> str | None:
    definition = activity._Definition.from_callable(fn)
    return definition.name if definition else None


def _stubs() -> dict[str, Callable[..., Any]]:
    found = {}
    for _, fn in inspect.getmembers(stubs, inspect.isfunction):
        name = _name(fn)
        if name is not None:
            found[name] = fn
    return found


def _implementations() -> dict[str, Callable[..., Any]]:
    found = {}
    for cls in IMPLEMENTATIONS:
        for _, fn in inspect.getmembers(cls, inspect.isfunction):
            name = _name(fn)
            if name is not None:
                assert name not in found, f"two activities named {name}"
                found[name] = fn
    return found


def _types(fn: Callable[..., Any], module: Any) -> tuple[list[Any], Any]:
    hints = typing.get_type_hints(fn, vars(module))
    ret = hints.pop("return", None)
    return list(hints.values()), ret


def test_every_stub_is_implemented_with_its_types() -> None:
    implemented = _implementations()
    assert _stubs(), "no stubs found"
    for name, stub in _stubs().items():
        assert name in implemented, f"stub {name} has no implementation"
        impl = implemented[name]
        assert _types(stub, stubs) == _types(impl, inspect.getmodule(impl)), name


def test_every_implementation_has_a_stub() -> None:
    assert set(_implementations()) == set(_stubs())


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


TOP = ("contracts", "reclaim", "workflows", "activities", "api", "cli", "worker",
       "temporal_client")
# What each layer may import of the project (arrows point one way).
ALLOWED = {
    "contracts": {"contracts"},
    "reclaim": {"contracts", "reclaim"},
    "workflows": {"contracts", "workflows"},
    "activities": {"contracts", "reclaim", "activities", "temporal_client"},
    "temporal_client": {"contracts", "reclaim", "workflows"},
    "api": {"contracts", "reclaim", "api", "temporal_client"},
}


def _modules() -> Iterator[tuple[str, Path]]:
    for layer in ALLOWED:
        target = ROOT / layer
        paths = sorted(target.rglob("*.py")) if target.is_dir() else [ROOT / f"{layer}.py"]
        for path in paths:
            yield layer, path


@pytest.mark.parametrize(("layer", "path"), list(_modules()),
                         ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else v)
def test_layers_import_one_way(layer: str, path: Path) -> None:
    used = {name.split(".")[0] for name in _imports(path)} & set(TOP)
    assert used <= ALLOWED[layer], f"{path.relative_to(ROOT)} imports {used - ALLOWED[layer]}"
