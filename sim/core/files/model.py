"""The one base model for every file a user writes, and the translation of its errors into FILE:LINE:COL problems."""

from __future__ import annotations

import copy
import difflib
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from sim.errors import InputError, Problem
from sim.core.files.yamlio import Document, format_path
from sim.core.vocabulary import ANSWER_PATTERN

M = TypeVar("M", bound="FileModel")


class FileModel(BaseModel):
    """Strict: unknown keys are errors, no NaN or infinity, no silent coercion of strings into numbers (`validate`
    checks a file's data in pydantic's strict mode, as the JSON Schema and an editor do: "80" is text, not 80).

    A model's validator is built when it first validates (defer_build): a start needs only a few of them.
    """

    # the fields' docstrings are the schema's descriptions; they are read when the schema is written
    # (sim.core.exercise.schema), not at every start (reading every class's source costs a quarter second)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=False,
                              use_attribute_docstrings=False, defer_build=True)


def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean "forehead"?)' for a near miss, else ''."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _model_types(tp: Any) -> list[type[BaseModel]]:
    """The BaseModel classes a (possibly wrapped) annotation can hold."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _model_types(typing.get_args(tp)[0])
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if origin in (typing.Union, types.UnionType, list, tuple, dict, set, frozenset) or origin is not None:
        out: list[type[BaseModel]] = []
        for arg in typing.get_args(tp):
            out.extend(_model_types(arg))
        return out
    return []


def _fields_at(model: type[BaseModel], loc: tuple) -> set[str]:
    """Field names of the model(s) found by following `loc` (best effort, for suggestions)."""
    current = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for m in current:
            if part in m.model_fields:
                nxt.extend(_model_types(m.model_fields[part].annotation))
        if nxt:
            current = nxt
    names: set[str] = set()
    for m in current:
        names.update(m.model_fields)
    return names


def _message(err: dict, model: type[BaseModel]) -> str:
    kind = err["type"]
    loc = err["loc"]
    value = err.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        parent = tuple(p for p in loc[:-1])
        return f'unknown field "{loc[-1]}"' + suggest(str(loc[-1]), _fields_at(model, parent))
    if kind in ("float_parsing", "int_parsing", "float_type", "int_type", "int_from_float"):
        what = "a whole number" if kind.startswith("int") else "a number"
        hint = ""
        if isinstance(value, str):
            try:
                float(value.strip())
                hint = f"; a number is written without quotes: {loc[-1]}: {value.strip()}" if isinstance(
                    loc[-1], str) else "; a number is written without quotes"
            except ValueError:
                pass
        return f"expected {what}, got {_describe(value)}{hint}"
    if kind == "finite_number":
        return "must be a finite number (not NaN or infinity)"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{value!r} is not one of {expected}" + suggest(str(value), _literal_words(expected))
    if kind == "string_pattern_mismatch":
        if err.get("ctx", {}).get("pattern") == ANSWER_PATTERN:
            return (f"{value!r} is not a screening answer: write DECISION or DECISION:REASON, the decision go, "
                    f"postpone or no-go (e.g. \"no-go:pregnancy\")")
        return (f"{value!r} is not a valid id: use lower-case letters and digits, words joined by '-' "
                f"(e.g. \"forehead-nappage\")")
    bounds = {"greater_than_equal": ("at least", "ge"), "greater_than": ("more than", "gt"),
              "less_than_equal": ("at most", "le"), "less_than": ("less than", "lt")}
    if kind in bounds:
        word, key = bounds[kind]
        limit = err.get("ctx", {}).get(key)
        limit = f"{limit:g}" if isinstance(limit, (int, float)) else limit
        return f"must be {word} {limit}, got {_describe(value)}"
    if kind in ("too_short", "too_long"):
        ctx = err.get("ctx", {})
        limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        word = "at least" if kind == "too_short" else "at most"
        return f"needs {word} {limit} item(s), got {ctx.get('actual_length')}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "assertion_error":
        return str(err["msg"]).removeprefix("Assertion failed, ")
    if kind in ("string_type", "bool_type", "list_type", "dict_type", "model_type", "bool_parsing"):
        expected = {"string_type": "text", "bool_type": "true or false", "bool_parsing": "true or false",
                    "list_type": "a list", "dict_type": "a mapping (key: value lines)",
                    "model_type": "a mapping (key: value lines)"}[kind]
        return f"expected {expected}, got {_describe(value)}"
    return str(err["msg"])


def _literal_words(expected: str) -> list[str]:
    return [w.strip(" '\"") for w in expected.replace(" or ", ",").split(",") if w.strip(" '\"")]


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


NoneType = type(None)


def _unwrap(tp: Any) -> Any:
    """The type inside Annotated[...] and Optional[...] (X | None); a union of several types stays a union."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not NoneType]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _members(tp: Any) -> list[Any]:
    return [a for a in typing.get_args(tp) if a is not NoneType]


