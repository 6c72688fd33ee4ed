"""Is a message schema still compatible with what consumers were built against?

Public topics keep *full* compatibility within a schema version: a new consumer must
read old messages and an old consumer new ones (consumers ignore unknown fields). So
within a version you may add optional fields and enum values, and loosen constraints;
anything else needs a new ``SCHEMA_VERSION`` beside the old one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_TIGHTER_IF_HIGHER = ("minLength", "minimum", "exclusiveMinimum", "minItems")
_TIGHTER_IF_LOWER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable reasons why ``new`` breaks consumers of ``old`` (empty: compatible)."""
    comparison = _Comparison(old, new)
    comparison.compare(old, new, "")
    return comparison.problems


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: dict[str, Any] = root.get("$defs", {}).get(ref.rsplit("/", 1)[1], {})
        return resolved
    return schema


def _types(schema: dict[str, Any]) -> set[str]:
    if "anyOf" in schema:
        return {t for branch in schema["anyOf"] for t in _types(branch)}
    kind = schema.get("type")
    if isinstance(kind, list):
        return set(kind)
    if kind:
        return {kind}
    if "$ref" in schema:
        return {"ref:" + schema["$ref"].rsplit("/", 1)[1]}
    if "const" in schema:
        return {type(schema["const"]).__name__}
    return set()


class _Comparison:
    """Walks an old and a new schema side by side, collecting what breaks."""

    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any]) -> None:
        self.old_root, self.new_root = old_root, new_root
        self.problems: list[str] = []

    def compare(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        where = path or "(message)"
        if "$ref" in old and "$ref" in new:
            old, new = _resolve(old, self.old_root), _resolve(new, self.new_root)
        old_types, new_types = _types(old), _types(new)
        if old_types and new_types and old_types != new_types:
            self._add(where, f"type changed from {sorted(old_types)} to {sorted(new_types)}")
            return
        if "const" in old and old.get("const") != new.get("const"):
            self._add(where, f"constant changed from {old['const']!r} to {new.get('const')!r}")
        removed = set(old.get("enum", ())) - set(new.get("enum", old.get("enum", ())))
        if removed:
            self._add(where, f"enum values removed: {sorted(removed)}")
        if "pattern" in new and old.get("pattern") != new["pattern"]:
            self._add(where, f"pattern changed from {old.get('pattern')!r} to {new['pattern']!r}")
        for key in _TIGHTER_IF_HIGHER:
            if key in new and (key not in old or new[key] > old[key]):
                self._add(where, f"{key} tightened from {old.get(key)} to {new[key]}")
        for key in _TIGHTER_IF_LOWER:
            if key in new and (key not in old or new[key] < old[key]):
                self._add(where, f"{key} tightened from {old.get(key)} to {new[key]}")
        for old_branch, new_branch in zip(old.get("anyOf", []), new.get("anyOf", []), strict=False):
            self.compare(old_branch, new_branch, path)
        if "items" in old and "items" in new:
            self.compare(old["items"], new["items"], f"{path}[]")
        self._compare_properties(old, new, path)

    def _compare_properties(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, old_field in old_props.items():
            field_path = f"{path}.{name}" if path else name
            if name not in new_props:
                self._add(field_path, "field removed")
            elif name in old_required and name not in new_required:
                self._add(field_path, "no longer required (consumers rely on it)")
            else:
                self.compare(old_field, new_props[name], field_path)
        for name in sorted(new_required - old_required - set(old_props)):
            self._add(
                f"{path}.{name}" if path else name, "new required field (old messages lack it)"
            )

    def _add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")


def check_against_committed(committed_dir: Path, current: dict[str, str]) -> list[str]:
    """Breaking changes of the generated schemas (``current``: path → JSON) against
    the committed ones. Removing a committed type is breaking too."""
    problems: list[str] = []
    for path in sorted(committed_dir.rglob("*.json")):
        relative = str(path.relative_to(committed_dir))
        if relative == "asyncapi.json":
            continue
        if relative not in current:
            problems.append(f"{relative}: message type removed (keep the old version)")
            continue
        old, new = json.loads(path.read_text()), json.loads(current[relative])
        problems += [f"{relative}: {p}" for p in breaking_changes(old, new)]
    return problems
