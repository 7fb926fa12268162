"""Signed attempt records: HMAC-SHA256 over the record's canonical JSON, with a key kept in the user's config
folder (created on first use, file mode 0600); records and the key written atomically."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path

from sim.core.files.atomic import write_atomic
from sim.errors import InputError
from sim.paths import key_file

ALGORITHM = "HMAC-SHA256"
MAX_RECORD_BYTES = 64 * 1024 * 1024


def load_key(create: bool = True) -> bytes:
    """The signing key; created (32 random bytes, mode 0600) the first time it is needed. The key file appears whole
    or not at all (written to a temporary file, synced, then linked into place): processes using the key for the
    first time at once all get the one that was linked first, and a full disk leaves no key rather than an empty
    one. An OSError (the key cannot be made) names the key file."""
    path = key_file()
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        if not create:
            raise InputError.one(str(path), "no signing key on this machine: records cannot be verified here") from None
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(path, (secrets.token_hex(32) + "\n").encode("ascii"), mode=0o600, exclusive=True)
        except FileExistsError:
            pass  # another process made it first: theirs is the key
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise InputError.one(str(path), f"cannot read the signing key: {exc.strerror or exc}") from None
    text = text.strip()
    if not text:
        raise InputError.one(str(path), "the signing key file is empty (left by an earlier version when the disk was "
                             "full); no record was signed with it: delete the file and a new key is made")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise InputError.one(str(path), "the signing key file is damaged (expected 64 hex digits)") from None
    if len(key) < 16:
        raise InputError.one(str(path), "the signing key is too short")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"mesosim key id\0" + key).hexdigest()[:16]


def canonical(record: dict) -> bytes:
    """What the HMAC signature covers: the record but its signature and a centre's seal (sim.core.records.seal),
    which is made after it."""
    return canonical_body(record)


def canonical_body(record: dict, with_signature: bool = False) -> bytes:
    drop = ("seal",) if with_signature else ("signature", "seal")
    body = {k: v for k, v in record.items() if k not in drop}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def sign(record: dict, key: bytes | None = None) -> dict:
    key = key or load_key()
    mac = hmac.new(key, canonical(record), hashlib.sha256).hexdigest()
    return {**{k: v for k, v in record.items() if k not in ("signature", "seal")},
            "signature": {"algorithm": ALGORITHM, "key_id": key_id(key), "value": mac}}


def verify(record: dict, key: bytes | None = None) -> tuple[bool, str]:
    """(intact, why not) for a parsed record."""
    sig = record.get("signature")
    if not isinstance(sig, dict) or not isinstance(sig.get("value"), str):
        return False, "the record carries no signature"
    if sig.get("algorithm") != ALGORITHM:
        return False, f'unknown signature algorithm "{sig.get("algorithm")}"'
    key = key or load_key(create=False)
    if sig.get("key_id") != key_id(key):
        return False, "signed with another key (another machine or a replaced key)"
    try:
        body = canonical(record)
    except (TypeError, ValueError):
        return False, "the record holds values JSON cannot carry"
    expected = hmac.new(key, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sig["value"]):
        return False, "the content was changed after signing"
    return True, ""


MAX_RECORD_DEPTH = 32
"""Deepest nesting of objects and arrays in a record: mesosim writes 6; a deeper file is no record."""


def record_text(record: dict) -> str:
    """The text mesosim writes for a record: this exact form is what a reader sees in a text viewer, and a record in
    any other form (minified, re-indented, numbers or characters written another way, a key twice) is not taken as
    the one that was signed (canonical_form)."""
    return json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def canonical_form(data: dict, raw: str) -> str:
    """Why the text of a record is not the form mesosim writes (record_text), or "" when it is. Only that form
    verifies: in it, what a text viewer shows and what mesosim reads are the same values."""
    try:
        written = record_text(data)
    except (TypeError, ValueError):
        return "the record holds values JSON cannot carry"
    if written == raw:
        return ""
    if written.replace("\n", "\r\n") == raw:
        return "the file's line ends were changed (CRLF)"
    at = next((i for i, (a, b) in enumerate(zip(written, raw)) if a != b), min(len(written), len(raw)))
    line = raw.count("\n", 0, at) + 1
    return (f"the file is not in the form mesosim writes (from line {line}: edited, re-formatted, or a value "
            "written another way, e.g. an escaped character or a number in another notation)")


def read_record(path: Path | str, check: bool = True) -> dict:
    """A record from disk, its structure checked (sim.core.records.model) unless `check` is False (verification
    looks at the signature first)."""
    return read_record_file(path, check)[0]


def read_record_file(path: Path | str, check: bool = True) -> tuple[dict, str]:
    """(the record, why its text is not the canonical form or ""). Only a regular file of at most MAX_RECORD_BYTES
    is read; a key twice in one object, nesting deeper than MAX_RECORD_DEPTH, a lone surrogate or a NUL character
    in a text are InputErrors naming the file."""
    from sim.core.files.safeio import read_bounded

    path = Path(path)
    name = str(path)
    data_bytes = read_bounded(path, MAX_RECORD_BYTES, "attempt record")
    try:
        raw = data_bytes.decode("utf-8")
        if raw.startswith("\ufeff"):
            raw = raw[1:]
        data = json.loads(raw, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        line, col = _position(raw, exc.key)
        raise InputError.one(name, f'the key "{_show(exc.key)}" appears twice in one object: a reader and mesosim '
                             "could see different values; a record holds each key once", line, col) from None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise InputError.one(name, f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
        if isinstance(exc, UnicodeDecodeError):
            raise InputError.one(name, "not an attempt record: the file is not UTF-8 text") from None
        raise InputError.one(name, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError.one(name, f"not an attempt record: nested deeper than {MAX_RECORD_DEPTH} levels") from None
    if not isinstance(data, dict) or "attempt_version" not in data:
        raise InputError.one(name, "not an attempt record (no attempt_version)")
    _check_values(data, name)
    if check:
        from sim.core.records.model import check_record

        check_record(data, name, raw)
    return data, canonical_form(data, raw)


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _show(text: str) -> str:
    """A text from a file shown safely on one line: control characters and surrogates escaped, long ones cut."""
    shown = json.dumps(text[:80], ensure_ascii=True)[1:-1]
    return shown + ("..." if len(text) > 80 else "")


def _position(raw: str, key: str) -> tuple[int, int]:
    """Line and column of the second occurrence of `"key":` (the duplicate), or (0, 0)."""
    import re

    found = [m.start() for m in re.finditer(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:", raw)]
    if len(found) < 2:
        return 0, 0
    at = found[1]
    return raw.count("\n", 0, at) + 1, at - (raw.rfind("\n", 0, at) + 1) + 1


def _check_values(data: dict, name: str) -> None:
    """Refuse nesting deeper than MAX_RECORD_DEPTH and texts no output can carry (a lone surrogate from a
    "\\ud800" escape, a NUL character), naming the field; walked without recursion."""
    stack: list[tuple[object, str, int]] = [(data, "", 1)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_RECORD_DEPTH:
                raise InputError.one(name, f"{where or 'the record'}: nested deeper than {MAX_RECORD_DEPTH} levels; "
                                     "not an attempt record")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for k, v in items:
                if isinstance(k, str):
                    _check_text(k, name, where or "the record")
                stack.append((v, f"{where}.{k}" if isinstance(k, str) and where else
                              (k if isinstance(k, str) else f"{where}[{k}]"), depth + 1))
        elif isinstance(value, str):
            _check_text(value, name, where)


def _check_text(text: str, name: str, where: str) -> None:
    if "\0" in text:
        raise InputError.one(name, f"{where}: holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError.one(name, f"{where}: holds a lone surrogate (an escape such as \\ud800 that is no "
                             "character)") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def write_record(record: dict, path: Path | str) -> dict:
    """Sign and write atomically (sim.core.files.atomic: a temporary file in the same folder, fsync, rename); returns
    the signed record. On an OSError (a full disk) nothing is left under `path` or beside it."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    signed = sign(record)
    try:
        write_atomic(path, record_text(signed).encode("utf-8"), mode=0o600)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    return signed
