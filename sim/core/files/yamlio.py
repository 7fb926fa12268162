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
import hmac
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
    """Read a UTF-8 file (a byte-order mark is allowed) with a size limit, or raise InputError. Only a regular file
    is read (sim.core.files.safeio: a device or a FIFO is refused, the read is bounded)."""
    from sim.core.files.safeio import read_bounded

    return decode_text(str(path), read_bounded(path, limit, what))


def decode_text(name: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError.one(name, "is not UTF-8 text (a binary file?)", line, col) from None


def load_yaml_file(path: Path | str) -> Document:
    """Parse a YAML file as load_yaml_text does; a text parsed before comes from the cache (parse_cache)."""
    path = Path(path)
    text = read_text(path, MAX_YAML_BYTES, "YAML file")
    kept = parse_cache.get(text)
    if kept is not None:
        return Document(str(path), *kept)
    doc = load_yaml_text(text, str(path))
    parse_cache.put(text, doc)
    return doc


class ParseCache:
    """Parsed Documents kept in the user's cache folder, so that the trainer starts in well under a second.

    The folder is the user's to write, so nothing in it is taken on trust where a result counts:
    - each entry carries an HMAC-SHA256 of its text's digest and its content, by a key derived from the signing
      key (an entry without a valid MAC, or moved to another text, is ignored and parsed again): whoever can make
      an entry that passes can sign a record outright, so the cache is no easier to forge than a record;
    - `enabled` is False in the commands whose output is a result (score, rescore, report, verify, cohort, the
      gradebook): they parse every file;
    - the trainer's save calls recheck(): every text served from the cache is parsed again and compared; an entry
      that differs is removed and the save refused (CacheTampered);
    - the folder is pruned: at most MAX_ENTRIES entries (the least recently used go) and no folder of another
      version of this code.
    """

    MAX_ENTRIES = 64

    def __init__(self) -> None:
        self.enabled = os.environ.get("MESOSIM_YAML_CACHE", "1") != "0"
        self.served: dict[str, tuple[Any, dict, dict]] = {}
        self._key: tuple[Path, bytes | None] | None = None

    @functools.cached_property
    def folder(self) -> Path:
        """The cache of this code: another version of this module or of the parser starts a new folder."""
        from importlib.metadata import version

        from sim.paths import yaml_cache_dir

        code = hashlib.sha256(Path(__file__).read_bytes() + version("ruamel.yaml").encode()).hexdigest()[:16]
        return yaml_cache_dir() / code

    @property
    def key(self) -> bytes | None:
        """The MAC key, derived from the signing key; None (no cache) on a machine that has none yet."""
        from sim.paths import key_file

        path = key_file()
        if self._key is not None and self._key[0] == path:
            return self._key[1]
        try:
            with open(path, "rb") as f:
                secret = bytes.fromhex(f.read(4096).decode("ascii").strip())
        except (OSError, ValueError):
            return None
        key = hmac.new(secret, b"mesosim yaml cache", hashlib.sha256).digest() if len(secret) >= 16 else None
        self._key = (path, key)
        return key

    def entry(self, text: str) -> Path:
        """Where the Document of this text is kept."""
        return self.folder / self._digest(text)

    @staticmethod
    def _digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def _mac(self, digest: str, blob: bytes) -> bytes:
        return hmac.new(self.key, digest.encode() + b"\0" + blob, hashlib.sha256).digest()

    def get(self, text: str) -> tuple[Any, dict, dict] | None:
        """(data, values, keys) kept for this text, or None (no entry, a damaged or unauthenticated one)."""
        if not self.enabled or self.key is None:
            return None
        digest = self._digest(text)
        entry = self.folder / digest
        try:
            raw = entry.read_bytes()
            if len(raw) < 33 or not hmac.compare_digest(raw[:32], self._mac(digest, raw[32:])):
                return None
            data, values, keys = marshal.loads(raw[32:])  # marshal keeps plain data exactly: int keys, tuples
        except (OSError, EOFError, ValueError, TypeError):
            return None
        if not (isinstance(values, dict) and isinstance(keys, dict)):
            return None
        with contextlib.suppress(OSError):
            os.utime(entry)  # recently used: kept when the folder is pruned
        self.served[text] = (data, values, keys)
        return data, values, keys

    def put(self, text: str, doc: Document) -> None:
        """Keep a parsed Document (written whole or not at all, for the owner only); a cache that cannot be written
        is no error."""
        if not self.enabled or self.key is None:
            return
        from sim.core.files.atomic import write_atomic

        digest = self._digest(text)
        try:
            blob = marshal.dumps((doc.data, doc.values, doc.keys))
            fresh = not self.folder.is_dir()
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(self.folder / digest, self._mac(digest, blob) + blob, mode=0o600, durable=False)
            self.prune(fresh)
        except (OSError, ValueError):
            pass

    def prune(self, other_versions: bool = False) -> None:
        """Keep the MAX_ENTRIES entries used last; with `other_versions`, remove the folders of other versions."""
        import shutil

        entries = []
        for p in self.folder.iterdir():
            with contextlib.suppress(OSError):
                entries.append((p.stat().st_mtime, p))
        entries.sort(reverse=True)
        for _t, p in entries[self.MAX_ENTRIES:]:
            with contextlib.suppress(OSError):
                p.unlink()
        if other_versions:
            for p in self.folder.parent.iterdir():
                if p != self.folder and p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                elif p != self.folder and p.name != "key":
                    with contextlib.suppress(OSError):
                        p.unlink()

    def recheck(self) -> list[str]:
        """Parse again every text this process took from the cache; the entries that differ from the parse are
        removed. Returns the files (as the parse names them) whose entry was wrong."""
        wrong = []
        for text, kept in list(self.served.items()):
            doc = load_yaml_text(text, "<cached>")
            if (doc.data, doc.values, doc.keys) != kept:
                wrong.append(self._digest(text))
                with contextlib.suppress(OSError):
                    (self.folder / self._digest(text)).unlink()
            del self.served[text]
        return wrong


parse_cache = ParseCache()


class CacheTampered(InputError):
    """The parse cache held an entry that differs from the file it stands for (it was removed)."""


def recheck_parse_cache() -> None:
    """Where a result counts: raise CacheTampered if any YAML text this process used came from a cache entry that
    differs from the text's parse (sim.session.save_attempt calls this before signing)."""
    wrong = parse_cache.recheck()
    if wrong:
        from sim.paths import yaml_cache_dir

        raise CacheTampered([Problem(str(yaml_cache_dir()), 0, 0, "", f"{len(wrong)} parsed file(s) in the cache "
                                     "differ from the files they stand for (the cache was altered); they were "
                                     "removed and nothing was saved: start mesosim again (an attempt resumes from "
                                     "its journal)")])


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
        line, col, message = syntax_message(exc, text)
        raise InputError.one(name, f"YAML syntax: {message}", line, col) from None
    except YAMLError as exc:
        raise InputError.one(name, "YAML syntax: " + _strip_where(str(exc)), 1, 1) from None
    except RecursionError:
        raise InputError.one(name, f"nested deeper than {MAX_NESTING} levels", 1, 1) from None
    if data is None:
        raise InputError.one(name, "the file is empty", 1, 1)
    doc = Document(name, None)
    doc.data = _plain(data, (), doc, (1, 1))
    return doc


def _strip_where(message: str) -> str:
    return re.sub(r'\s*in "<[^>]*>",? (line \d+, column \d+|position \d+)', "", message).strip()


def _quoted(value: str) -> str:
    """A value written in quotes as YAML reads it back unchanged."""
    return "'" + value.replace("'", "''") + "'" if '"' in value or "\\" in value else f'"{value}"'


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content_line_before(lines: list[str], index: int) -> int | None:
    """The 0-based index of the nearest line above `index` that holds more than a comment, or None."""
    for i in range(index - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            return i
    return None


_KEY = re.compile(r"^(\s*(?:-\s+)*)([^\s#'\"{\[][^:#]*?|\"[^\"]*\"|'[^']*'):(\s|$)")
"""The key at the start of a line ("  - region: ..."): group 1 the indentation and dashes, group 2 the key."""


def syntax_message(exc: Any, text: str) -> tuple[int, int, str]:
    """(line, col, message) for a YAML syntax error: what is wrong in words an instructor uses, and the fix.

    The parser's own wording ("mapping values are not allowed here") is kept only for faults not foreseen here."""
    lines = text.splitlines() or [""]
    pm, cm = exc.problem_mark, exc.context_mark
    mark = pm or cm
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem, context = str(exc.problem or ""), str(exc.context or "")
    here = lines[mark.line] if mark and mark.line < len(lines) else ""

    def at(m) -> str:
        return f"line {m.line + 1}, column {m.column + 1}"

    char = re.search(r"found character '(.+?)' that cannot start any token", problem)
    if char and char[1] == "\\t":
        return line, col, ("a tab character: YAML indents and separates with spaces only; replace the tab with "
                           "spaces (and set the editor to insert spaces for the Tab key)")
    if char:
        key = _KEY.match(here)
        example = f"{key[2]}: {_quoted(here[key.end():].strip())}" if key else _quoted(here.strip())
        return line, col, (f'a value cannot start with "{char[1]}"; put the value in quotes: {example}')
    if problem == "mapping values are not allowed here":
        key = _KEY.match(here)
        above = _content_line_before(lines, mark.line) if mark else None
        if key and mark.column == key.end(2) and above is not None and _indent(here) > _indent(lines[above]):
            parent = _KEY.match(lines[above])
            name = parent[2] if parent else lines[above].strip()
            return line, _indent(here) + 1, (
                f'"{key[2].strip()}:" is indented deeper than "{name}:" on line {above + 1}, which already has a '
                f'value; start it in column {_indent(lines[above]) + 1}, as "{name}:" is (or, if it belongs to '
                f'the value above, put that value in quotes)')
        if key:
            value = here[key.end():].strip()
            return line, col, ('a colon followed by a space inside a value; put the value in quotes: '
                               f"{key[2]}: {_quoted(value)}")
        return line, col, "a colon followed by a space inside a value; put the value in quotes"
    if context.startswith("while parsing a flow") and cm is not None:
        opener, closer, what = ("[", "]", "list") if "sequence" in context else ("{", "}", "mapping")
        found = re.search(r"but got '(.*)'", problem)
        got = found[1] if found else "?"
        got = "the end of the file" if got == "<stream end>" else f'"{got}" at {at(pm)}' if pm else f'"{got}"'
        return cm.line + 1, cm.column + 1, (
            f'the "{opener}" here is never closed (reached {got}); end the {what} with "{closer}", or separate '
            f'its items with ", "')
    if context.startswith("while scanning a quoted scalar") and "end of stream" in problem and cm is not None:
        quote = lines[cm.line][cm.column] if cm.line < len(lines) and cm.column < len(lines[cm.line]) else '"'
        return cm.line + 1, cm.column + 1, (f"the quote ({quote}) here is never closed; end the text with a "
                                            f"closing {quote}")
    escape = re.search(r"found unknown escape character '(.+?)'", problem)
    if escape:
        return line, col, (f'"\\{escape[1]}" is not an escape inside double quotes; write "\\\\{escape[1]}" for a '
                           "backslash, or use single quotes ('...'), in which a backslash is plain")
    if "could not find expected ':'" in problem and cm is not None:
        start = lines[cm.line] if cm.line < len(lines) else ""
        glued = re.match(r"^(\s*(?:-\s+)*)([^\s:#]+):(\S.*)$", start)
        if glued:
            return cm.line + 1, cm.column + 1, (f'a colon needs a space after it: "{glued[2]}: {glued[3]}"')
        return cm.line + 1, cm.column + 1, ('this line is not "key: value" nor a list item ("- value"); add ": " '
                                            "after its key, or, if it continues the text above, indent it under "
                                            "that value or put the whole value in quotes")
    if problem == "sequence entries are not allowed here":
        key = _KEY.match(here)
        item = here[mark.column:].lstrip("- ").strip() if mark else ""
        example = f"{key[2]}: [{item}]" if key else f"[{item}]"
        return line, col, ('a list item ("- ") cannot follow a key on its line; write the list in brackets, '
                           f"{example}, or put each item on a line of its own below, indented")
    if problem.startswith("expected <block end>, but found"):
        found = re.search(r"but found '(.*)'", problem)
        token = found[1] if found else ""
        before = here[:mark.column] if mark else ""
        if token == "<scalar>" and re.search(r"[\"']\s*$", before.rstrip()) and re.search(r":\s+[\"']", before):
            return line, col, ("text after the closing quote; put the whole value inside the quotes")
        above = _content_line_before(lines, mark.line) if mark else None
        hint = ""
        if token == "-":
            item = next((i for i in range(mark.line - 1, -1, -1) if lines[i].lstrip().startswith("- ")), None)
            if item is not None:
                hint = (f" (this one starts in column {col}; the item on line {item + 1} starts in column "
                        f"{_indent(lines[item]) + 1})")
            return line, col, ('a list item ("- ") where a key was expected: the items of one list start in one '
                               "column, under their key" + hint)
        if above is not None:
            prev = _KEY.match(lines[above])
            prev_col = (len(prev[1]) if prev else _indent(lines[above])) + 1
            name = f'"{prev[2]}:"' if prev else '"- "' if lines[above].lstrip().startswith("-") else "the text"
            hint = f" (this line starts in column {col}; {name} on line {above + 1} starts in column {prev_col})"
        return line, col, ("the indentation of this line does not match the lines above" + hint + ": the keys of "
                           "one mapping start in the same column, and so do the items (\"- \") of one list; "
                           "indent with spaces")
    if "found duplicate key" in problem:
        dup = re.search(r'found duplicate key "(.*?)"', problem)
        key = dup[1] if dup else "?"
        first = None
        if pm is not None:
            for i in range(cm.line if cm is not None else 0, pm.line):
                m = _KEY.match(lines[i])
                if first is None and m and m[2].strip("'\"") == key and len(m[1]) == pm.column:
                    first = i
        where = f" (first on line {first + 1})" if first is not None else ""
        return line, col, f'"{key}" is given twice in this mapping{where}; keep one'
    message = " ".join(s for s in (context, problem) if s) or "is not valid YAML"
    return line, col, _strip_where(message)


def _prescan(yaml, text: str, name: str) -> None:
    """Refuse aliases, object-building tags and deep nesting from the event stream, before any node is built."""
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent, ScalarEvent

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
        if isinstance(event, ScalarEvent) and not event.style:
            _check_number(event.value, name, where)


MAX_NUMBER_CHARS = 40
"""Longest plain number accepted [characters]: no value in these files needs more, and a longer integer would cost
the parser quadratic time (Python refuses beyond 4,300 digits)."""
_NUMBER_LIKE = re.compile(r"[-+]?(0[xXoObB])?[0-9_.]*[0-9][0-9_.]*([eE][-+]?[0-9_]+)?")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _check_scalar_text(value: str, name: str, where: tuple[int, int]) -> None:
    """Text that every output can carry: no lone surrogate (an escape such as "\\ud800"), no NUL or other control
    character (a line break and a tab are text)."""
    found = _CONTROL.search(value)
    if found:
        what = "a lone surrogate" if "\ud800" <= found.group() <= "\udfff" else \
            f"the control character U+{ord(found.group()):04X}"
        raise InputError.one(name, f"the text holds {what}, which no report can show; remove it", *where)


def _check_number(value: str, name: str, where: tuple[int, int]) -> None:
    """A plain scalar that YAML would read as a number is written the plain way: no digit separators (`1_0` would
    be 10) and no more than MAX_NUMBER_CHARS characters."""
    if not _NUMBER_LIKE.fullmatch(value):
        return
    if "_" in value:
        raise InputError.one(name, f'"{value[:40]}" is not a number here: write it without "_" separators', *where)
    if len(value) > MAX_NUMBER_CHARS:
        raise InputError.one(name, f"a number of {len(value)} characters; at most {MAX_NUMBER_CHARS} are accepted",
                             *where)


def _plain(node: Any, path: Path_, doc: Document, pos: tuple[int, int]) -> Any:
    doc.values[path] = pos
    if isinstance(node, dict):  # a ruamel CommentedMap: the round-trip loader makes every mapping one
        out: dict[Any, Any] = {}
        for key, value in node.items():
            k = key if isinstance(key, (str, int)) and not isinstance(key, bool) else str(key)
            kline, kcol = node.lc.key(key)
            if isinstance(k, str):
                _check_scalar_text(k, doc.file, (kline + 1, kcol + 1))
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
    text = str(node)
    _check_scalar_text(text, doc.file, pos)
    return text