def _kind(tp: Any) -> str:
    """What shape of value a type takes: list, dict, model:<Name>, literal, str, number, bool or any."""
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if origin in (list, tuple, set, frozenset):
        return "list"
    if origin is dict:
        return "dict"
    if origin is typing.Literal:
        return "literal"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"model:{tp.__name__}"
    if tp is bool:
        return "bool"
    if tp in (int, float):
        return "number"
    if tp is str:
        return "str"
    return "any"


def _tag_kind(tag: str) -> str:
    """The shape named by pydantic's tag of a union branch in an error's location ('list[str]', "literal['all']")."""
    t = tag.lower()
    for prefix, kind in (("list[", "list"), ("tuple[", "list"), ("set[", "list"), ("frozenset[", "list"),
                         ("dict[", "dict"), ("literal[", "literal")):
        if t.startswith(prefix):
            return kind
    if t in ("str", "constrained-str"):
        return "str"
    if t in ("int", "float", "constrained-int", "constrained-float"):
        return "number"
    if t == "bool":
        return "bool"
    return f"model:{tag}"


def _branch(members: list[Any], tag: Any) -> Any | None:
    """The member of a union that pydantic's `tag` names (a shape tag, a model's name or a discriminator value)."""
    if isinstance(tag, str):
        kind = _tag_kind(tag)
        for m in members:
            if _kind(m) == kind:
                return m
    for m in members:  # a discriminated union: the tag is the value of the model's Literal field
        u = _unwrap(m)
        if isinstance(u, type) and issubclass(u, BaseModel):
            for f in u.model_fields.values():
                a = _unwrap(f.annotation)
                if typing.get_origin(a) is typing.Literal and tag in typing.get_args(a):
                    return m
    return None


def _fields_of(model: type[BaseModel], key: Any) -> FieldInfo | None:
    if not isinstance(key, str):
        return None
    if key in model.model_fields:
        return model.model_fields[key]
    return next((f for f in model.model_fields.values() if f.alias == key), None)


def split_loc(model: type[BaseModel], loc: tuple) -> tuple[tuple, list[tuple[int, Any, Any]]]:
    """An error's location as (the path of keys and indexes in the file, the unions on the way): each union as
    (its position in the path, its type, the branch tag pydantic put in the location)."""
    tp: Any = model
    path: list = []
    unions: list[tuple[int, Any, Any]] = []
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        i += 1
        if isinstance(part, str) and part.startswith("function-"):
            continue
        u = _unwrap(tp)
        if _is_union(u):
            unions.append((len(path), u, part))
            tp = _branch(_members(u), part)
            if tp is None:
                tp = Any
            continue
        origin = typing.get_origin(u)
        args = typing.get_args(u)
        path.append(part)
        if isinstance(u, type) and issubclass(u, BaseModel):
            f = _fields_of(u, part)
            tp = f.annotation if f is not None else Any
        elif origin in (list, set, frozenset):
            tp = args[0] if args else Any
        elif origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                tp = args[0]
            else:
                tp = args[part] if isinstance(part, int) and part < len(args) else Any
        elif origin is dict:
            if i < len(parts) and parts[i] == "[key]":
                i += 1  # an error in the key itself: it is shown at the key
            tp = args[1] if len(args) == 2 else Any
        else:
            tp = Any
    return tuple(path), unions


