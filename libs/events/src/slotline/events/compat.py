"""Is a message schema still compatible with what consumers were built against?

Public topics keep *full* compatibility within a schema version, because services
roll out one at a time and analysts replay topics from the start: a consumer built
against the old schema must read new messages, and a new consumer old ones. Within a
version you may add optional fields, loosen constraints and rename ``$defs``; anything
else — removing or requiring a field, changing or widening a type, adding or removing
enum values (consumers validate enums strictly), tightening a constraint — needs a
new ``SCHEMA_VERSION`` beside the old one.

Two changes look like tightening and are not (docs/adr/0007):

- requiring an envelope field in ``ALWAYS_WRITTEN`` on a topic only Slotline writes: every
  message ever written there carries it, so readers gain a guarantee and no writer changes;
- stating a rule the contract's validators already enforce (an ``anyOf`` beside an
  object's ``type``, a ``not``): the guard compares types, fields and bounds, never such
  rules, which the parser applied before the schema said so (the schema-instance test
  holds every schema to what the parser accepts).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from slotline.events.envelope import ALWAYS_WRITTEN
from slotline.events.topics import WRITTEN_OUTSIDE

Schema = dict[str, Any]

_TIGHTER_IF_HIGHER = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_TIGHTER_IF_LOWER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_MUST_NOT_APPEAR = ("pattern", "format", "multipleOf")


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Human-readable reasons why ``new`` breaks consumers of ``old`` (empty: compatible)."""
    comparison = _Comparison(old, new)
    comparison.compare(old, new, "")
    return comparison.problems


def _kind(schema: Schema) -> str:
    """The JSON type a schema accepts: 'string', 'object', …; 'any' when unconstrained."""
    if isinstance(schema.get("type"), str):
        return str(schema["type"])
    if "$ref" in schema:
        return f"external {schema['$ref']}"
    values = [schema["const"]] if "const" in schema else schema.get("enum", [])
    names = {
        "str": "string",
        "int": "integer",
        "float": "number",
        "bool": "boolean",
        "NoneType": "null",
    }
    kinds = sorted({names.get(type(v).__name__, type(v).__name__) for v in values})
    return "|".join(kinds) or "any"


