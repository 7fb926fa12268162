"""The JSON Schema of scenario files, for editors (the YAML language server) and for checking.

Generated from the pydantic models of sim.core.exercise.scenario, their docstrings being the descriptions. The
names an instructor types are listed for completion: techniques, the map's regions, groups and tags, variants,
screening reasons, rule ids and the parts of the score. Those that depend on the map (techniques, regions,
variants) are given under `if map is face then ...` so that an editor offers the face's regions in a face
exercise and refuses a scalp region there.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sim.core.exercise.scenario import Scenario
from sim.core.vocabulary import MAPS, RULES, SCORE_PARTS

SCHEMA_ID = "https://mesosim.invalid/schema/scenario.schema.json"

BY_MAP = ("technique", "area", "region", "variant")
"""The kinds of name that depend on the exercise's map."""


def names() -> dict[str, Any]:
    """Every kind of name: a list, or for a kind of BY_MAP a list per map id."""
    from sim.core.anatomy.atlas import load_atlas
    from sim.core.exercise.screening import load_reasons
    from sim.core.exercise.techniques import load_library

    library = load_library()
    atlases = {m: load_atlas(m) for m in MAPS}
    return {
        "technique": {m: [t.id for t in library.techniques.values() if m in t.maps] for m in MAPS},
        "area": {m: list(a.area_names()) for m, a in atlases.items()},
        "region": {m: list(a.region_ids()) for m, a in atlases.items()},
        "variant": {m: list(a.variants) for m, a in atlases.items()},
        "reason": load_reasons().ids,
        "rule": list(RULES),
        "score-part": list(SCORE_PARTS),
    }


def _marks(schema: dict) -> list[tuple[str, str, tuple, bool, dict]]:
    """Every named place of the schema: (marker, kind, instance path, nullable, the node), the instance path as
    steps ("prop", NAME), ("items",) and ("values",) from the top of a scenario file, through $refs."""
    defs = schema.get("$defs", {})
    found = []

    def walk(node: Any, path: tuple, nullable: bool, seen: tuple) -> None:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name not in seen:
                walk(defs[name], path, nullable, seen + (name,))
        for marker in ("x-names", "x-keys"):
            if marker in node:
                found.append((marker, node[marker], path, nullable, node))
        for key, sub in node.get("properties", {}).items():
            walk(sub, path + (("prop", key),), False, seen)
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + (("items",),), False, seen)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], path + (("values",),), False, seen)
        branches = node.get("anyOf", [])
        with_null = any(b.get("type") == "null" for b in branches if isinstance(b, dict))
        for sub in branches:
            walk(sub, path, nullable or with_null, seen)

    walk(schema, (), False, ())
    return found


KEY_WORDS = {"region": "This patient's skin in {key} [mm].", "score-part": "The weight of {key} in the score."}
"""The description of each key of a mapping whose keys are names (x-keys)."""


def _keys_schema(node: dict, kind: str, keys: list[str]) -> dict:
    """A mapping whose keys are `keys`: listed (for completion) and checked."""
    values = node.get("additionalProperties", {})
    return {"propertyNames": {"enum": keys},
            "properties": {k: {**copy.deepcopy(values), "description": KEY_WORDS[kind].format(key=k)} for k in keys}}


def _nest(path: tuple, leaf: dict) -> dict:
    for step in reversed(path):
        if step[0] == "prop":
            leaf = {"properties": {step[1]: leaf}}
        elif step[0] == "items":
            leaf = {"items": leaf}
        else:
            leaf = {"additionalProperties": leaf}
    return leaf


def _merge(into: dict, more: dict) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def attribute_docstrings(cls: type) -> dict[str, str]:
    """The docstring under each field of a model class (a string right after its annotated assignment), from its
    source: what pydantic's use_attribute_docstrings reads, read here only when the schema is written."""
    import ast
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    out = {}
    for node, after in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
            out[node.target.id] = inspect.cleandoc(after.value.value)
    return out


def _describe(schema: dict, root: type) -> None:
    """Give every property of the schema the docstring of its field where it has no description yet."""
    from pydantic import BaseModel

    classes: dict[str, type] = {}
    todo = [root]
    while todo:
        cls = todo.pop()
        if cls.__name__ in classes:
            continue
        classes[cls.__name__] = cls
        for sub in cls.__mro__[1:]:
            if isinstance(sub, type) and issubclass(sub, BaseModel) and sub is not BaseModel:
                todo.append(sub)
        for field in cls.model_fields.values():
            for arg in _types_in(field.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    todo.append(arg)
    nodes = [(root.__name__, schema)] + list(schema.get("$defs", {}).items())
    for name, node in nodes:
        cls = classes.get(name)
        if cls is None:
            continue
        docs = {}
        for klass in reversed(cls.__mro__):
            if klass in classes.values():
                docs.update(attribute_docstrings(klass))
        for key, prop in node.get("properties", {}).items():
            if key in docs and "description" not in prop:
                prop["description"] = docs[key]


def _types_in(annotation) -> list:
    import typing

    out, todo = [], [annotation]
    while todo:
        t = todo.pop()
        out.append(t)
        todo.extend(typing.get_args(t))
    return out


def scenario_schema() -> dict:
    schema = Scenario.model_json_schema(mode="validation")
    _describe(schema, Scenario)
    known = names()
    per_map: dict[str, dict] = {m: {} for m in MAPS}
    for marker, kind, path, nullable, node in _marks(schema):
        del node[marker]
        listed = known[kind]
        if kind in BY_MAP:
            for m in MAPS:
                if marker == "x-keys":
                    leaf = _keys_schema(node, kind, listed[m])
                else:
                    leaf = {"enum": listed[m]}
                    if nullable:
                        leaf = {"anyOf": [leaf, {"type": "null"}]}
                _merge(per_map[m], _nest(path, leaf))
        elif marker == "x-keys":
            node.update(_keys_schema(node, kind, listed))
        else:
            node["enum"] = listed
    schema["allOf"] = [{"if": {"properties": {"map": {"const": m}}, "required": ["map"]}, "then": per_map[m]}
                       for m in MAPS]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "mesosim scenario", **{k: v for k, v in schema.items() if k != "title"}}


def scenario_schema_text() -> str:
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def schema_header(location: str) -> str:
    """The first line of a scenario file that tells an editor where its schema is (a path relative to the file,
    or a file:// URI that holds wherever the file is moved)."""
    return f"# yaml-language-server: $schema={location}"