def _type_at(model: type[BaseModel], path: tuple) -> Any:
    """The type of the value at `path` (keys and indexes) in data for `model`, as far as it can be followed; a union
    is followed through the branch of the same shape as the next step (a key: a mapping, an index: a list)."""
    tp: Any = model
    for part in path:
        u = _unwrap(tp)
        if _is_union(u):
            want = ("list",) if isinstance(part, int) else ("dict", "model")
            u = next((_unwrap(m) for m in _members(u) if _kind(m).split(":")[0] in want), Any)
        origin = typing.get_origin(u)
        args = typing.get_args(u)
        if isinstance(u, type) and issubclass(u, BaseModel):
            f = _fields_of(u, part)
            tp = f.annotation if f is not None else Any
        elif origin in (list, set, frozenset):
            tp = args[0] if args else Any
        elif origin is tuple:
            tp = args[0] if args and (len(args) == 2 and args[1] is Ellipsis) else (
                args[part] if isinstance(part, int) and part < len(args) else Any)
        elif origin is dict:
            tp = args[1] if len(args) == 2 else Any
        else:
            return Any
    return tp


def describe_type(tp: Any) -> str:
    """A type in words, as a message says what a value must be: 'a list of technique ids', '"all"', 'a number'.

    A type annotated with Field(description=...) is described by that description."""
    if typing.get_origin(tp) is typing.Annotated:
        for meta in typing.get_args(tp)[1:]:
            if isinstance(meta, FieldInfo) and meta.description:
                return meta.description
        return describe_type(typing.get_args(tp)[0])
    if _is_union(tp):
        words = [describe_type(m) for m in _members(tp)]
        return ", or ".join(words)
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        values = [f'"{v}"' if isinstance(v, str) else str(v) for v in typing.get_args(tp)]
        return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]
    if origin in (list, set, frozenset):
        inner = typing.get_args(tp)
        return "a list" if not inner or _kind(inner[0]) in ("any", "str") else f"a list of {_plural(inner[0])}"
    if origin is tuple:
        return "a list [x, y]" if len(typing.get_args(tp)) == 2 else "a list"
    if origin is dict:
        return "a mapping (key: value lines)"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "a mapping (key: value lines)"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(tp, "a value")


def _plural(tp: Any) -> str:
    kind = _kind(tp)
    if kind.startswith("model") or kind == "dict":
        return "mappings"
    return {"number": "numbers", "bool": "true/false values", "list": "lists"}.get(kind, "values")


def _value_at(data: Any, path: tuple) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _shape(value: Any) -> tuple[str, ...]:
    """The kinds of type a plain YAML value could be an instance of."""
    if isinstance(value, list):
        return ("list",)
    if isinstance(value, dict):
        return ("dict", "model")
    if isinstance(value, bool):
        return ("bool",)
    if isinstance(value, (int, float)):
        return ("number",)
    if isinstance(value, str):
        return ("str", "literal")
    return ()


def _union_problem(doc: Document, path: tuple, union: Any, model: type[BaseModel]) -> Problem:
    """One problem for a value that fits no branch of a union: what it may be, in words, and what it is."""
    value = _value_at(doc.data, path)
    message = f"expected {describe_type(union)}, got {_describe(value)}"
    members = _members(union)
    if isinstance(value, str):
        literals = [str(v) for m in members if typing.get_origin(_unwrap(m)) is typing.Literal
                    for v in typing.get_args(_unwrap(m))]
        hint = suggest(value, literals)
        if hint:
            message += hint
        elif any(_kind(m) == "list" for m in members):
            message += f"; a list of one is written [{value}]"
    line, col = doc.where(path)
    return Problem(doc.file, line, col, format_path(path), message)


