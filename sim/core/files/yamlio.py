"""Safe YAML loading that remembers where every value stood, so problems can name FILE:LINE:COL.

Only plain data is accepted: mappings, sequences, strings, numbers, booleans and null. Tags that would build
objects, anchors and aliases (the "billion laughs" bomb), deep nesting and over-large files are refused before
anything is built.

Parsing with positions is slow (the shipped atlas takes a third of a second), so a file's Document is kept in the
user's cache folder under the digest of its text and of this module and the parser: the same text is parsed once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import marshal
import os
import re

import datetime as _dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError, Problem

MAX_YAML_BYTES = 1024 * 1024
"""Largest YAML file accepted [bytes]: a scenario is a few kilobytes; anything near a megabyte is not one."""

MAX_NESTING = 64
"""Deepest nesting of mappings and sequences accepted."""

_PLAIN_TAGS = {
    None,
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}

Path_ = tuple[str | int, ...]


@dataclass
class Document:
    """Plain data loaded from a YAML file, with the position of every key and value in it."""

    file: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_, key: bool = False) -> tuple[int, int]:
        """1-based (line, col) of the value at `path`, or of its key; else of the nearest enclosing value."""
        p = tuple(path)
        if key and p in self.keys:
            return self.keys[p]
        while p:
            if p in self.values:
                return self.values[p]
            if p in self.keys:
                return self.keys[p]
            p = p[:-1]
        return self.values.get((), (1, 1))

    def problem(self, path: Path_, message: str, key: bool = False) -> Problem:
        line, col = self.where(path, key=key)
        return Problem(self.file, line, col, format_path(path), message)


def format_path(path: Path_) -> str:
    """('targets', 0, 'region') -> 'targets[0].region'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if not re.fullmatch(r"[A-Za-z0-9_\-]+", text):  # an odd key is shown quoted, on one line
                text = json.dumps(text, ensure_ascii=True)
            out += ("." if out else "") + text
    return out


def read_text(path: Path, limit: int, what: str = "file") -> str:
    """Read a UTF-8 file (a byte-order mark is allowed) with a size limit, or raise InputError."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError.one(name, f"the {what} is {size} bytes; the limit is {limit} bytes", 1, 1)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError.one(name, "no such file") from None
    except IsADirectoryError:
        raise InputError.one(name, "is a folder, not a file") from None
    except PermissionError:
        raise InputError.one(name, "cannot be read: permission denied") from None
    except OSError as exc:
        raise InputError.one(name, f"cannot be read: {exc.strerror or exc}") from None
    return decode_text(name, raw)


def decode_text(name: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError.one(name, "is not UTF-8 text (a binary file?)", line, col) from None


def load_yaml_file(path: Path | str) -> Document:
    """Parse a YAML file as load_yaml_text does; a text parsed before comes from the cache."""
    path = Path(path)
    text = read_text(path, MAX_YAML_BYTES, "YAML file")
    entry = _cache_entry(text)
    kept = _cache_get(entry)
    if kept is not None:
        return Document(str(path), *kept)
    doc = load_yaml_text(text, str(path))
    _cache_put(entry, doc)
    return doc


@functools.lru_cache(maxsize=1)
def _cache_folder() -> Path:
    """The cache of this code: another version of this module or of the parser starts a new folder."""
    from importlib.metadata import version

    from sim.paths import yaml_cache_dir

    code = hashlib.sha256(Path(__file__).read_bytes() + version("ruamel.yaml").encode()).hexdigest()[:16]
    return yaml_cache_dir() / code


def _cache_entry(text: str) -> Path:
    return _cache_folder() / hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _cache_get(entry: Path) -> tuple[Any, dict, dict] | None:
    """(data, values, keys) of a Document kept in the cache, or None when there is none (or it is unreadable)."""
    try:
        data, values, keys = marshal.loads(entry.read_bytes())  # marshal keeps plain data exactly: int keys, tuples
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return (data, values, keys) if isinstance(values, dict) and isinstance(keys, dict) else None


def _cache_put(entry: Path, doc: Document) -> None:
    """Keep a parsed Document (written whole or not at all); a cache that cannot be written is no error."""
    tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(marshal.dumps((doc.data, doc.values, doc.keys)))
        os.replace(tmp, entry)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def load_yaml_text(text: str, name: str = "<text>") -> Document:
    """Parse YAML text into a Document, or raise InputError naming the line and column of the fault."""
    from ruamel.yaml import YAML  # imported here: a start with every file in the cache needs no parser
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise InputError.one(name, f"the YAML file is larger than the limit of {MAX_YAML_BYTES} bytes", 1, 1)
    yaml = YAML(typ="rt", pure=True)
    try:
        _prescan(yaml, text, name)
        data = yaml.load(text)
    except InputError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(s) for s in (exc.context, exc.problem) if s) or "is not valid YAML"
        message = re.sub(r'\s*in "<[^>]*>",? (line \d+, column \d+|position \d+)', "", message)
        raise InputError.one(name, f"YAML syntax: {message}", line, col) from None
    except YAMLError as exc:
        raise InputError.one(name, "YAML syntax: " + re.sub(r'\s*in "<[^>]*>",? (line \d+, column \d+|position '
                                                            r'\d+)', "", str(exc)), 1, 1) from None
    except RecursionError:
        raise InputError.one(name, f"nested deeper than {MAX_NESTING} levels", 1, 1) from None
    if data is None:
        raise InputError.one(name, "the file is empty", 1, 1)
    doc = Document(name, None)
    doc.data = _plain(data, (), doc, (1, 1))
    return doc


def _prescan(yaml, text: str, name: str) -> None:
    """Refuse aliases, object-building tags and deep nesting from the event stream, before any node is built."""
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent

    depth = 0
    for event in yaml.parse(io.StringIO(text)):
        mark = event.start_mark
        where = (mark.line + 1, mark.column + 1)
        if isinstance(event, AliasEvent):
            raise InputError.one(name, "YAML aliases (*name) are not allowed; write the value out", *where)
        if isinstance(event, NodeEvent):
            tag = getattr(event, "tag", None)
            tag = None if tag is None else str(tag)
            if tag not in _PLAIN_TAGS and tag != "!":
                raise InputError.one(name, f"YAML tag {tag!r} is not allowed; only plain data is accepted", *where)
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise InputError.one(name, f"nested deeper than {MAX_NESTING} levels", *where)
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def _plain(node: Any, path: Path_, doc: Document, pos: tuple[int, int]) -> Any:
    doc.values[path] = pos
    if isinstance(node, dict):  # a ruamel CommentedMap: the round-trip loader makes every mapping one
        out: dict[Any, Any] = {}
        for key, value in node.items():
            k = key if isinstance(key, (str, int)) and not isinstance(key, bool) else str(key)
            kline, kcol = node.lc.key(key)
            vline, vcol = node.lc.value(key)
            doc.keys[path + (k,)] = (kline + 1, kcol + 1)
            out[k] = _plain(value, path + (k,), doc, (vline + 1, vcol + 1))
        return out
    if isinstance(node, list):  # a CommentedSeq, likewise
        items = []
        for i, value in enumerate(node):
            line, col = node.lc.item(i)
            items.append(_plain(value, path + (i,), doc, (line + 1, col + 1)))
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, (_dt.date, _dt.datetime)):
        return node.isoformat()
    return str(node)
