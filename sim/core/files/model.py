"""The one base model for every file a user writes, and the translation of its errors into FILE:LINE:COL problems."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Iterable, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from sim.errors import InputError, Problem
from sim.core.files.yamlio import Document, format_path

M = TypeVar("M", bound="FileModel")


class FileModel(BaseModel):
    """Strict: unknown keys are errors, no NaN or infinity, no silent coercion of strings into numbers.

    A model's validator is built when it first validates (defer_build): a start needs only a few of them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=False,
                              use_attribute_docstrings=True, defer_build=True)


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
        return f"expected {what}, got {value!r}"
    if kind == "finite_number":
        return "must be a finite number (not NaN or infinity)"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{value!r} is not one of {expected}" + suggest(str(value), _literal_words(expected))
    if kind == "string_pattern_mismatch":
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
    return repr(value)


def problems_from(exc: ValidationError, doc: Document, model: type[BaseModel], prefix: tuple = ()) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        # Discriminated unions put the tag value in loc; it is not a key of the file.
        clean = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        clean = _drop_union_tags(clean, doc, prefix)
        path = prefix + clean
        key = err["type"] == "extra_forbidden"
        line, col = doc.where(path, key=key)
        out.append(Problem(doc.file, line, col, format_path(path), _message(err, model)))
    return out


def _drop_union_tags(loc: tuple, doc: Document, prefix: tuple) -> tuple:
    """Remove loc parts that name a union branch rather than a key present in the document."""
    kept: list = []
    for part in loc:
        candidate = prefix + tuple(kept) + (part,)
        if isinstance(part, int) or candidate in doc.values or candidate in doc.keys:
            kept.append(part)
            continue
        # A part absent from the file is either a missing field (keep, it is the last one) or a branch tag.
        kept.append(part)
    # Second pass: drop interior parts absent from the document whose next part is present after skipping them.
    result: list = []
    for i, part in enumerate(kept):
        here = prefix + tuple(result) + (part,)
        is_last = i == len(kept) - 1
        if not is_last and isinstance(part, str) and here not in doc.values and here not in doc.keys:
            continue
        result.append(part)
    return tuple(result)


def validate(model: type[M], doc: Document, data: Any = None, prefix: tuple = ()) -> M:
    """Validate `doc.data` (or `data`, which lives at `prefix` of doc) against `model`, or raise InputError."""
    try:
        return model.model_validate(doc.data if data is None else data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, doc, model, prefix)) from None