def _translate(exc: ValidationError, doc: Document, model: type[BaseModel], prefix: tuple = ()
               ) -> tuple[list[Problem], list[tuple]]:
    """The problems of a validation error, and the paths (in `doc`) of the values they are about.

    An error inside a union is reported once: by the branch of the value's own shape when the value is a list or
    a mapping that one branch takes (its items are wrong), else as one problem saying in words what the value may
    be ('expected a list of technique ids, or "all", got \'micro-papule\''), never with pydantic's branch tags."""
    errors = []
    for err in exc.errors(include_url=False):
        path, unions = split_loc(model, tuple(err["loc"]))
        errors.append((err, path, unions))
    problems: list[Problem] = []
    paths: list[tuple] = []
    done_unions: set[tuple] = set()
    groups: dict[tuple, list] = {}
    for item in errors:
        if item[2]:
            pos, _u, _tag = item[2][0]
            groups.setdefault(item[1][:pos], []).append(item)
    for err, path, unions in errors:
        if unions:
            pos, union, tag = unions[0]
            upath = path[:pos]
            group = groups[upath]
            tags = {str(t[2][0][2]) for t in group}
            if len(tags) > 1:  # several branches tried: keep the one of the value's shape, if it is a container
                value = _value_at(doc.data, prefix + upath)
                shapes = _shape(value)
                fitting = [m for m in _members(union) if _kind(m).split(":")[0] in shapes]
                structural = [m for m in fitting if _kind(m).split(":")[0] in ("list", "dict", "model")]
                chosen = structural[0] if len(structural) == 1 and len(fitting) == 1 else None
                if chosen is None or _branch(_members(union), tag) is not chosen:
                    if chosen is None and upath not in done_unions:
                        done_unions.add(upath)
                        problems.append(_union_problem(doc, prefix + upath, union, model))
                        paths.append(prefix + upath)
                    continue
        full = prefix + path
        key = err["type"] == "extra_forbidden"
        line, col = doc.where(full, key=key)
        problems.append(Problem(doc.file, line, col, format_path(full), _message(err, model)))
        paths.append(full)
    return problems, paths


def problems_from(exc: ValidationError, doc: Document, model: type[BaseModel], prefix: tuple = ()) -> list[Problem]:
    return _translate(exc, doc, model, prefix)[0]


def _check(model: type[M], data: Any) -> M:
    """Validate plain data in strict mode: a number must be written as a number, true/false as a boolean. The data
    goes through JSON so that a YAML list is taken where a tuple is meant, as a JSON document's would be."""
    return model.model_validate_json(json.dumps(data, ensure_ascii=False), strict=True)


def validate(model: type[M], doc: Document, data: Any = None, prefix: tuple = ()) -> M:
    """Validate `doc.data` (or `data`, which lives at `prefix` of doc) against `model`, or raise InputError."""
    try:
        return _check(model, doc.data if data is None else data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, doc, model, prefix)) from None


class _Renumbered(Document):
    """A Document for data from which some list items were left out: its paths are turned back into those of the
    original file, so that a problem found in what is left names the right line, column and index."""

    def __init__(self, original: Document, data: Any, kept: dict[tuple, list[int]]):
        super().__init__(original.file, data, original.values, original.keys)
        self._original = original
        self._kept = kept

    def _back(self, path) -> tuple:
        out: list = []
        for part in tuple(path):
            indexes = self._kept.get(tuple(out))
            if isinstance(part, int) and indexes is not None and 0 <= part < len(indexes):
                part = indexes[part]
            out.append(part)
        return tuple(out)

    def where(self, path, key: bool = False) -> tuple[int, int]:
        return self._original.where(self._back(path), key=key)

    def problem(self, path, message: str, key: bool = False) -> Problem:
        return self._original.problem(self._back(path), message, key=key)