class _Comparison:
    """Walks an old and a new schema side by side, collecting what breaks."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root, self.new_root = old_root, new_root
        self.problems: list[str] = []
        self._visiting: set[tuple[int, int]] = set()

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        old_branches = self._branches(old, self.old_root)
        new_branches = self._branches(new, self.new_root)
        if len(old_branches) == len(new_branches) == 1:
            self._compare_one(old_branches[0], new_branches[0], path)
        else:
            self._compare_unions(old_branches, new_branches, path)

    def _branches(self, schema: Schema, root: Schema) -> list[Schema]:
        """The alternatives a (resolved) schema accepts: anyOf/oneOf branches, or itself."""
        schema = _resolve(schema, root)
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives and "type" not in schema:  # beside a type: a rule, not alternatives
            return [b for branch in alternatives for b in self._branches(branch, root)]
        if isinstance(schema.get("type"), list):
            return [{**schema, "type": kind} for kind in schema["type"]]
        return [schema]

    def _compare_unions(self, old: list[Schema], new: list[Schema], path: str) -> None:
        old_kinds, new_kinds = sorted({_kind(b) for b in old}), sorted({_kind(b) for b in new})
        if old_kinds != new_kinds:
            self._add(path, f"type changed from {old_kinds} to {new_kinds}")
            return
        by_kind: dict[str, list[Schema]] = defaultdict(list)
        for branch in new:
            by_kind[_kind(branch)].append(branch)
        for branch in old:
            candidates = by_kind[_kind(branch)]
            if candidates:
                self._compare_one(branch, candidates.pop(0), path)

    def _compare_one(self, old: Schema, new: Schema, path: str) -> None:
        old_kind, new_kind = _kind(old), _kind(new)
        if old_kind != new_kind:
            self._add(path, f"type changed from [{old_kind!r}] to [{new_kind!r}]")
            return
        pair = (id(old), id(new))
        if pair in self._visiting:
            return  # a recursive schema: this pair is already being compared further up
        self._visiting.add(pair)
        try:
            self._compare_values(old, new, path)
            self._compare_constraints(old, new, path)
            self._compare_items(old, new, path)
            self._compare_properties(old, new, path)
        finally:
            self._visiting.discard(pair)

    def _compare_values(self, old: Schema, new: Schema, path: str) -> None:
        if "const" in old and old["const"] != new.get("const"):
            self._add(path, f"constant changed from {old['const']!r} to {new.get('const')!r}")
        elif "const" in new and "const" not in old:
            self._add(path, f"restricted to the constant {new['const']!r}")
        if "enum" in new and "enum" not in old:
            self._add(path, f"restricted to enum values {new['enum']}")
        elif "enum" in old:
            old_values: list[Any] = old["enum"]
            new_values: list[Any] = new.get("enum", old_values)
            if removed := [v for v in old_values if v not in new_values]:
                self._add(path, f"enum values removed: {removed}")
            if added := [v for v in new_values if v not in old_values]:
                self._add(path, f"enum values added: {added} (older consumers reject them)")

    def _compare_constraints(self, old: Schema, new: Schema, path: str) -> None:
        for key in _MUST_NOT_APPEAR:
            if key in new and old.get(key) != new[key]:
                self._add(path, f"{key} changed from {old.get(key)!r} to {new[key]!r}")
        for key in _TIGHTER_IF_HIGHER:
            if key in new and (key not in old or new[key] > old[key]):
                self._add(path, f"{key} tightened from {old.get(key)} to {new[key]}")
        for key in _TIGHTER_IF_LOWER:
            if key in new and (key not in old or new[key] < old[key]):
                self._add(path, f"{key} tightened from {old.get(key)} to {new[key]}")
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            self._add(path, "items must now be unique")

    def _compare_items(self, old: Schema, new: Schema, path: str) -> None:
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            self.compare(old["items"], new["items"], f"{path}[]")
        old_tuple, new_tuple = old.get("prefixItems", []), new.get("prefixItems", [])
        for index, (old_item, new_item) in enumerate(zip(old_tuple, new_tuple, strict=False)):
            self.compare(old_item, new_item, f"{path}[{index}]")
        old_values, new_values = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_values, dict) and isinstance(new_values, dict):
            self.compare(old_values, new_values, f"{path}{{}}")

    def _compare_properties(self, old: Schema, new: Schema, path: str) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, old_field in old_props.items():
            where = _join(path, name)
            if name not in new_props:
                required = name in old_required
                self._add(where, "field removed" if required else "optional field removed")
            elif name in old_required and name not in new_required:
                self._add(where, "no longer required (consumers rely on it)")
            elif name in new_required and name not in old_required:
                if not self._always_written(path, name):
                    self._add(where, "now required (old messages may lack it)")
            else:
                self.compare(old_field, new_props[name], where)
        for name in sorted(set(new_props) - set(old_props)):
            if name in new_required:
                self._add(_join(path, name), "new required field (old messages lack it)")
            elif old.get("additionalProperties") is False:
                self._add(_join(path, name), "new field on a closed object (old readers reject it)")
        if (
            new.get("additionalProperties") is False
            and old.get("additionalProperties") is not False
        ):
            self._add(path, "closed to unknown fields (newer messages would be rejected)")

    def _always_written(self, path: str, name: str) -> bool:
        """An envelope field every message of a topic only Slotline writes has carried."""
        topic = self.new_root.get("x-topic")
        return not path and name in ALWAYS_WRITTEN and topic not in (None, *WRITTEN_OUTSIDE)

    def _add(self, path: str, problem: str) -> None:
        self.problems.append(f"{path or '(message)'}: {problem}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _resolve(schema: Schema, root: Schema) -> Schema:
    """Follow local ``$ref``s (``#/…`` JSON pointers) to the schema they name."""
    seen: set[str] = set()
    while isinstance(ref := schema.get("$ref"), str) and ref.startswith("#/") and ref not in seen:
        seen.add(ref)
        target: Any = root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = target if isinstance(target, dict) else {}
    return schema


def check_against_committed(committed_dir: Path, current: dict[str, str]) -> list[str]:
    """Breaking changes of the generated schemas (``current``: relative path → JSON text)
    against the committed ones in ``committed_dir``. A committed message type that is no
    longer generated is breaking too; a new version beside an old one is not."""
    problems: list[str] = []
    for path in sorted(committed_dir.rglob("*.json")):
        relative = path.relative_to(committed_dir).as_posix()
        if relative == "asyncapi.json":
            continue
        if relative not in current:
            problems.append(
                f"{relative}: message type removed (bump the version, keep the old one)"
            )
            continue
        old, new = json.loads(path.read_text()), json.loads(current[relative])
        problems += [f"{relative}: {problem}" for problem in breaking_changes(old, new)]
    return problems
