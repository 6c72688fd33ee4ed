"""The skeleton of docs/architecture.md ("Inside a service: one skeleton") holds for
every service: the same folders, a domain that imports nothing but the standard library,
eventsourcing's domain module and pure value libraries, and imports that point inwards
(nothing but the entry points reaches for ``http``, ``messaging`` or ``wiring``)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p for p in ROOT.glob("services/*/src/slotline/*") if p.is_dir())
EVENT_SOURCED = [p for p in PACKAGES if p.name != "web"]
"""``web`` is the faces (pages over the other services' APIs): no store, no messaging."""

PURE_LIBRARIES = {
    "phonenumbers",
    "pydantic",
    "slotline.events.clock",
    "slotline.events.privacy.personal",
}
"""Libraries a domain may use: values and rules only, no I/O (phone number rules,
validated values, the shared time value types, the declaration of an event's personal
fields — the store seals them)."""

ENTRY_POINTS = {"__main__", "wiring", "cli", "testing"}
"""Modules that assemble a service or drive it from outside: they may import anything."""


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _part(package: Path, path: Path) -> str:
    return path.relative_to(package).parts[0].removesuffix(".py")


def _has(package: Path, name: str) -> bool:
    return (package / f"{name}.py").is_file() or (package / name / "__init__.py").is_file()


def test_every_service_is_found() -> None:
    assert len(EVENT_SOURCED) == 6, [p.name for p in PACKAGES]


@pytest.mark.parametrize("package", EVENT_SOURCED, ids=lambda p: p.name)
def test_the_same_folders_in_every_service(package: Path) -> None:
    needed = ["domain", "application", "http", "messaging", "settings", "wiring", "__main__"]
    assert [name for name in needed if not _has(package, name)] == []


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_the_domain_imports_nothing_outward(package: Path) -> None:
    own = f"slotline.{package.name}.domain"
    outward = {
        f"{path.relative_to(package)}: {module}"
        for path in (package / "domain").rglob("*.py")
        for module in _imports(path)
        if module.split(".")[0] not in sys.stdlib_module_names
        and not module.startswith((own, "eventsourcing.domain"))
        and not any(module == lib or module.startswith(f"{lib}.") for lib in PURE_LIBRARIES)
    }
    assert outward == set()


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_only_entry_points_reach_for_adapters_and_wiring(package: Path) -> None:
    base = f"slotline.{package.name}."
    wrong = set()
    for path in package.rglob("*.py"):
        part = _part(package, path)
        if part in ENTRY_POINTS:
            continue
        for module in _imports(path):
            target = module.removeprefix(base).split(".")[0] if module.startswith(base) else ""
            if target in {"http", "messaging", *ENTRY_POINTS} and target != part:
                wrong.add(f"{path.relative_to(package)}: {module}")
    assert wrong == set()