@dataclass(frozen=True)
class Checked:
    """What validate_all found: the problems of the file's structure, and a model of what is right in it (or None)
    with the Document to report further problems against, and the paths of the values replaced to build it."""

    problems: list[Problem]
    value: Any
    doc: Document
    filled: tuple[str, ...] = ()

    def outside_filled(self, problems: Iterable[Problem]) -> list[Problem]:
        """`problems` without those about a value that was replaced (they would be about the stand-in)."""
        return [p for p in problems if not any(p.path == f or p.path.startswith((f + ".", f + "["))
                                               for f in self.filled)]


def validate_all(model: type[M], doc: Document, fill: Mapping[str, Any] | None = None, rounds: int = 4) -> Checked:
    """Validate a whole file and, when it has problems, also the rest of it: every wrong part is left out (an
    optional field, an item of a list, an entry of a mapping) or, for a required top-level field, replaced by its
    stand-in in `fill`, and what is left is validated again, so that later checks (references, consistency) can
    run on it and every problem of a file is reported in one pass. `value` is the model (of the file, or of what is
    right in it); None when nothing can stand in for a wrong part."""
    try:
        return Checked([], _check(model, doc.data), doc)
    except ValidationError as exc:
        problems, paths = _translate(exc, doc, model)
    fill = dict(fill or {})
    data = copy.deepcopy(doc.data)
    if not isinstance(data, dict):
        return Checked(problems, None, doc)
    removed: set[tuple] = set()
    filled: set[str] = set()
    for _ in range(rounds):
        cuts = []
        for path in paths:
            cut = _cut(model, path)
            if cut is None:
                if path and isinstance(path[0], str) and path[0] in fill:
                    filled.add(path[0])
                    continue
                return Checked(problems, None, doc)
            cuts.append(cut)
        removed.update(cuts)
        trimmed, kept = _trimmed(data, removed)
        for key in filled:
            trimmed[key] = copy.deepcopy(fill[key])
        try:
            value = _check(model, trimmed)
        except ValidationError as again:
            view = _Renumbered(doc, trimmed, kept)
            _p, new_paths = _translate(again, view, model)
            paths = [view._back(p) for p in new_paths]
            if not paths:
                break
            continue
        return Checked(problems, value, _Renumbered(doc, trimmed, kept), tuple(sorted(filled)))
    return Checked(problems, None, doc)


def _cut(model: type[BaseModel], path: tuple) -> tuple | None:
    """The part of the data to leave out for a problem at `path`: the innermost list item, optional field or
    mapping entry that holds it; None when it is a required field of the file itself (or the whole file)."""
    for k in range(len(path), 0, -1):
        prefix = path[:k]
        last = prefix[-1]
        parent = _unwrap(_type_at(model, prefix[:-1]))
        if isinstance(last, int):
            args = typing.get_args(parent)
            if typing.get_origin(parent) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
                continue  # a point [x, y] goes whole
            return prefix
        if _is_union(parent):
            return None if k == 1 else prefix[:-1]
        if isinstance(parent, type) and issubclass(parent, BaseModel):
            f = _fields_of(parent, last)
            if f is None or not f.is_required():
                return prefix
            continue
        if typing.get_origin(parent) is dict:
            return prefix
    return None


def _trimmed(data: Any, removed: set[tuple]) -> tuple[Any, dict[tuple, list[int]]]:
    """`data` without the parts at `removed`, and for every list that lost items the original index of each item
    left (in the order they are left)."""
    kept: dict[tuple, list[int]] = {}

    def walk(node: Any, path: tuple) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, path + (k,)) for k, v in node.items() if path + (k,) not in removed}
        if isinstance(node, list):
            indexes = [i for i in range(len(node)) if path + (i,) not in removed]
            if len(indexes) != len(node):
                kept[path] = indexes
            return [walk(node[i], path + (i,)) for i in indexes]
        return node

    return walk(data, ()), kept
