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
            path.parent.mkdir(parents=True, exist_ok=True)
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
    body = {k: v for k, v in record.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def sign(record: dict, key: bytes | None = None) -> dict:
    key = key or load_key()
    mac = hmac.new(key, canonical(record), hashlib.sha256).hexdigest()
    return {**{k: v for k, v in record.items() if k != "signature"},
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


def read_record(path: Path | str, check: bool = True) -> dict:
    """A record from disk, its structure checked (sim.core.records.model) unless `check` is False (verification
    looks at the signature first)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError.one(str(path), f"cannot read: {exc.strerror or exc}") from None
    if size > MAX_RECORD_BYTES:
        raise InputError.one(str(path), f"the file is larger than the {MAX_RECORD_BYTES // 2**20} MiB limit "
                             "for attempt records")
    try:
        raw = path.read_bytes().decode("utf-8")
        if raw.startswith("\ufeff"):
            raw = raw[1:]
        data = json.loads(raw, parse_constant=_no_constant)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise InputError.one(str(path), f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
        if isinstance(exc, UnicodeDecodeError):
            raise InputError.one(str(path), "not an attempt record: the file is not UTF-8 text") from None
        raise InputError.one(str(path), f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError.one(str(path), "not an attempt record: nested too deeply") from None
    if not isinstance(data, dict) or "attempt_version" not in data:
        raise InputError.one(str(path), "not an attempt record (no attempt_version)")
    if check:
        from sim.core.records.model import check_record

        check_record(data, str(path), raw)
    return data


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def write_record(record: dict, path: Path | str) -> dict:
    """Sign and write atomically (sim.core.files.atomic: a temporary file in the same folder, fsync, rename); returns
    the signed record. On an OSError (a full disk) nothing is left under `path` or beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    signed = sign(record)
    try:
        write_atomic(path, (json.dumps(signed, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    return signed
