"""Signed attempt records: HMAC-SHA256 over the record's canonical JSON, with a key kept in the user's config
folder (created on first use, file mode 0600)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from sim.errors import InputError
from sim.paths import key_file

ALGORITHM = "HMAC-SHA256"
MAX_RECORD_BYTES = 64 * 1024 * 1024


def load_key(create: bool = True) -> bytes:
    """The signing key; created (32 random bytes, mode 0600) the first time it is needed."""
    path = key_file()
    if not path.exists():
        if not create:
            raise InputError.one(str(path), "no signing key on this machine: records cannot be verified here")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return load_key(create=False)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    text = path.read_text().strip()
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
    """Sign and write atomically (temporary file, fsync, rename); returns the signed record."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    signed = sign(record)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(signed, indent=2, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return signed
